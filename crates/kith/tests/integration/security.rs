//! Roles, CSRF protection, and markup shown as text everywhere.

use crate::harness::{TestApp, escaped};
use axum::http::{Method, StatusCode};
use kith_domain::Role;
use serde_json::json;

#[tokio::test]
async fn a_viewers_writes_are_refused() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    app.user(tenant, "viewer@acme.example", Role::Viewer).await;

    let mut viewer = app.signed_in("viewer@acme.example").await;
    assert_eq!(
        viewer.get("/crm/clients").await.status,
        StatusCode::OK,
        "viewers read"
    );
    let form = viewer
        .post_form("/crm/clients", &[("name", "Viewer Co")])
        .await;
    assert_eq!(form.status, StatusCode::FORBIDDEN);
    assert!(
        form.text
            .contains("Viewers can look but not change records.")
    );
    assert_eq!(
        viewer.get("/crm/clients/new").await.status,
        StatusCode::FORBIDDEN
    );

    let token = app.token("viewer@acme.example", false).await;
    let api = app
        .api(&token)
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Viewer Co"}),
            &[],
        )
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert_eq!(api.header("content-type"), "application/problem+json");

    let owner_token = app.token("owner@acme.example", true).await;
    let read_only = app
        .api(&owner_token)
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Token Co"}),
            &[],
        )
        .await;
    assert_eq!(read_only.status, StatusCode::FORBIDDEN);
    assert_eq!(read_only.json()["detail"], "This API token is read-only.");

    let listed = app.api(&owner_token).get("/api/v1/clients").await.json();
    assert_eq!(listed["total"], 0, "no refused write left anything behind");
}

#[tokio::test]
async fn forms_need_the_csrf_token_and_the_same_origin() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let mut browser = app.signed_in("owner@acme.example").await;
    let csrf = browser.csrf().expect("csrf token");

    let missing = browser
        .post_raw_form("/crm/clients", &[("name", "No Token Co")], &[])
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(
        missing
            .text
            .contains("security token is missing or out of date")
    );

    let wrong = browser
        .post_raw_form(
            "/crm/clients",
            &[("name", "Wrong Token Co"), ("csrf_token", "forged")],
            &[],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);

    let foreign = browser
        .post_raw_form(
            "/crm/clients",
            &[("name", "Foreign Co"), ("csrf_token", &csrf)],
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert!(foreign.text.contains("came from another site"));

    let cross_site = browser
        .post_raw_form(
            "/crm/clients",
            &[("name", "Cross Co"), ("csrf_token", &csrf)],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);

    let same = browser
        .post_raw_form(
            "/crm/clients",
            &[("name", "Good Co"), ("csrf_token", &csrf)],
            &[("origin", "http://kith.test")],
        )
        .await;
    assert_eq!(same.status, StatusCode::SEE_OTHER, "{}", same.text);

    let list = browser.get("/crm/clients").await;
    assert!(list.text.contains("Good Co"));
    for refused in ["No Token Co", "Wrong Token Co", "Foreign Co", "Cross Co"] {
        assert!(!list.text.contains(refused), "{refused} was saved");
    }

    // JSON sent with the session cookie needs the header token too.
    let json_without = browser
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Fetch Co"}),
            &[],
        )
        .await;
    assert_eq!(json_without.status, StatusCode::FORBIDDEN);
    let json_with = browser
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Fetch Co"}),
            &[("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(json_with.status, StatusCode::CREATED, "{}", json_with.text);
}

const IMG: &str = r#""><img src=x onerror=alert(1)>"#;
const SVG: &str = "<svg/onload=alert(2)>";
const SCRIPT: &str = "<script>alert(3)</script><b>ok</b>";

#[tokio::test]
async fn c25_markup_in_names_and_notes_shows_as_text() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);

    let client = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": IMG, "notes": SCRIPT, "tags": [SVG]}),
            &[],
        )
        .await;
    assert_eq!(client.status, StatusCode::CREATED, "{}", client.text);
    let client = client.json();
    assert_eq!(client["name"], IMG, "stored unchanged");
    assert_eq!(client["notes"], SCRIPT);
    let client_id = client["id"].as_i64().expect("id");

    let contact = api
        .json(Method::POST, "/api/v1/contacts", &json!({"first_name": IMG, "last_name": SVG, "notes": SCRIPT, "title": SCRIPT, "client": client_id}), &[])
        .await;
    assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.text);
    let contact = contact.json();
    assert_eq!(contact["first_name"], IMG);
    assert_eq!(contact["last_name"], SVG);
    let contact_id = contact["id"].as_i64().expect("id");

    let mut browser = app.signed_in("owner@acme.example").await;
    let pages = [
        "/".to_owned(),
        "/crm/clients".to_owned(),
        format!("/crm/clients/{client_id}"),
        format!("/crm/clients/{client_id}/edit"),
        "/crm/contacts".to_owned(),
        format!("/crm/contacts/{contact_id}"),
        format!("/crm/contacts/{contact_id}/edit"),
        "/search?q=img".to_owned(),
        "/crm/clients/options?q=img".to_owned(),
    ];
    for page in pages {
        let reply = browser.get(&page).await;
        assert_eq!(reply.status, StatusCode::OK, "{page}");
        for raw in ["<img src=x", "<svg/onload", "<script>alert", "<b>ok</b>"] {
            assert!(!reply.text.contains(raw), "{page} contains raw {raw}");
        }
        assert!(
            reply.text.contains(&escaped(IMG)),
            "{page} does not show the name as text: {}",
            reply.text
        );
    }
    let show = browser.get(&format!("/crm/contacts/{contact_id}")).await;
    assert!(show.text.contains(&escaped(SCRIPT)));
    assert!(
        show.headers
            .get("content-security-policy")
            .is_some_and(|v| v.to_str().unwrap_or_default().contains("script-src 'self'"))
    );

    let listed = api.get("/api/v1/contacts?search=svg").await.json();
    assert_eq!(listed["items"][0]["last_name"], SVG);
    assert_eq!(
        api.get("/api/v1/clients").await.header("content-type"),
        "application/json"
    );
}

#[tokio::test]
async fn websites_only_link_to_http() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let reply = app
        .api(&token)
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Acme", "website": "javascript:alert(1)"}),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let problem = reply.json();
    assert_eq!(problem["errors"][0]["field"], "website");
    assert_eq!(
        problem["errors"][0]["message"],
        "must start with http:// or https://"
    );
}
