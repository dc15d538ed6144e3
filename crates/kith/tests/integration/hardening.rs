//! Failures found by trying to break the foundation, kept as tests.

use crate::harness::TestApp;
use axum::http::{Method, StatusCode};
use kith::import::{self, Entity};
use serde_json::json;

#[tokio::test]
async fn api_tokens_do_not_sign_in_to_the_pages() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let full = app.token("owner@acme.example", false).await;
    let read_only = app.token("owner@acme.example", true).await;

    let mut script = app.api(&read_only);
    let revoke = script
        .send(
            Method::POST,
            "/settings/tokens/1/delete",
            Some("application/x-www-form-urlencoded"),
            Vec::new(),
            &[],
        )
        .await;
    assert_eq!(revoke.status, StatusCode::SEE_OTHER);
    assert!(
        revoke.header("location").starts_with("/login"),
        "a token is no sign-in for pages"
    );
    let profile = script
        .send(
            Method::POST,
            "/settings/profile",
            Some("application/x-www-form-urlencoded"),
            b"name=Pwned&time_zone=UTC".to_vec(),
            &[],
        )
        .await;
    assert!(profile.header("location").starts_with("/login"));

    assert_eq!(
        app.api(&full).get("/api/v1/clients").await.status,
        StatusCode::OK,
        "the other token still works"
    );
    let lower = app
        .client()
        .send(
            Method::GET,
            "/api/v1/clients",
            None,
            Vec::new(),
            &[("authorization", &format!("bearer {full}"))],
        )
        .await;
    assert_eq!(
        lower.status,
        StatusCode::OK,
        "the scheme is case-insensitive"
    );
}

#[tokio::test]
async fn concurrent_writes_of_the_same_new_tag_and_email_never_fail_with_500() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;

    let mut tasks = Vec::new();
    for i in 0..12 {
        let mut api = app.api(&token);
        tasks.push(tokio::spawn(async move {
            let client = api
                .json(
                    Method::POST,
                    "/api/v1/clients",
                    &json!({"name": format!("C{i}"), "tags": ["brand-new"]}),
                    &[],
                )
                .await;
            let contact = api
                .json(
                    Method::POST,
                    "/api/v1/contacts",
                    &json!({"first_name": "Same", "email": "same@example.com"}),
                    &[],
                )
                .await;
            (client.status, contact.status)
        }));
    }
    let mut created_contacts = 0;
    for task in tasks {
        let (client, contact) = task.await.expect("task");
        assert_eq!(client, StatusCode::CREATED);
        assert!(
            contact == StatusCode::CREATED || contact == StatusCode::UNPROCESSABLE_ENTITY,
            "got {contact}"
        );
        created_contacts += usize::from(contact == StatusCode::CREATED);
    }
    assert_eq!(created_contacts, 1, "one contact owns the email");
    let tagged = app
        .api(&token)
        .get("/api/v1/clients?tag=brand-new&limit=50")
        .await
        .json();
    assert_eq!(tagged["total"], 12, "all twelve share one tag");
}

#[tokio::test]
async fn hostile_parameters_get_clear_answers() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let mut browser = app.signed_in("owner@acme.example").await;
    api.json(
        Method::POST,
        "/api/v1/clients",
        &json!({"name": "Łódź Logistics"}),
        &[],
    )
    .await;

    let far = browser.get("/crm/clients?page=400000000000000000").await;
    assert_eq!(far.status, StatusCode::OK);
    assert!(
        far.text
            .contains("No clients on this page; there are <strong class=\"total\">1</strong>")
    );
    assert_eq!(
        browser
            .get("/crm/clients?page=18446744073709551615")
            .await
            .status,
        StatusCode::OK
    );

    let nul = api.get("/api/v1/clients?search=ag%00").await;
    assert_eq!(nul.status, StatusCode::OK, "{}", nul.text);
    let notes = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Nul Co", "notes": "a\u{0}b"}),
            &[],
        )
        .await;
    assert_eq!(notes.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(notes.json()["errors"][0]["field"], "notes");

    assert_eq!(
        api.get("/api/v1/clients?search=lodz").await.json()["total"],
        1,
        "ł folds to l"
    );
    assert_eq!(
        api.get("/api/v1/clients?search=%27").await.json()["total"],
        0,
        "only an apostrophe matches nothing"
    );

    let typed = api
        .json(Method::POST, "/api/v1/clients", &json!({"name": 123}), &[])
        .await;
    assert_eq!(typed.status, StatusCode::BAD_REQUEST);
    assert_eq!(typed.json()["errors"][0]["field"], "name");
    let phone = api
        .json(
            Method::POST,
            "/api/v1/contacts",
            &json!({"first_name": "A", "phones": [{"number": "1"}, {"number": 5}]}),
            &[],
        )
        .await;
    assert_eq!(phone.json()["errors"][0]["field"], "phones[1].number");

    let id = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Tagged", "tags": ["a"]}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("id");
    let cleared = api
        .json(
            Method::PATCH,
            &format!("/api/v1/clients/{id}"),
            &json!({"tags": null, "domains": null}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
    assert_eq!(cleared.json()["tags"], json!([]));
    let version = api
        .json(
            Method::PATCH,
            &format!("/api/v1/clients/{id}"),
            &json!({"name": "X", "version": "2"}),
            &[],
        )
        .await;
    assert_eq!(version.status, StatusCode::BAD_REQUEST);
    assert_eq!(version.json()["errors"][0]["field"], "version");

    let bad_id = api.get("/api/v1/clients/abc").await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_id.header("content-type"), "application/problem+json");
    let huge = api
        .send(
            Method::POST,
            "/api/v1/clients",
            Some("application/json"),
            vec![b' '; 3 * 1024 * 1024],
            &[],
        )
        .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.header("content-type"), "application/problem+json");

    let forged = "eyJzb3J0IjoidXBkYXRlZCIsInZhbHVlIjoibm90LWEtdGltZSIsImlkIjoxfQ";
    let cursor = api
        .get(&format!("/api/v1/clients?sort=updated&cursor={forged}"))
        .await;
    assert_eq!(cursor.status, StatusCode::BAD_REQUEST);
    assert_eq!(cursor.json()["errors"][0]["field"], "cursor");

    let composed = api
        .json(
            Method::POST,
            "/api/v1/contacts",
            &json!({"first_name": "José", "email": "jos\u{e9}@example.com"}),
            &[],
        )
        .await;
    assert_eq!(composed.status, StatusCode::CREATED);
    let decomposed = api
        .json(
            Method::POST,
            "/api/v1/contacts",
            &json!({"first_name": "José", "email": "jose\u{301}@example.com"}),
            &[],
        )
        .await;
    assert_eq!(
        decomposed.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "one address, two spellings"
    );
}

