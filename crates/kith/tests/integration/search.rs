//! Case C16 and §11: search ignores case, accents (composed or decomposed) and apostrophes,
//! matches substrings, and takes `%`, `_`, `\` and `+` literally — the same on clients and
//! contacts, in the pages and the API; activity notes are found the same way.

use crate::harness::TestApp;
use axum::http::{Method, StatusCode};
use serde_json::json;

fn enc(query: &str) -> String {
    form_urlencoded::byte_serialize(query.as_bytes()).collect()
}

async fn names(api: &mut crate::harness::Client, list: &str, query: &str) -> Vec<String> {
    let path = format!("/api/v1/{list}?search={}&sort=name", enc(query));
    let reply = api.get(&path).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
    reply.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

// C16's note is an activity of type Note: the activity log and the global search find it.
// Notes on the client and contact records themselves are not searched, by choice, to keep
// that index to identifying fields.
#[tokio::test]
async fn c16_search_ignores_case_accents_and_normal_form() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    for name in [
        "Häusler AG",
        "Hausler Ltd",
        "Café Lumière",
        "Brückner & Sohn GmbH",
    ] {
        assert_eq!(
            api.json(Method::POST, "/api/v1/clients", &json!({"name": name}), &[])
                .await
                .status,
            StatusCode::CREATED
        );
    }
    // "José García" stored decomposed: e + U+0301, i + U+0301.
    let decomposed = json!({"first_name": "Jose\u{301}", "last_name": "Garci\u{301}a", "email": "jose.garcia@example.com"});
    assert_eq!(
        api.json(Method::POST, "/api/v1/contacts", &decomposed, &[])
            .await
            .status,
        StatusCode::CREATED
    );
    let obrien = json!({"first_name": "Liam", "last_name": "O\u{2019}Brien", "email": "liam+crm@example.com"});
    assert_eq!(
        api.json(Method::POST, "/api/v1/contacts", &obrien, &[])
            .await
            .status,
        StatusCode::CREATED
    );

    assert_eq!(
        names(&mut api, "clients", "häus").await,
        ["Häusler AG", "Hausler Ltd"]
    );
    assert_eq!(
        names(&mut api, "clients", "hausler").await,
        ["Häusler AG", "Hausler Ltd"]
    );
    assert_eq!(
        names(&mut api, "clients", "HAUS").await,
        ["Häusler AG", "Hausler Ltd"]
    );
    assert_eq!(
        names(&mut api, "clients", "cafe lumiere").await,
        ["Café Lumière"]
    );
    assert_eq!(
        names(&mut api, "clients", "& sohn").await,
        ["Brückner & Sohn GmbH"]
    );

    let jose = "Jose\u{301} Garci\u{301}a";
    for query in ["jose garcia", "JOSÉ", "García", "Garci\u{301}a", "arc"] {
        assert_eq!(
            names(&mut api, "contacts", query).await,
            [jose],
            "query {query}"
        );
    }
    for query in ["obrien", "O'Brien", "o’brien", "brien"] {
        assert_eq!(
            names(&mut api, "contacts", query).await,
            ["Liam O\u{2019}Brien"],
            "query {query}"
        );
    }
    assert_eq!(
        names(&mut api, "contacts", "liam+crm@").await,
        ["Liam O\u{2019}Brien"],
        "+ is a plus"
    );
    assert!(names(&mut api, "contacts", "liam crm").await.is_empty());

    let note = json!({"type": "Note", "subject": "ACME renewal call", "occurred_at": "2025-05-18T08:00:00Z"});
    assert_eq!(
        api.json(Method::POST, "/api/v1/activities", &note, &[])
            .await
            .status,
        StatusCode::CREATED
    );
    for query in ["acme", "ACME RENEWAL", "renewal call"] {
        let found = api
            .get(&format!("/api/v1/activities?search={}", enc(query)))
            .await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.text);
        let items = found.json()["items"].clone();
        let subjects: Vec<&str> = items
            .as_array()
            .expect("items")
            .iter()
            .map(|a| a["subject"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(subjects, ["ACME renewal call"], "query {query}");
    }
    let everywhere = api.get("/api/v1/search?q=acme").await.json();
    assert_eq!(everywhere["activity_total"], 1);
    assert_eq!(everywhere["activities"][0]["name"], "ACME renewal call");
    assert_eq!(everywhere["activities"][0]["detail"], "18 May 2025");
}

#[tokio::test]
async fn c16_search_takes_wildcards_literally() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    for name in [
        "100% Uptime Ltd",
        "Under_score Inc",
        r"Back\slash Co",
        "Plain Co",
    ] {
        assert_eq!(
            api.json(Method::POST, "/api/v1/clients", &json!({"name": name}), &[])
                .await
                .status,
            StatusCode::CREATED
        );
    }
    assert_eq!(
        names(&mut api, "clients", "% up").await,
        ["100% Uptime Ltd"]
    );
    assert_eq!(
        names(&mut api, "clients", "0%_").await,
        Vec::<String>::new(),
        "_ is no wildcard"
    );
    assert_eq!(names(&mut api, "clients", "r_s").await, ["Under_score Inc"]);
    assert_eq!(
        names(&mut api, "clients", "r%s").await,
        Vec::<String>::new(),
        "% is no wildcard"
    );
    assert_eq!(names(&mut api, "clients", r"k\s").await, [r"Back\slash Co"]);
    assert_eq!(
        names(&mut api, "clients", "lain").await,
        ["Plain Co"],
        "three characters match anywhere"
    );
}

