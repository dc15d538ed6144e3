//! Quotes (SPEC §5.4): exact per-line rounding, per-tenant numbers, the version guard, "create
//! quote from deal", the form's line rows and the printable view.

use crate::harness::{Client, TestApp, escaped, extract_between};
use axum::http::{Method, StatusCode};
use kith_domain::Role;
use serde_json::{Value, json};

async fn owner_api(app: &TestApp, tenant: &str, email: &str) -> Client {
    app.tenant(tenant, email).await;
    let token = app.token(email, false).await;
    app.api(&token)
}

async fn client(api: &mut Client, name: &str) -> i64 {
    let reply = api
        .json(Method::POST, "/api/v1/clients", &json!({"name": name}), &[])
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json()["id"].as_i64().expect("id")
}

async fn quote(api: &mut Client, body: &Value) -> Value {
    let reply = api.json(Method::POST, "/api/v1/quotes", body, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json()
}

/// Four lines: 3 × 19.99 less 10 % plus 20 % tax; a recurring 12 × 45.50 plus 20 % tax; an
/// optional 999.00; and 1.5 × 0.99.
fn four_lines(client: i64) -> Value {
    json!({
        "client": client,
        "valid_until": "2027-03-31",
        "lines": [
            {"description": "Managed endpoints", "quantity": "3", "unit_price": 1999, "discount_percent": 10, "tax_percent": 20},
            {"description": "Cloud backup", "quantity": 12, "unit_price": 4550, "tax_percent": 20, "recurring": true},
            {"description": "On-site day", "unit_price": 99900, "tax_percent": 20, "optional": true},
            {"description": "Patch cables", "quantity": 1.5, "unit_price": 99},
        ]
    })
}

#[tokio::test]
async fn totals_are_exact_to_the_cent_through_the_api() {
    let app = TestApp::new().await;
    let mut api = owner_api(&app, "Acme", "owner@acme.example").await;
    let contoso = client(&mut api, "Contoso").await;

    let created = quote(&mut api, &four_lines(contoso)).await;
    let figures = |line: &Value| {
        [
            line["net"].as_i64(),
            line["discount"].as_i64(),
            line["tax"].as_i64(),
            line["total"].as_i64(),
        ]
        .map(Option::unwrap_or_default)
    };
    let lines = created["lines"].as_array().expect("lines");
    assert_eq!(figures(&lines[0]), [5997, 600, 1079, 6476]);
    assert_eq!(figures(&lines[1]), [54600, 0, 10920, 65520]);
    assert_eq!(figures(&lines[2]), [99900, 0, 19980, 119880]);
    // 1.5 × 0.99 = 1.485, rounded half away from zero.
    assert_eq!(figures(&lines[3]), [149, 0, 0, 149]);
    let quantities: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["quantity"].as_str())
        .collect();
    assert_eq!(quantities, ["3", "12", "1", "1.5"]);

    // The optional line is shown but not counted; the recurring one counts and is summed apart.
    assert_eq!(
        [
            &created["subtotal"],
            &created["discount"],
            &created["tax"],
            &created["total"],
            &created["recurring_total"]
        ],
        [
            &json!(60746),
            &json!(600),
            &json!(11999),
            &json!(72145),
            &json!(65520)
        ]
    );
    assert_eq!(created["number"], 1);
    assert_eq!(created["status"], "draft");
    assert_eq!(created["currency"], "USD");
    assert_eq!(created["client_name"], "Contoso");
    assert_eq!(created["valid_until"], "2027-03-31");

    let id = created["id"].as_i64().expect("id");
    let read = api.get(&format!("/api/v1/quotes/{id}")).await;
    assert_eq!(read.header("etag"), "\"1\"");
    assert_eq!(read.json(), created);
    let listed = api
        .get(&format!("/api/v1/quotes?client={contoso}"))
        .await
        .json();
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["total"], 72145);

    // The page and the printable view show the same figures.
    let mut browser = app.signed_in("owner@acme.example").await;
    for path in [
        format!("/crm/quotes/{id}"),
        format!("/crm/quotes/{id}/print"),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.text.contains("USD 721.45"), "{path}");
        assert!(
            page.text.contains("USD 655.20"),
            "{path}: the recurring total"
        );
        assert!(page.text.contains(">607.46<"), "{path}: the subtotal");
        assert!(page.text.contains(">−6.00<"), "{path}: the discount");
        assert!(page.text.contains(">119.99<"), "{path}: the tax");
    }
}

