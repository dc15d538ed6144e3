//! Tenant isolation: a user of tenant A gets 404 for every record of tenant B on every
//! registered route, and never sees B's records in lists or searches.

use crate::harness::{Client, TestApp};
use axum::http::{Method, StatusCode};
use kith_domain::Role;
use serde_json::json;

const SECRET_CLIENT: &str = "Bravo Secretco";
const SECRET_CONTACT: &str = "Zed Secretperson";
const SECRET_EMAIL: &str = "zed.secret@bravo.example";
const SECRET_DEAL: &str = "Bravo Secretdeal";
const SECRET_ACTIVITY: &str = "Bravo Secretcall";

/// Ids of tenant B's records, one per kind of `{id}` a route can take.
struct Foreign {
    client: i64,
    contact: i64,
    token: i64,
    list_value: i64,
    user: i64,
    stage: i64,
    deal: i64,
    quote: i64,
    activity: i64,
}

async fn tenant_b(app: &TestApp) -> Foreign {
    let token = app.token("owner@bravo.example", false).await;
    let mut api = app.api(&token);
    let client = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": SECRET_CLIENT, "industry": "Retail", "tags": ["vip"]}),
            &[],
        )
        .await;
    assert_eq!(client.status, StatusCode::CREATED, "{}", client.text);
    let client = client.json()["id"].as_i64().expect("id");
    let contact = api
        .json(Method::POST, "/api/v1/contacts", &json!({"first_name": "Zed", "last_name": "Secretperson", "email": SECRET_EMAIL, "client": client}), &[])
        .await;
    assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.text);
    let contact = contact.json()["id"].as_i64().expect("id");
    let deal = api
        .json(Method::POST, "/api/v1/deals", &json!({"title": SECRET_DEAL, "client": client, "value": 500000, "contacts": [{"contact": contact, "role": "billing"}]}), &[])
        .await;
    assert_eq!(deal.status, StatusCode::CREATED, "{}", deal.text);
    let deal = deal.json()["id"].as_i64().expect("id");
    let quote = api
        .json(Method::POST, "/api/v1/quotes", &json!({"client": client, "deal": deal, "lines": [{"description": SECRET_DEAL, "unit_price": 120000}]}), &[])
        .await;
    assert_eq!(quote.status, StatusCode::CREATED, "{}", quote.text);
    let quote = quote.json()["id"].as_i64().expect("id");
    let activity = api
        .json(Method::POST, "/api/v1/activities", &json!({"type": "Call", "subject": SECRET_ACTIVITY, "client": client, "deal": deal, "contacts": [contact], "due_date": "2030-01-01"}), &[])
        .await;
    assert_eq!(activity.status, StatusCode::CREATED, "{}", activity.text);
    let activity = activity.json()["id"].as_i64().expect("id");

    let tenant = kith_store::tenants::find_by_name(&app.db, "Bravo")
        .await
        .expect("lookup")
        .expect("tenant");
    let lists = kith_store::picklists::load(&app.db, kith_domain::TenantId(tenant.id))
        .await
        .expect("lists");
    let (user, _) = kith_store::users::find_for_login(&app.db, "owner@bravo.example")
        .await
        .expect("lookup")
        .expect("user");
    let tokens = kith_store::tokens::list(
        &app.db,
        kith_domain::TenantId(tenant.id),
        kith_domain::UserId(user.id),
    )
    .await
    .expect("tokens");
    let stages = kith_store::stages::list(&app.db, kith_domain::TenantId(tenant.id))
        .await
        .expect("stages");
    Foreign {
        client,
        contact,
        token: tokens[0].id,
        list_value: lists.values[0].id,
        user: user.id,
        stage: stages[0].id,
        deal,
        quote,
        activity,
    }
}