#[tokio::test]
async fn one_or_two_letters_match_the_start_of_names() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    for name in ["Contoso", "Cobalt Co", "Acme Co", "Wunsch AG"] {
        api.json(Method::POST, "/api/v1/clients", &json!({"name": name}), &[])
            .await;
    }
    for (first, last) in [("Chen", "Wu"), ("Ana", "Wunsch"), ("Wu", "Silva")] {
        api.json(
            Method::POST,
            "/api/v1/contacts",
            &json!({"first_name": first, "last_name": last}),
            &[],
        )
        .await;
    }
    assert_eq!(
        names(&mut api, "clients", "co").await,
        ["Cobalt Co", "Contoso"]
    );
    assert_eq!(
        names(&mut api, "clients", "C").await,
        ["Cobalt Co", "Contoso"]
    );
    assert_eq!(
        names(&mut api, "contacts", "wu").await,
        ["Chen Wu", "Ana Wunsch"],
        "last names first"
    );
    assert_eq!(
        names(&mut api, "contacts", "wü").await,
        ["Chen Wu", "Ana Wunsch"],
        "folded too"
    );
}

#[tokio::test]
async fn global_search_groups_results_by_type() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let client = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Northwind Traders"}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64();
    api.json(
        Method::POST,
        "/api/v1/contacts",
        &json!({"first_name": "Nora", "last_name": "Northwind", "client": client}),
        &[],
    )
    .await;
    api.json(
        Method::POST,
        "/api/v1/contacts",
        &json!({"first_name": "Sam", "last_name": "Other"}),
        &[],
    )
    .await;

    let results = api.get("/api/v1/search?q=northwind").await.json();
    assert_eq!(results["client_total"], 1);
    assert_eq!(results["clients"][0]["name"], "Northwind Traders");
    assert_eq!(results["contact_total"], 1);
    assert_eq!(results["contacts"][0]["name"], "Nora Northwind");
    assert_eq!(results["contacts"][0]["detail"], "Northwind Traders");

    let mut browser = app.signed_in("owner@acme.example").await;
    let page = browser.get("/search?q=NORTHWIND").await;
    assert!(page.text.contains(">Northwind Traders</a>"));
    assert!(page.text.contains(">Nora Northwind</a>"));
    assert!(!page.text.contains("Sam Other"));
}

