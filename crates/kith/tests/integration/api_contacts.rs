//! `/api/v1/contacts`: unique primary emails, phones, consent history and filters.

use crate::harness::TestApp;
use axum::http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn primary_email_is_unique_without_case() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);

    let first = api.json(Method::POST, "/api/v1/contacts", &json!({"first_name": "Maria", "last_name": "Lopez", "email": "maria.lopez@example.com"}), &[]).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let id = first.json()["id"].as_i64().expect("id");

    let again = api
        .json(
            Method::POST,
            "/api/v1/contacts",
            &json!({"first_name": "M", "email": "  Maria.Lopez@Example.com "}),
            &[],
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    let problem = again.json();
    assert_eq!(problem["errors"][0]["field"], "email");
    assert_eq!(
        problem["errors"][0]["message"],
        format!("is already the primary email of contact #{id}")
    );

    // The same address in another workspace is fine.
    app.tenant("Other", "owner@other.example").await;
    let other = app.token("owner@other.example", false).await;
    let elsewhere = app
        .api(&other)
        .json(
            Method::POST,
            "/api/v1/contacts",
            &json!({"first_name": "Maria", "email": "maria.lopez@example.com"}),
            &[],
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::CREATED);

    let plus = api
        .json(
            Method::POST,
            "/api/v1/contacts",
            &json!({"first_name": "Maria", "email": "maria.lopez+crm@example.com"}),
            &[],
        )
        .await;
    assert_eq!(
        plus.status,
        StatusCode::CREATED,
        "+tags make a different address"
    );
}

#[tokio::test]
async fn phones_keep_what_was_typed_and_gain_e164() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let reply = app
        .api(&token)
        .json(
            Method::POST,
            "/api/v1/contacts",
            &json!({"first_name": "Priya", "last_name": "Shah", "phones": [
                {"label": "work", "number": "020 7946 0018"},
                {"label": "mobile", "number": "+1 (415) 293-3313"},
                {"number": "010-2030"}
            ]}),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    let phones = reply.json()["phones"].clone();
    assert_eq!(
        phones[0],
        json!({"label": "work", "number": "020 7946 0018", "e164": "+442079460018"})
    );
    assert_eq!(
        phones[1],
        json!({"label": "mobile", "number": "+1 (415) 293-3313", "e164": "+14152933313"})
    );
    assert_eq!(
        phones[2],
        json!({"label": "work", "number": "010-2030", "e164": null}),
        "kept although not recognised"
    );
}

#[tokio::test]
async fn consent_changes_are_kept_with_time_and_source() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);

    let created = api
        .json(
            Method::POST,
            "/api/v1/contacts",
            &json!({"first_name": "Ana", "email": "ana@example.com", "preferred_channel": "none"}),
            &[],
        )
        .await;
    let contact = created.json();
    assert_eq!(contact["preferred_channel"], "none");
    assert_eq!(contact["opt_out"]["email"]["opted_out"], false);
    let id = contact["id"].as_i64().expect("id");

    let path = format!("/api/v1/contacts/{id}");
    let opted = api
        .json(
            Method::PATCH,
            &path,
            &json!({"opt_out": {"email": true}}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(opted.status, StatusCode::OK, "{}", opted.text);
    let body = opted.json();
    assert_eq!(body["opt_out"]["email"]["opted_out"], true);
    assert_eq!(body["opt_out"]["email"]["source"], "api");
    assert!(body["opt_out"]["email"]["changed_at"].is_string());
    assert_eq!(body["opt_out"]["sms"]["opted_out"], false);

    let opted_out = api.get("/api/v1/contacts?opted_out=email").await.json();
    assert_eq!(opted_out["total"], 1);
    assert_eq!(
        api.get("/api/v1/contacts?opted_out=sms").await.json()["total"],
        0
    );

    let mut browser = app.signed_in("owner@acme.example").await;
    let page = browser.get(&format!("/crm/contacts/{id}")).await;
    assert!(
        page.text.contains("email opted out"),
        "the history shows the change: {}",
        page.text
    );
    assert!(page.text.contains("(api)"));
}

#[tokio::test]
async fn contacts_filter_by_client_type_and_tag() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let client = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Contoso"}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("id");
    for (first, types, tags, at_client) in [
        ("Ana", vec!["billing"], vec!["vip"], true),
        ("Ben", vec!["technical", "decision-maker"], vec![], true),
        ("Cy", vec!["billing"], vec!["vip"], false),
    ] {
        let body = json!({"first_name": first, "types": types, "tags": tags, "client": if at_client { Some(client) } else { None }});
        assert_eq!(
            api.json(Method::POST, "/api/v1/contacts", &body, &[])
                .await
                .status,
            StatusCode::CREATED
        );
    }
    let names = |v: serde_json::Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        names(
            api.get(&format!("/api/v1/contacts?client={client}&type=billing"))
                .await
                .json()
        ),
        ["Ana"]
    );
    assert_eq!(
        names(
            api.get("/api/v1/contacts?type=Decision%20maker")
                .await
                .json()
        ),
        ["Ben"]
    );
    assert_eq!(
        names(api.get("/api/v1/contacts?tag=VIP").await.json()),
        ["Ana", "Cy"]
    );
    let bad = api.get("/api/v1/contacts?type=boss").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["errors"][0]["field"], "type");
}
