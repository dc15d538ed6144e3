//! Users over time: roles change, people leave, passwords change; and edits that collide.

use crate::harness::{PASSWORD, TestApp};
use axum::http::{Method, StatusCode};
use kith_domain::Role;
use serde_json::json;

async fn user_id(app: &TestApp, email: &str) -> i64 {
    kith_store::users::find_for_login(&app.db, email)
        .await
        .expect("lookup")
        .expect("user")
        .0
        .id
}

#[tokio::test]
async fn admins_change_roles_and_remove_people_but_never_the_last_owner() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    app.user(tenant, "admin@acme.example", Role::Admin).await;
    app.user(tenant, "leaver@acme.example", Role::Member).await;
    let owner_id = user_id(&app, "owner@acme.example").await;
    let leaver_id = user_id(&app, "leaver@acme.example").await;

    // The leaver owns a client and has a token.
    let token = app.token("leaver@acme.example", false).await;
    let client = app
        .api(&token)
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Kept Co", "owner": leaver_id}),
            &[],
        )
        .await;
    assert_eq!(client.json()["owner"], leaver_id);

    let mut admin = app.signed_in("admin@acme.example").await;
    let promote = admin
        .post_form(
            &format!("/settings/users/{leaver_id}/role"),
            &[("role", "owner")],
        )
        .await;
    assert_eq!(
        promote.status,
        StatusCode::FORBIDDEN,
        "admins do not make owners"
    );
    let demote_owner = admin
        .post_form(
            &format!("/settings/users/{owner_id}/role"),
            &[("role", "member")],
        )
        .await;
    assert_eq!(demote_owner.status, StatusCode::FORBIDDEN);
    let to_viewer = admin
        .post_form(
            &format!("/settings/users/{leaver_id}/role"),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(to_viewer.status, StatusCode::SEE_OTHER);
    let refused = app
        .api(&token)
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Late Co"}),
            &[],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "the new role applies at once"
    );

    let removed = admin
        .post_form(&format!("/settings/users/{leaver_id}/delete"), &[])
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.text);
    assert_eq!(
        app.api(&token).get("/api/v1/clients").await.status,
        StatusCode::UNAUTHORIZED,
        "their token ended"
    );
    let mut gone = app.client();
    let login = gone
        .post_raw_form(
            "/login",
            &[("email", "leaver@acme.example"), ("password", PASSWORD)],
            &[],
        )
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    let owner_token = app.token("owner@acme.example", true).await;
    let kept = app
        .api(&owner_token)
        .get("/api/v1/clients?search=kept")
        .await
        .json();
    assert_eq!(
        kept["items"][0]["owner"],
        serde_json::Value::Null,
        "their client stays, unowned"
    );

    let mut owner = app.signed_in("owner@acme.example").await;
    let last = owner
        .post_form(
            &format!("/settings/users/{owner_id}/role"),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(last.status, StatusCode::CONFLICT);
    assert!(last.text.contains("only owner"));
    assert_eq!(
        owner
            .post_form(&format!("/settings/users/{owner_id}/delete"), &[])
            .await
            .status,
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let mut laptop = app.signed_in("owner@acme.example").await;
    let mut phone = app.signed_in("owner@acme.example").await;

    let wrong = laptop
        .post_form(
            "/settings/password",
            &[
                ("current_password", "not it at all"),
                ("new_password", "a new long password"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text.contains("is not your current password"));

    let changed = laptop
        .post_form(
            "/settings/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a new long password"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    assert_eq!(
        laptop.get("/settings").await.status,
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        phone.get("/settings").await.status,
        StatusCode::SEE_OTHER,
        "the other one ended"
    );
    let again = app
        .client()
        .post_raw_form(
            "/login",
            &[
                ("email", "owner@acme.example"),
                ("password", "a new long password"),
            ],
            &[],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn new_users_start_in_the_workspace_time_zone() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let mut owner = app.signed_in("owner@acme.example").await;
    owner
        .post_form(
            "/settings/profile",
            &[("name", "Owner"), ("time_zone", "America/New_York")],
        )
        .await;
    let added = owner
        .post_form(
            "/settings/users",
            &[
                ("name", "Vic"),
                ("email", "vic@acme.example"),
                ("password", "long enough pw"),
                ("role", "member"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER);
    let (vic, _) = kith_store::users::find_for_login(&app.db, "vic@acme.example")
        .await
        .expect("lookup")
        .expect("vic");
    assert_eq!(
        vic.time_zone, "Europe/London",
        "the workspace's zone, not the admin's"
    );
}

#[tokio::test]
async fn saving_again_after_a_conflict_keeps_the_other_persons_opt_out() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let mut tab_a = app.signed_in("owner@acme.example").await;
    let mut tab_b = app.signed_in("owner@acme.example").await;
    let created = tab_a
        .post_form(
            "/crm/contacts",
            &[("first_name", "Ana"), ("email", "ana@example.com")],
        )
        .await;
    let path = created.header("location").to_owned();

    let opted = tab_a
        .post_form(
            &path,
            &[
                ("first_name", "Ana"),
                ("email", "ana@example.com"),
                ("opt_out_email", "1"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(opted.status, StatusCode::SEE_OTHER);

    let stale = tab_b
        .post_form(
            &path,
            &[
                ("first_name", "Ana"),
                ("email", "ana@example.com"),
                ("title", "CFO"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(stale.text.contains("The form now shows their version"));
    assert!(
        stale
            .text
            .contains("name=\"opt_out_email\" value=\"1\" checked"),
        "their opt-out is in the form"
    );
    assert!(
        stale
            .text
            .contains("<dt>Job title</dt><dd class=\"pre\">CFO</dd>"),
        "my value is listed"
    );
    let version = crate::harness::extract_between(&stale.text, "name=\"version\" value=\"", "\"")
        .expect("version");
    assert_eq!(version, "2");

    // Saving the re-shown form (with the title typed again) keeps the opt-out.
    let saved = tab_b
        .post_form(
            &path,
            &[
                ("first_name", "Ana"),
                ("email", "ana@example.com"),
                ("title", "CFO"),
                ("opt_out_email", "1"),
                ("version", "2"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    let token = app.token("owner@acme.example", true).await;
    let id = path.trim_start_matches("/crm/contacts/");
    let contact = app
        .api(&token)
        .get(&format!("/api/v1/contacts/{id}"))
        .await
        .json();
    assert_eq!(contact["opt_out"]["email"]["opted_out"], true);
    assert_eq!(contact["title"], "CFO");
}

#[tokio::test]
async fn phone_numbers_are_found_however_they_are_typed() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    api.json(
        Method::POST,
        "/api/v1/contacts",
        &json!({"first_name": "Priya", "phones": [{"number": "07911 123456"}]}),
        &[],
    )
    .await;
    for query in [
        "+44 7911 123456",
        "07911123456",
        "7911 123",
        "(07911) 123-456",
    ] {
        let found = api
            .get(&format!(
                "/api/v1/contacts?search={}",
                form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>()
            ))
            .await
            .json();
        assert_eq!(found["total"], 1, "query {query}");
    }
}

#[tokio::test]
async fn the_api_says_what_is_wrong_with_the_request_itself() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let form = api
        .send(
            Method::POST,
            "/api/v1/clients",
            Some("application/x-www-form-urlencoded"),
            b"name=Acme".to_vec(),
            &[],
        )
        .await;
    assert_eq!(form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        form.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("Content-Type: application/json")
    );
    let anonymous = app.client().get("/api/v1/contacts").await;
    assert_eq!(anonymous.header("www-authenticate"), "Bearer");
    let both = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "X", "owner": 999999, "parent": 999999}),
            &[],
        )
        .await;
    let fields: Vec<String> = both.json()["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(fields, ["owner", "parent"], "every field at fault");
}