/// The concrete path of `pattern` aimed at tenant B's record.
fn aimed_at(pattern: &str, foreign: &Foreign) -> Option<String> {
    if !pattern.contains('{') {
        return Some(pattern.to_owned());
    }
    let id = if pattern.starts_with("/crm/clients/") || pattern.starts_with("/api/v1/clients/") {
        foreign.client
    } else if pattern.starts_with("/crm/contacts/") || pattern.starts_with("/api/v1/contacts/") {
        foreign.contact
    } else if pattern.starts_with("/settings/tokens/") {
        foreign.token
    } else if pattern.starts_with("/settings/users/") {
        foreign.user
    } else if pattern.starts_with("/settings/lists/") {
        foreign.list_value
    } else if pattern.starts_with("/api/v1/deals/") || pattern.starts_with("/crm/deals/") {
        foreign.deal
    } else if pattern.starts_with("/api/v1/quotes/") || pattern.starts_with("/crm/quotes/") {
        foreign.quote
    } else if pattern.starts_with("/api/v1/activities/") || pattern.starts_with("/crm/activities/")
    {
        foreign.activity
    } else if pattern.starts_with("/api/v1/stages/") || pattern.starts_with("/settings/stages/") {
        foreign.stage
    } else if pattern.starts_with("/assets/") {
        return None;
    } else if pattern.starts_with("/calendar/") {
        // A feed is opened by its secret alone; an unknown one is a 404 for everyone.
        return Some(pattern.replace("{file}", "not-a-feed.ics"));
    } else {
        panic!("the isolation test does not know which record {pattern} takes; teach it");
    };
    Some(pattern.replace("{id}", &id.to_string()))
}

async fn call(
    browser: &mut Client,
    api: &mut Client,
    method: &Method,
    path: &str,
) -> crate::harness::Reply {
    if path.starts_with("/api/") {
        let body = json!({"name": "Changed", "first_name": "Changed", "version": 1});
        return api
            .json(method.clone(), path, &body, &[("if-match", "\"1\"")])
            .await;
    }
    match *method {
        Method::GET => browser.get(path).await,
        _ => {
            browser
                .post_form(
                    path,
                    &[
                        ("name", "Changed"),
                        ("first_name", "Changed"),
                        ("label", "Changed"),
                        ("version", "1"),
                    ],
                )
                .await
        }
    }
}