#[tokio::test]
async fn bad_quotes_name_the_field_and_save_nothing() {
    let app = TestApp::new().await;
    let acme = app.tenant("Acme", "owner@acme.example").await;
    let mut api = app.api(&app.token("owner@acme.example", false).await);
    let contoso = client(&mut api, "Contoso").await;

    let reply = api
        .json(
            Method::POST,
            "/api/v1/quotes",
            &json!({"status": "won", "lines": [
                {"description": "Firewall", "quantity": "1.255", "unit_price": 100},
                {"description": "", "unit_price": 100, "tax_percent": 120},
            ]}),
            &[],
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.text
    );
    let problem = reply.json();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        [
            "client",
            "status",
            "lines[0].quantity",
            "lines[1].description",
            "lines[1].tax_percent"
        ]
    );

    let no_lines = api
        .json(
            Method::POST,
            "/api/v1/quotes",
            &json!({"client": contoso, "lines": []}),
            &[],
        )
        .await;
    assert_eq!(no_lines.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_lines.json()["errors"][0]["field"], "lines");
    assert_eq!(api.get("/api/v1/quotes").await.json()["total"], 0);

    app.user(acme, "viewer@acme.example", Role::Viewer).await;
    let token = app.token("viewer@acme.example", false).await;
    let refused = app
        .api(&token)
        .json(Method::POST, "/api/v1/quotes", &four_lines(contoso), &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn numbers_run_per_tenant() {
    let app = TestApp::new().await;
    let mut alpha = owner_api(&app, "Alpha", "owner@alpha.example").await;
    let mut bravo = owner_api(&app, "Bravo", "owner@bravo.example").await;
    let alpha_client = client(&mut alpha, "Contoso").await;
    let bravo_client = client(&mut bravo, "Fabrikam").await;

    let mut numbers = Vec::new();
    for _ in 0..3 {
        numbers.push(quote(&mut alpha, &four_lines(alpha_client)).await["number"].clone());
    }
    assert_eq!(numbers, [json!(1), json!(2), json!(3)]);
    let first_of_bravo = quote(&mut bravo, &four_lines(bravo_client)).await;
    assert_eq!(first_of_bravo["number"], 1, "each tenant counts on its own");

    // Two quotes created at the same moment get different numbers.
    let (mut one, mut two) = (
        app.api(&app.token("owner@alpha.example", false).await),
        alpha,
    );
    let body = four_lines(alpha_client);
    let (a, b) = tokio::join!(
        one.json(Method::POST, "/api/v1/quotes", &body, &[]),
        two.json(Method::POST, "/api/v1/quotes", &body, &[]),
    );
    assert_eq!(
        (a.status, b.status),
        (StatusCode::CREATED, StatusCode::CREATED),
        "{} {}",
        a.text,
        b.text
    );
    let mut pair = [a.json()["number"].as_i64(), b.json()["number"].as_i64()];
    pair.sort();
    assert_eq!(pair, [Some(4), Some(5)]);

    let mut browser = app.signed_in("owner@alpha.example").await;
    let list = browser.get("/crm/quotes").await;
    assert!(list.text.contains("Q-0005") && list.text.contains("Q-0001"));
    assert!(!list.text.contains("Fabrikam"));
}

#[tokio::test]
async fn a_stale_patch_changes_nothing() {
    let app = TestApp::new().await;
    let mut api = owner_api(&app, "Acme", "owner@acme.example").await;
    let contoso = client(&mut api, "Contoso").await;
    let created = quote(&mut api, &four_lines(contoso)).await;
    let path = format!("/api/v1/quotes/{}", created["id"]);

    let missing = api
        .json(Method::PATCH, &path, &json!({"status": "sent"}), &[])
        .await;
    assert_eq!(missing.status, StatusCode::PRECONDITION_REQUIRED);

    let sent = api
        .json(
            Method::PATCH,
            &path,
            &json!({"status": "sent", "lines": [{"description": "Firewall", "quantity": "2", "unit_price": 50000, "tax_percent": 20}]}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    let sent = sent.json();
    assert_eq!(
        (&sent["status"], &sent["version"]),
        (&json!("sent"), &json!(2))
    );
    assert_eq!(
        sent["lines"].as_array().map(Vec::len),
        Some(1),
        "lines are replaced"
    );
    assert_eq!(
        (&sent["total"], &sent["recurring_total"]),
        (&json!(120000), &json!(0))
    );
    assert_eq!(
        sent["valid_until"], "2027-03-31",
        "fields not sent are kept"
    );

    let stale = api
        .json(
            Method::PATCH,
            &path,
            &json!({"status": "declined"}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
    assert_eq!(stale.json()["current"]["version"], 2);
    assert_eq!(api.get(&path).await.json(), sent, "nothing was overwritten");

    let stale_delete = api
        .send(
            Method::DELETE,
            &path,
            None,
            Vec::new(),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(stale_delete.status, StatusCode::CONFLICT);
    let deleted = api
        .send(
            Method::DELETE,
            &path,
            None,
            Vec::new(),
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(api.get(&path).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_deal_becomes_a_draft_quote() {
    let app = TestApp::new().await;
    let mut api = owner_api(&app, "Acme", "owner@acme.example").await;
    let contoso = client(&mut api, "Contoso").await;
    let deal = api
        .json(
            Method::POST,
            "/api/v1/deals",
            &json!({"title": "Managed services", "client": contoso, "value": 1234550, "currency": "EUR",
                    "recurring_value": 9900, "recurring_period": "monthly"}),
            &[],
        )
        .await;
    assert_eq!(deal.status, StatusCode::CREATED, "{}", deal.text);
    let deal = deal.json()["id"].as_i64().expect("id");

    let reply = api
        .json(
            Method::POST,
            &format!("/api/v1/deals/{deal}/quote"),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let draft = reply.json();
    assert_eq!(
        reply.header("location"),
        format!("/api/v1/quotes/{}", draft["id"])
    );
    assert_eq!(
        (
            &draft["client"],
            &draft["deal"],
            &draft["currency"],
            &draft["status"]
        ),
        (
            &json!(contoso),
            &json!(deal),
            &json!("EUR"),
            &json!("draft")
        )
    );
    let lines: Vec<(&str, &str, i64, bool)> = draft["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["description"].as_str().unwrap_or_default(),
                l["quantity"].as_str().unwrap_or_default(),
                l["unit_price"].as_i64().unwrap_or_default(),
                l["recurring"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("Managed services", "1", 1234550, false),
            ("Managed services (monthly)", "1", 9900, true)
        ]
    );
    assert_eq!(
        (&draft["total"], &draft["recurring_total"]),
        (&json!(1244450), &json!(9900))
    );

    // The deal's page lists its quotes and offers another.
    let mut browser = app.signed_in("owner@acme.example").await;
    let page = browser.get(&format!("/crm/deals/{deal}")).await;
    assert!(
        page.text
            .contains(&format!("href=\"/crm/quotes/{}\">Q-0001</a>", draft["id"]))
    );
    assert!(
        page.text
            .contains(&format!("action=\"/crm/deals/{deal}/quote\""))
    );
    let options = browser
        .get(&format!(
            "/crm/quotes/deal-options?client=Contoso+%28%23{contoso}%29"
        ))
        .await;
    assert!(options.text.contains(&format!(
        "<option value=\"{deal}\">Managed services — EUR 12,345.50</option>"
    )));
    let second = browser
        .post_form(&format!("/crm/deals/{deal}/quote"), &[])
        .await;
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.text);
    let shown = browser.get(second.header("location")).await;
    assert!(shown.text.contains("Quote Q-0002"));
    assert!(shown.text.contains("EUR 12,444.50"));

    // A deal without a client cannot be quoted; another tenant's or a missing deal is 404.
    let lone = api
        .json(
            Method::POST,
            "/api/v1/deals",
            &json!({"title": "No client yet", "value": 100}),
            &[],
        )
        .await
        .json();
    let refused = api
        .json(
            Method::POST,
            &format!("/api/v1/deals/{}/quote", lone["id"]),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert_eq!(refused.json()["errors"][0]["field"], "client");
    let missing = api
        .json(Method::POST, "/api/v1/deals/999999/quote", &json!({}), &[])
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Deleting the deal keeps its quotes; a client with quotes is not deleted.
    let deleted = api
        .send(
            Method::DELETE,
            &format!("/api/v1/deals/{deal}"),
            None,
            Vec::new(),
            &[],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    let kept = api
        .get(&format!("/api/v1/quotes/{}", draft["id"]))
        .await
        .json();
    assert_eq!(
        (&kept["deal"], &kept["total"]),
        (&Value::Null, &json!(1244450))
    );
    let client_delete = api
        .send(
            Method::DELETE,
            &format!("/api/v1/clients/{contoso}"),
            None,
            Vec::new(),
            &[],
        )
        .await;
    assert_eq!(
        client_delete.status,
        StatusCode::CONFLICT,
        "{}",
        client_delete.text
    );
    assert!(
        client_delete.json()["detail"]
            .as_str()
            .is_some_and(|d| d.contains("has 2 quotes"))
    );
}

#[tokio::test]
async fn the_form_names_the_row_at_fault_and_the_print_view_shows_markup_as_text() {
    let app = TestApp::new().await;
    let mut api = owner_api(&app, "Acme", "owner@acme.example").await;
    let contoso = client(&mut api, "Contoso").await;
    let mut browser = app.signed_in("owner@acme.example").await;

    let form = browser
        .get(&format!("/crm/quotes/new?client={contoso}"))
        .await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text.contains("value=\"Contoso (#"));
    assert_eq!(form.text.matches("name=\"line_description\"").count(), 5);

    let markup = "<img src=x onerror=alert(1)>";
    let client_field = format!("Contoso (#{contoso})");
    let rows = |price: &'static str| {
        vec![
            ("client", client_field.clone()),
            ("status", "draft".to_owned()),
            ("currency", "USD".to_owned()),
            // Row 1 is left blank and skipped.
            ("line_description", String::new()),
            ("line_quantity", String::new()),
            ("line_unit_price", String::new()),
            ("line_discount", String::new()),
            ("line_tax", String::new()),
            ("line_description", markup.to_owned()),
            ("line_quantity", "2".to_owned()),
            ("line_unit_price", price.to_owned()),
            ("line_discount", String::new()),
            ("line_tax", "20".to_owned()),
            ("line_description", "Support retainer".to_owned()),
            ("line_quantity", String::new()),
            ("line_unit_price", "100".to_owned()),
            ("line_discount", String::new()),
            ("line_tax", String::new()),
            // Checkboxes carry their row's index.
            ("line_recurring", "2".to_owned()),
        ]
    };

    let bad = rows("ten");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let invalid = browser.post_form("/crm/quotes", &bad).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        invalid
            .text
            .contains("Line 2: Unit price &#34;ten&#34; is not a number"),
        "{}",
        invalid.text
    );
    assert!(
        invalid.text.contains("value=\"ten\""),
        "typed values are kept"
    );
    assert!(invalid.text.contains(&escaped(markup)));
    assert_eq!(api.get("/api/v1/quotes").await.json()["total"], 0);

    let good = rows("30");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = browser.post_form("/crm/quotes", &good).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let location = saved.header("location").to_owned();
    let id = location.trim_start_matches("/crm/quotes/");
    let stored = api.get(&format!("/api/v1/quotes/{id}")).await.json();
    // 2 × 30.00 + 20 % tax = 72.00; 1 × 100.00, recurring.
    assert_eq!(
        (&stored["total"], &stored["recurring_total"]),
        (&json!(17200), &json!(10000))
    );
    assert_eq!(stored["lines"][0]["description"], markup);
    assert_eq!(stored["lines"][1]["recurring"], true);

    let print = browser.get(&format!("{location}/print")).await;
    assert_eq!(print.status, StatusCode::OK);
    assert!(
        print.text.contains(&escaped(markup)),
        "the description shows as text"
    );
    assert!(!print.text.contains(markup), "never as markup");
    assert!(print.text.contains("USD 172.00"));
    assert!(print.text.contains("Prepared for"));
    assert!(
        !print.text.contains("style="),
        "the CSP allows no inline styles"
    );

    // An edit from an old version is refused, showing the saved quote and the typed values.
    let edit = browser.get(&format!("{location}/edit")).await;
    let version = extract_between(&edit.text, "name=\"version\" value=\"", "\"").expect("version");
    assert_eq!(version, "1");
    assert_eq!(
        edit.text.matches("name=\"line_description\"").count(),
        5,
        "two lines, three spare"
    );
    let status = browser
        .post_form(
            &format!("{location}/status"),
            &[("status", "sent"), ("version", "1")],
        )
        .await;
    assert_eq!(status.status, StatusCode::SEE_OTHER);
    let mut stale: Vec<(&str, &str)> = good.clone();
    stale.push(("version", "1"));
    let conflict = browser.post_form(&location, &stale).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert!(conflict.text.contains("Someone else saved this quote"));
    let after = api.get(&format!("/api/v1/quotes/{id}")).await.json();
    assert_eq!(
        (&after["status"], &after["version"]),
        (&json!("sent"), &json!(2))
    );

    let list = browser.get("/crm/quotes?status=sent").await;
    assert!(list.text.contains(&format!("href=\"{location}\"")));
    let none = browser.get("/crm/quotes?status=declined").await;
    assert!(none.text.contains("No quotes match these filters."));
}

#[tokio::test]
async fn a_number_taken_meanwhile_is_not_given_twice() {
    use kith_domain::quote::{LineInput, QuoteFields, QuoteInput};
    use kith_store::quotes;

    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let mut api = app.api(&app.token("owner@acme.example", false).await);
    let contoso = client(&mut api, "Contoso").await;
    let input = QuoteInput {
        client_id: Some(contoso),
        lines: vec![LineInput {
            description: "Firewall".into(),
            unit_price: Some("10".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let fields = QuoteFields::parse(&input, "USD").expect("valid");

    // The first writer takes number 1 and holds its transaction open. The second reads the
    // same highest number (PostgreSQL) or waits for the lock (SQLite); either way, once the
    // first commits, the second ends with number 2.
    let mut first = app.db.begin().await.expect("begin");
    let one = quotes::create(&mut first, tenant, &fields)
        .await
        .expect("first");
    let db = app.db.clone();
    let second_fields = fields.clone();
    let second = tokio::spawn(async move {
        let mut tx = db.begin().await?;
        let created = quotes::create(&mut tx, tenant, &second_fields).await;
        tx.finish(created).await
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    first.commit().await.expect("commit");
    let two = second.await.expect("joined").expect("second");
    assert_eq!((one.number, two.number), (1, 2));
}

#[tokio::test]
async fn a_new_currency_needs_lines_priced_in_it() {
    let app = TestApp::new().await;
    let mut api = owner_api(&app, "Acme", "owner@acme.example").await;
    let contoso = client(&mut api, "Contoso").await;
    let created = quote(&mut api, &four_lines(contoso)).await;
    let path = format!("/api/v1/quotes/{}", created["id"]);

    let bare = api
        .json(
            Method::PATCH,
            &path,
            &json!({"currency": "JPY"}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(
        bare.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bare.text
    );
    assert_eq!(bare.json()["errors"][0]["field"], "currency");
    let kept = api.get(&path).await.json();
    assert_eq!(
        (&kept["currency"], &kept["total"], &kept["version"]),
        (&json!("USD"), &created["total"], &json!(1)),
        "nothing changed"
    );

    let repriced = api
        .json(
            Method::PATCH,
            &path,
            &json!({"currency": "JPY", "lines": [{"description": "Firewall", "quantity": "2", "unit_price": 5000}]}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(repriced.status, StatusCode::OK, "{}", repriced.text);
    let repriced = repriced.json();
    assert_eq!(
        (&repriced["currency"], &repriced["total"]),
        (&json!("JPY"), &json!(10000))
    );
}
