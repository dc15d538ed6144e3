//! The HTML forms: create, edit (with a stale-version guard), validation messages, delete.

use crate::harness::{TestApp, escaped, extract_between};
use axum::http::StatusCode;

#[tokio::test]
async fn a_client_is_created_edited_and_deleted_through_the_forms() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let mut browser = app.signed_in("owner@acme.example").await;

    let invalid = browser
        .post_form(
            "/crm/clients",
            &[
                ("name", ""),
                ("website", "ftp://x.example"),
                ("industry", "Retail"),
            ],
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        invalid
            .text
            .contains("Please correct the fields marked below. Nothing was saved.")
    );
    assert!(
        invalid
            .text
            .contains("<p class=\"field-error\">is required</p>")
    );
    assert!(
        invalid
            .text
            .contains("<p class=\"field-error\">must start with http:// or https://</p>")
    );
    assert!(
        invalid.text.contains("<option selected>Retail</option>"),
        "typed values are kept"
    );

    let created = browser
        .post_form(
            "/crm/clients",
            &[
                ("name", "Contoso Freight"),
                ("industry", "Transportation"),
                ("lifecycle", "Customer"),
                ("tags", "vip, north"),
                ("website", "contoso.example"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text);
    let location = created.header("location").to_owned();
    let id: i64 = location
        .trim_start_matches("/crm/clients/")
        .parse()
        .expect("client id in the redirect");

    let show = browser.get(&location).await;
    assert!(show.text.contains("<h1>Contoso Freight</h1>"));
    assert!(show.text.contains("href=\"https://contoso.example\""));
    assert!(
        show.text
            .contains("<span class=\"tag\">north</span><span class=\"tag\">vip</span>")
    );

    let edit = browser.get(&format!("/crm/clients/{id}/edit")).await;
    let version =
        extract_between(&edit.text, "name=\"version\" value=\"", "\"").expect("version field");
    assert_eq!(version, "1");

    let saved = browser
        .post_form(
            &location,
            &[
                ("name", "Contoso Freight Ltd"),
                ("industry", "Transportation"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);

    // A second tab still holding version 1 must not overwrite.
    let stale = browser
        .post_form(&location, &[("name", "Stale Tab Name"), ("version", "1")])
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale
            .text
            .contains("Someone else saved this client while you were editing.")
    );
    assert!(
        browser
            .get(&location)
            .await
            .text
            .contains("<h1>Contoso Freight Ltd</h1>")
    );

    let parent = browser
        .post_form("/crm/clients", &[("name", "Contoso Group")])
        .await;
    let parent_id: i64 = parent
        .header("location")
        .trim_start_matches("/crm/clients/")
        .parse()
        .expect("id");
    let linked = browser
        .post_form(
            &location,
            &[
                ("name", "Contoso Freight Ltd"),
                ("parent", "contoso group"),
                ("version", "2"),
            ],
        )
        .await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.text);
    assert!(browser.get(&location).await.text.contains(&format!(
        "<a href=\"/crm/clients/{parent_id}\">Contoso Group</a>"
    )));
    let cycle = browser
        .post_form(
            &format!("/crm/clients/{parent_id}"),
            &[
                ("name", "Contoso Group"),
                ("parent", &format!("Contoso Freight Ltd (#{id})")),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(cycle.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(cycle.text.contains("would make the client its own parent"));

    let contact = browser
        .post_form(
            "/crm/contacts",
            &[
                ("first_name", "Ana"),
                ("last_name", "Silva"),
                ("client", &format!("Contoso Freight Ltd (#{id})")),
                ("email", "ana@contoso.example"),
                ("phone_label", "work"),
                ("phone_number", "020 7946 0018"),
                ("types", "billing"),
                ("opt_out_sms", "1"),
            ],
        )
        .await;
    assert_eq!(contact.status, StatusCode::SEE_OTHER, "{}", contact.text);
    let client_page = browser.get(&location).await;
    assert!(client_page.text.contains(">Ana Silva</a>"));
    assert!(client_page.text.contains("020 7946 0018"));

    let deleted = browser
        .post_form(&format!("/crm/clients/{id}/delete"), &[("version", "3")])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.text);
    assert_eq!(browser.get(&location).await.status, StatusCode::NOT_FOUND);
    let contacts = browser.get("/crm/contacts").await;
    assert!(
        contacts.text.contains(">Ana Silva</a>"),
        "the contact stays without a client"
    );
    assert!(contacts.text.contains("opted out: sms"));
}

#[tokio::test]
async fn the_client_list_filters_live_and_keeps_filters_in_links() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let mut browser = app.signed_in("owner@acme.example").await;
    for (name, industry) in [
        ("Alpha Clinic", "Medical"),
        ("Beta Shop", "Retail"),
        ("Gamma Clinic", "Medical"),
    ] {
        browser
            .post_form("/crm/clients", &[("name", name), ("industry", industry)])
            .await;
    }
    let page = browser
        .get("/crm/clients?industry=Medical&search=clinic&sort=-name")
        .await;
    assert!(
        page.text.contains("hx-push-url=\"true\""),
        "filters update the URL"
    );
    let gamma = page.text.find(">Gamma Clinic<").expect("gamma");
    let alpha = page.text.find(">Alpha Clinic<").expect("alpha");
    assert!(gamma < alpha, "sorted by name descending");
    assert!(!page.text.contains(">Beta Shop<"));
    assert!(
        page.text
            .contains("1–2 of <strong class=\"total\">2</strong>")
    );

    let unknown = browser.get("/crm/clients?industry=Mining").await;
    assert!(
        unknown
            .text
            .contains(&escaped("Filter industry: \"Mining\" is not in the list"))
    );
}

#[tokio::test]
async fn settings_manage_tokens_users_and_lists() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let mut browser = app.signed_in("owner@acme.example").await;

    let created = browser
        .post_form(
            "/settings/tokens",
            &[("name", "PSA sync"), ("read_only", "1")],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    let token = extract_between(
        &created.text,
        "<code class=\"secret\" id=\"new-token\">",
        "</code>",
    )
    .expect("token shown once");
    assert!(token.starts_with("kith_"));
    let listed = app.api(&token).get("/api/v1/clients").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(
        !browser.get("/settings").await.text.contains(&token),
        "never shown again"
    );

    let added = browser
        .post_form(
            "/settings/users",
            &[
                ("name", "Vic"),
                ("email", "vic@acme.example"),
                ("password", "long enough pw"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    let duplicate = browser
        .post_form(
            "/settings/users",
            &[
                ("name", "Vic"),
                ("email", "VIC@acme.example"),
                ("password", "long enough pw"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(duplicate.text.contains("is already used by another user"));

    let list_added = browser
        .post_form(
            "/settings/lists",
            &[("list", "industry"), ("label", "Logistics")],
        )
        .await;
    assert_eq!(list_added.status, StatusCode::SEE_OTHER);
    let client = browser
        .post_form(
            "/crm/clients",
            &[("name", "Shipper"), ("industry", "logistics")],
        )
        .await;
    assert_eq!(client.status, StatusCode::SEE_OTHER, "{}", client.text);
    let tenant = kith_store::tenants::find_by_name(&app.db, "Acme")
        .await
        .expect("lookup")
        .expect("tenant");
    let lists = kith_store::picklists::load(&app.db, kith_domain::TenantId(tenant.id))
        .await
        .expect("lists");
    let value = lists
        .values
        .into_iter()
        .find(|v| v.label == "Logistics")
        .expect("Logistics is in the list");
    let refused = browser
        .post_form(&format!("/settings/lists/{}/delete", value.id), &[])
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.text.contains("1 client(s) still use this value."));
}