#[tokio::test]
async fn first_run_setup_happens_once_even_when_raced() {
    let app = TestApp::new().await;
    let mut tasks = Vec::new();
    for i in 0..6 {
        let mut browser = app.client();
        tasks.push(tokio::spawn(async move {
            let email = format!("owner{i}@acme.example");
            let fields = [
                ("workspace", format!("Acme {i}")),
                ("currency", "USD".into()),
                ("country", "US".into()),
                ("time_zone", "UTC".into()),
                ("name", "Owner".into()),
                ("email", email),
                ("password", crate::harness::PASSWORD.into()),
            ];
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            browser.post_raw_form("/setup", &pairs, &[]).await.status
        }));
    }
    let mut done = 0;
    for task in tasks {
        let status = task.await.expect("task");
        assert!(
            status == StatusCode::SEE_OTHER || status == StatusCode::FORBIDDEN,
            "got {status}"
        );
        done += usize::from(status == StatusCode::SEE_OTHER);
    }
    assert_eq!(done, 1);
    assert_eq!(
        kith_store::tenants::list(&app.db)
            .await
            .expect("tenants")
            .len(),
        1
    );
}

#[tokio::test]
async fn workspace_names_do_not_repeat() {
    let app = TestApp::new().await;
    app.tenant("Alpha", "owner@alpha.example").await;
    let again = kith_domain::tenant::NewTenant::parse("ALPHA", "USD", "US", "UTC").expect("valid");
    let mut tx = app.db.begin().await.expect("tx");
    let refused = kith_store::tenants::create(&mut tx, &again).await;
    match refused {
        Err(kith_store::StoreError::Invalid(invalid)) => {
            assert_eq!(
                invalid.message_for("name"),
                Some("a workspace called \"ALPHA\" already exists")
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_bad_row_neither_stops_the_import_nor_blocks_a_later_good_one() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;

    let clients = "name,website\nAcme,javascript:x\nAcme,https://ok.example\n";
    let report = import::run(&app.db, tenant, Entity::Clients, clients.as_bytes())
        .await
        .expect("import");
    assert_eq!(
        (report.created, report.failed.len(), report.skipped.len()),
        (1, 1, 0)
    );
    assert_eq!(report.failed[0].row, 2);

    let long = "x".repeat(201);
    let contacts = format!(
        "first_name,email,company,industry\nA,a@x.example,Fine,\nB,b@x.example,{long},\nC,c@x.example,\"Tab\tCo\",\nD,d@x.example,Fine,\n"
    );
    let report = import::run(&app.db, tenant, Entity::Contacts, contacts.as_bytes())
        .await
        .expect("import");
    assert_eq!(report.created, 2, "rows 2 and 5");
    assert_eq!(
        report.failed.iter().map(|f| f.row).collect::<Vec<_>>(),
        [3, 4]
    );
    assert!(
        report.failed[0]
            .message
            .starts_with("company: name: is 201 characters long")
    );
    assert_eq!(
        report.clients_created, 1,
        "Fine, once; the refused companies were rolled back"
    );
    assert!(report.stopped.is_none());
}