#[tokio::test]
async fn every_route_hides_another_tenants_records() {
    let app = TestApp::new().await;
    let alpha = app.tenant("Alpha", "owner@alpha.example").await;
    app.tenant("Bravo", "owner@bravo.example").await;
    app.user(alpha, "member@alpha.example", Role::Admin).await;
    let foreign = tenant_b(&app).await;

    let mut browser = app.signed_in("member@alpha.example").await;
    let token = app.token("member@alpha.example", false).await;
    let mut api = app.api(&token);

    let mut checked = 0;
    for route in kith_web::route_table() {
        if ["/login", "/logout", "/setup"].contains(&route.path) {
            continue;
        }
        let Some(path) = aimed_at(route.path, &foreign) else {
            continue;
        };
        let reply = call(&mut browser, &mut api, &route.method, &path).await;
        if route.path.contains("{id}") {
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "{} {path} answered {}: {}",
                route.method,
                reply.status,
                reply.text
            );
        }
        for secret in [
            SECRET_CLIENT,
            SECRET_CONTACT,
            SECRET_EMAIL,
            SECRET_DEAL,
            SECRET_ACTIVITY,
        ] {
            assert!(
                !reply.text.contains(secret),
                "{} {path} shows tenant B's {secret}",
                route.method
            );
        }
        checked += 1;
    }
    let expected = kith_web::route_table()
        .iter()
        .filter(|r| {
            !["/login", "/logout", "/setup"].contains(&r.path) && !r.path.starts_with("/assets/")
        })
        .count();
    assert_eq!(checked, expected, "every route was walked");

    // Lists and searches that would match B's records by their text find nothing.
    for path in [
        "/crm/clients?search=secretco",
        "/crm/contacts?search=secretperson",
        "/search?q=secret",
        "/crm/contacts?client=".to_owned().as_str(),
    ] {
        let reply = browser.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert!(!reply.text.contains("Secret"), "{path} leaks");
    }
    let filtered = browser
        .get(&format!("/crm/contacts?client={}", foreign.client))
        .await;
    assert!(!filtered.text.contains(SECRET_CONTACT));
    for path in [
        "/api/v1/clients?search=secretco",
        "/api/v1/contacts?search=secret",
        "/api/v1/search?q=secret",
        "/api/v1/deals?search=secretdeal",
        "/api/v1/pipeline/board",
        "/api/v1/pipeline/forecast",
        "/api/v1/quotes",
        "/api/v1/activities?search=secretcall",
        "/api/v1/activities?status=upcoming",
    ] {
        let reply = api.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text);
        assert!(
            !reply.text.contains("Secret"),
            "{path} leaks: {}",
            reply.text
        );
    }
    let by_client = api
        .get(&format!("/api/v1/contacts?client={}", foreign.client))
        .await
        .json();
    assert_eq!(by_client["total"], 0);
    let deals_of_b = api
        .get(&format!("/api/v1/deals?client={}", foreign.client))
        .await
        .json();
    assert_eq!(deals_of_b["total"], 0);
    for path in [
        format!("/api/v1/quotes?client={}", foreign.client),
        format!("/api/v1/quotes?deal={}", foreign.deal),
        format!("/api/v1/activities?client={}", foreign.client),
        format!("/api/v1/activities?contact={}", foreign.contact),
        format!("/api/v1/activities?deal={}", foreign.deal),
    ] {
        assert_eq!(api.get(&path).await.json()["total"], 0, "{path}");
    }
    for path in [
        "/crm/quotes".to_owned(),
        format!("/crm/quotes?client={}", foreign.client),
        format!(
            "/crm/quotes/new?client={}&deal={}",
            foreign.client, foreign.deal
        ),
        format!(
            "/crm/quotes/deal-options?client=Bravo+%28%23{}%29",
            foreign.client
        ),
    ] {
        let reply = browser.get(&path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert!(!reply.text.contains("Secret"), "{path} leaks");
    }
    // A quote of A cannot be addressed to B's client nor linked to B's deal.
    let foreign_quote = api
        .json(
            Method::POST,
            "/api/v1/quotes",
            &json!({"client": foreign.client, "deal": foreign.deal, "lines": [{"description": "Mine", "unit_price": 100}]}),
            &[],
        )
        .await;
    assert_eq!(
        foreign_quote.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        foreign_quote.text
    );
    let fields: Vec<String> = foreign_quote.json()["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(fields, ["client", "deal"]);
    let board = api.get("/api/v1/pipeline/board").await.json();
    let counted: i64 = board["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c["count"].as_i64().unwrap_or_default())
        .sum();
    assert_eq!(counted, 0, "B's deal is on no column of A's board");

    // A deal of A cannot name B's client or contact, nor sit in B's stage.
    let foreign_refs = api
        .json(
            Method::POST,
            "/api/v1/deals",
            &json!({"title": "Mine", "client": foreign.client, "stage": foreign.stage, "contacts": [{"contact": foreign.contact, "role": "primary"}]}),
            &[],
        )
        .await;
    assert_eq!(
        foreign_refs.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        foreign_refs.text
    );
    let problem = foreign_refs.json();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"client") && fields.contains(&"contacts[0].contact"),
        "{fields:?}"
    );

    // A contact of A cannot be attached to B's client either.
    let attach = api
        .json(
            Method::POST,
            "/api/v1/contacts",
            &json!({"first_name": "Ann", "client": foreign.client}),
            &[],
        )
        .await;
    assert_eq!(attach.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(attach.json()["errors"][0]["field"], "client");
}

#[tokio::test]
async fn the_owner_still_sees_their_own_records() {
    // The same paths do answer for tenant B's own user: the 404s above are about tenancy.
    let app = TestApp::new().await;
    app.tenant("Bravo", "owner@bravo.example").await;
    let foreign = tenant_b(&app).await;
    let mut browser = app.signed_in("owner@bravo.example").await;
    for path in [
        format!("/crm/clients/{}", foreign.client),
        format!("/crm/contacts/{}", foreign.contact),
        format!("/crm/clients/{}/edit", foreign.client),
    ] {
        let reply = browser.get(&path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert!(reply.text.contains("Secret"), "{path}");
    }
}
