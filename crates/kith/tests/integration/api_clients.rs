//! `/api/v1/clients`: create, read, filter, update with versions, delete; and the OpenAPI
//! document covering every API route.

use crate::harness::TestApp;
use axum::http::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn create_read_update_delete_with_versions() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);

    let created = api
        .json(Method::POST, "/api/v1/clients", &json!({"name": "Contoso Freight", "industry": "transportation", "lifecycle": "Customer", "type": "Managed services", "domains": ["https://www.Contoso.example/"], "phone": "020 7946 0018", "tags": ["VIP", "vip", "north"]}), &[])
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.header("etag"), "\"1\"");
    let body = created.json();
    let id = body["id"].as_i64().expect("id");
    assert_eq!(created.header("location"), format!("/api/v1/clients/{id}"));
    assert_eq!(
        body["industry"], "Transportation",
        "labels are matched without case"
    );
    assert_eq!(body["domains"], json!(["contoso.example"]));
    assert_eq!(body["phone"], "020 7946 0018");
    assert_eq!(
        body["phone_e164"], "+442079460018",
        "the tenant's default country is GB"
    );
    assert_eq!(body["tags"], json!(["north", "VIP"]));
    assert_eq!(body["version"], 1);

    let path = format!("/api/v1/clients/{id}");
    let missing = api
        .json(
            Method::PATCH,
            &path,
            &json!({"name": "Contoso Freight Ltd"}),
            &[],
        )
        .await;
    assert_eq!(missing.status, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(missing.header("content-type"), "application/problem+json");

    let updated = api
        .json(
            Method::PATCH,
            &path,
            &json!({"name": "Contoso Freight Ltd", "phone": null}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.header("etag"), "\"2\"");
    let body = updated.json();
    assert_eq!(body["name"], "Contoso Freight Ltd");
    assert_eq!(body["phone"], serde_json::Value::Null, "null clears");
    assert_eq!(body["industry"], "Transportation", "absent keeps");

    let stale = api
        .json(
            Method::PATCH,
            &path,
            &json!({"name": "Overwritten"}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let problem = stale.json();
    assert_eq!(
        problem["current"]["name"], "Contoso Freight Ltd",
        "409 carries the current record"
    );
    assert_eq!(problem["current"]["version"], 2);

    let by_body = api
        .json(
            Method::PATCH,
            &path,
            &json!({"lifecycle": "Former customer", "version": 2}),
            &[],
        )
        .await;
    assert_eq!(by_body.status, StatusCode::OK, "{}", by_body.text);
    assert_eq!(by_body.json()["lifecycle"], "Former customer");

    let stale_delete = api
        .send(
            Method::DELETE,
            &path,
            None,
            Vec::new(),
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(stale_delete.status, StatusCode::CONFLICT);
    let deleted = api
        .send(
            Method::DELETE,
            &path,
            None,
            Vec::new(),
            &[("if-match", "\"3\"")],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(api.get(&path).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn errors_name_the_field() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);

    let invalid = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "", "industry": "Mining", "owner": 999999}),
            &[],
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let problem = invalid.json();
    assert_eq!(problem["status"], 422);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["name", "industry"]);

    let owner = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Acme", "owner": 999999}),
            &[],
        )
        .await;
    assert_eq!(owner.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(owner.json()["errors"][0]["field"], "owner");

    let typo = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"nmae": "Acme"}),
            &[],
        )
        .await;
    assert_eq!(typo.status, StatusCode::BAD_REQUEST);
    assert_eq!(typo.json()["errors"][0]["field"], "nmae");

    let filter = api.get("/api/v1/clients?industry=Mining").await;
    assert_eq!(filter.status, StatusCode::BAD_REQUEST);
    assert_eq!(filter.json()["errors"][0]["field"], "industry");
    let unknown = api.get("/api/v1/clients?industy=Retail").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.json()["errors"][0]["field"], "industy");
    let limit = api.get("/api/v1/clients?limit=5000").await;
    assert_eq!(limit.json()["errors"][0]["field"], "limit");
    let sort = api.get("/api/v1/clients?sort=revenue").await;
    assert_eq!(sort.json()["errors"][0]["field"], "sort");

    let unauthenticated = app.client().get("/api/v1/clients").await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unauthenticated.header("content-type"),
        "application/problem+json"
    );
    let bad_token = app
        .api("kith_1_not-a-real-token")
        .get("/api/v1/clients")
        .await;
    assert_eq!(bad_token.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn filters_combine() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let rows = [
        ("Alpha Retail", "Retail", "Customer", vec!["vip"]),
        ("Beta Retail", "Retail", "Prospect", vec!["north"]),
        ("Gamma Medical", "Medical", "Customer", vec!["vip", "north"]),
        ("Delta Retail", "Retail", "Customer", vec![]),
    ];
    for (name, industry, lifecycle, tags) in rows {
        let reply = api
            .json(
                Method::POST,
                "/api/v1/clients",
                &json!({"name": name, "industry": industry, "lifecycle": lifecycle, "tags": tags}),
                &[],
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    let names = |body: serde_json::Value| -> Vec<String> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    };

    let retail_customers = api
        .get("/api/v1/clients?industry=retail&lifecycle=Customer")
        .await
        .json();
    assert_eq!(
        names(retail_customers.clone()),
        ["Alpha Retail", "Delta Retail"]
    );
    assert_eq!(retail_customers["total"], 2);

    let any_tag = api
        .get("/api/v1/clients?tag=vip&tag=north&sort=-name")
        .await
        .json();
    assert_eq!(
        names(any_tag),
        ["Gamma Medical", "Beta Retail", "Alpha Retail"]
    );
    let comma_tags = api
        .get("/api/v1/clients?tag=vip,north&industry=Retail")
        .await
        .json();
    assert_eq!(names(comma_tags), ["Alpha Retail", "Beta Retail"]);
    let owner = api
        .get("/api/v1/clients?owner=owner@acme.example&search=ret")
        .await
        .json();
    assert_eq!(
        owner["total"], 0,
        "clients created through the API have no owner unless given"
    );
}

#[tokio::test]
async fn the_openapi_document_covers_every_api_route() {
    let app = TestApp::new().await;
    let reply = app.client().get("/api/v1/openapi.json").await;
    assert_eq!(reply.status, StatusCode::OK);
    let document = reply.json();
    assert_eq!(
        document["openapi"].as_str().map(|v| v.starts_with("3.1")),
        Some(true),
        "OpenAPI 3.1"
    );

    let mut missing = Vec::new();
    for route in kith_web::route_table()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/"))
    {
        let method = route.method.as_str().to_lowercase();
        if document["paths"][route.path][&method].is_null() {
            missing.push(format!("{} {}", route.method, route.path));
        }
    }
    assert!(
        missing.is_empty(),
        "routes missing from openapi.json: {missing:?}"
    );
    assert!(document["components"]["schemas"]["ClientOut"].is_object());
}