/// Names of one API list page, and its cursor.
async fn page_of(api: &mut crate::harness::Client, path: &str) -> (Vec<String>, Option<String>) {
    let reply = api.get(path).await;
    assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
    let body = reply.json();
    let names = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    (names, body["next_cursor"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn searches_list_newest_first_unless_a_sort_is_chosen() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    for name in [
        "Beta Networks",
        "Alpha Networks",
        "Gamma Networks",
        "Delta Foods",
    ] {
        api.json(Method::POST, "/api/v1/clients", &json!({"name": name}), &[])
            .await;
    }

    let reply = api.get("/api/v1/clients?search=networks").await;
    let body = reply.json();
    assert_eq!(body["total"], 3);
    assert_eq!(body["total_capped"], false);
    let (newest, _) = page_of(&mut api, "/api/v1/clients?search=networks").await;
    assert_eq!(
        newest,
        ["Gamma Networks", "Alpha Networks", "Beta Networks"]
    );
    let (by_name, _) = page_of(&mut api, "/api/v1/clients?search=networks&sort=name").await;
    assert_eq!(
        by_name,
        ["Alpha Networks", "Beta Networks", "Gamma Networks"]
    );
    let (unsearched, _) = page_of(&mut api, "/api/v1/clients").await;
    assert_eq!(
        unsearched,
        [
            "Alpha Networks",
            "Beta Networks",
            "Delta Foods",
            "Gamma Networks"
        ],
        "without a search the list stays in name order"
    );

    // One row a page, following cursors: every match once, newest first.
    let mut seen = Vec::new();
    let mut path = "/api/v1/clients?search=networks&limit=1".to_owned();
    loop {
        let (names, cursor) = page_of(&mut api, &path).await;
        seen.extend(names);
        let Some(cursor) = cursor else { break };
        path = format!("/api/v1/clients?search=networks&limit=1&cursor={cursor}");
    }
    assert_eq!(seen, ["Gamma Networks", "Alpha Networks", "Beta Networks"]);

    // The page says which order it shows, and its menu offers name order.
    let mut browser = app.signed_in("owner@acme.example").await;
    let page = browser.get("/crm/clients?search=networks").await;
    assert!(
        page.text
            .contains(r#"<option value="" selected>Newest first</option>"#),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains(r#"<option value="name">Name A–Z</option>"#)
    );
    let gamma = page.text.find("Gamma Networks").expect("Gamma listed");
    let beta = page.text.find("Beta Networks").expect("Beta listed");
    assert!(gamma < beta, "newest first on the page too");
}

#[tokio::test]
async fn counting_search_matches_stops_past_a_thousand() {
    use kith_domain::client::{ClientFields, ClientInput};
    use kith_store::{clients, picklists};

    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let lists = picklists::load(&app.db, tenant).await.expect("lists");
    let mut tx = app.db.begin().await.expect("begin");
    for n in 1..=1001 {
        let input = ClientInput {
            name: format!("Silva Holdings {n:04}"),
            ..Default::default()
        };
        let fields = ClientFields::parse(&input, &lists, "US").expect("valid");
        clients::create(&mut tx, tenant, &fields, None)
            .await
            .expect("created");
    }
    tx.commit().await.expect("commit");
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    api.json(
        Method::POST,
        "/api/v1/clients",
        &json!({"name": "Okafor Ltd"}),
        &[],
    )
    .await;

    let broad = api.get("/api/v1/clients?search=silva&limit=2").await.json();
    assert_eq!(broad["total"], 1000);
    assert_eq!(broad["total_capped"], true);
    let newest: Vec<&str> = broad["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(newest, ["Silva Holdings 1001", "Silva Holdings 1000"]);

    // Past the cap, name order still lists the right rows.
    let by_name = api
        .get("/api/v1/clients?search=silva&limit=2&sort=-name")
        .await
        .json();
    assert_eq!(by_name["items"][0]["name"], "Silva Holdings 1001");
    assert_eq!(by_name["items"][1]["name"], "Silva Holdings 1000");

    let narrow = api
        .get("/api/v1/clients?search=silva+holdings+09")
        .await
        .json();
    assert_eq!(narrow["total"], 100);
    assert_eq!(narrow["total_capped"], false);

    let unsearched = api.get("/api/v1/clients?limit=1").await.json();
    assert_eq!(
        unsearched["total"], 1002,
        "lists without a search count exactly"
    );
    assert_eq!(unsearched["total_capped"], false);

    let mut browser = app.signed_in("owner@acme.example").await;
    let page = browser.get("/crm/clients?search=silva").await;
    assert!(
        page.text
            .contains(r#"of <strong class="total">1000+</strong>"#),
        "{}",
        page.text
    );
}

#[tokio::test]
async fn global_search_finds_deals_by_title_too() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    for title in ["Café network refresh", "Backup renewal"] {
        let reply = api
            .json(
                Method::POST,
                "/api/v1/deals",
                &json!({"title": title, "value": 150000}),
                &[],
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    }
    let found = api.get("/api/v1/search?q=cafe+network").await.json();
    assert_eq!(found["deal_total"], 1);
    assert_eq!(found["deals"][0]["name"], "Café network refresh");
    assert_eq!(found["deals"][0]["detail"], "USD 1,500.00");
    let listed = api.get("/api/v1/deals?search=RENEWAL").await.json();
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["title"], "Backup renewal");

    let mut browser = app.signed_in("owner@acme.example").await;
    let page = browser.get("/search?q=backup").await;
    assert!(page.text.contains("Backup renewal"), "{}", page.text);
}
