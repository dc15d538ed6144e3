//! What reviewing the pipeline as a user and as a breaker turned up: re-imports that kept only
//! the file's columns, deletes that failed on a deal, currencies cleared with `null`, stage
//! deletions that closed deals, and quotes priced in the wrong currency.

use crate::harness::TestApp;
use axum::http::{Method, StatusCode};
use kith_domain::{DealId, Role};
use kith_store::deals;
use kith_store::stages::{self, Stage};
use serde_json::json;

fn stage_id(stages: &[Stage], name: &str) -> i64 {
    stages
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.id)
        .expect("default stage")
}

#[tokio::test]
async fn re_importing_a_deal_changes_only_the_columns_the_file_has() {
    use kith::import::{self, Entity};

    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let client = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Harbor Dental"}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("client id");

    let first = "id,title,client,amount,currency,stage,expected_close,notes\n\
                 X1,Firewall,Harbor Dental,\"1,500\",JPY,Qualified,2027-03-01,Keep me\n";
    let report = import::run(&app.db, tenant, Entity::Deals, first.as_bytes())
        .await
        .expect("import ran");
    assert_eq!(report.created, 1, "{report}");

    let moves = "id,stage\nX1,Proposal\n";
    let report = import::run(&app.db, tenant, Entity::Deals, moves.as_bytes())
        .await
        .expect("import ran");
    assert_eq!((report.created, report.updated), (0, 1), "{report}");

    let mut tx = app.db.begin().await.expect("begin");
    let deal = deals::find_by_external_id(&mut tx, tenant, "X1")
        .await
        .expect("lookup")
        .expect("the deal");
    drop(tx);
    assert_eq!(deal.title, "Firewall");
    assert_eq!(deal.client_id, Some(client));
    assert_eq!((deal.value, deal.currency.as_str()), (1500, "JPY"));
    assert_eq!((deal.probability, deal.weighted_value), (50, 750));
    assert_eq!(
        deal.expected_close,
        Some("2027-03-01".parse().expect("date"))
    );
    assert_eq!(deal.notes.as_deref(), Some("Keep me"));

    // A new currency without the value in it would rescale the amount: refused, named.
    let recurrency = "id,currency\nX1,USD\n";
    let report = import::run(&app.db, tenant, Entity::Deals, recurrency.as_bytes())
        .await
        .expect("import ran");
    assert_eq!(report.failed.len(), 1, "{report}");
    assert!(
        report.failed[0]
            .message
            .contains("currency: changing it from JPY needs the value"),
        "{report}"
    );
    let after = deals::get(&app.db, tenant, DealId(deal.id))
        .await
        .expect("deal");
    assert_eq!((after.value, after.currency.as_str()), (1500, "JPY"));
}

#[tokio::test]
async fn deleting_a_client_or_removing_a_user_keeps_their_deals() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let client = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Deal Holder"}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("client id");
    let deal = api
        .json(
            Method::POST,
            "/api/v1/deals",
            &json!({"title": "Held", "client": client, "value": 10000}),
            &[],
        )
        .await
        .json();

    let deleted = api
        .send(
            Method::DELETE,
            &format!("/api/v1/clients/{client}"),
            None,
            Vec::new(),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    let kept = api.get(&format!("/api/v1/deals/{}", deal["id"])).await;
    assert_eq!(kept.status, StatusCode::OK);
    assert_eq!(kept.json()["client"], serde_json::Value::Null);
    assert_eq!(kept.json()["value"], 10000);

    // A user who owns deals can be removed; the deals stay, without an owner.
    app.user(tenant, "agent@acme.example", Role::Member).await;
    let agent_token = app.token("agent@acme.example", false).await;
    let mut agent = app.api(&agent_token);
    let owned = agent
        .json(
            Method::POST,
            "/api/v1/deals",
            &json!({"title": "Agent's deal", "owner": agent_id(&app).await}),
            &[],
        )
        .await;
    assert_eq!(owned.status, StatusCode::CREATED, "{}", owned.text);
    let mut owner = app.signed_in("owner@acme.example").await;
    let removed = owner
        .post_form(
            &format!("/settings/users/{}/delete", agent_id(&app).await),
            &[],
        )
        .await;
    assert!(
        removed.status == StatusCode::SEE_OTHER || removed.status == StatusCode::OK,
        "{} {}",
        removed.status,
        removed.text
    );
    let kept = api
        .get(&format!("/api/v1/deals/{}", owned.json()["id"]))
        .await;
    assert_eq!(kept.status, StatusCode::OK);
    assert_eq!(kept.json()["owner"], serde_json::Value::Null);
}

async fn agent_id(app: &TestApp) -> i64 {
    let (user, _) = kith_store::users::find_for_login(&app.db, "agent@acme.example")
        .await
        .expect("lookup")
        .expect("the agent");
    user.id
}

#[tokio::test]
async fn a_null_currency_is_a_change_of_currency_too() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let deal = api
        .json(
            Method::POST,
            "/api/v1/deals",
            &json!({"title": "Yen deal", "value": 1500, "currency": "JPY"}),
            &[],
        )
        .await
        .json();
    let cleared = api
        .json(
            Method::PATCH,
            &format!("/api/v1/deals/{}", deal["id"]),
            &json!({"currency": null, "version": 1}),
            &[],
        )
        .await;
    assert_eq!(
        cleared.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        cleared.text
    );
    assert_eq!(cleared.json()["errors"][0]["field"], "currency");
    let after = api
        .get(&format!("/api/v1/deals/{}", deal["id"]))
        .await
        .json();
    assert_eq!(
        (after["value"].clone(), after["currency"].clone()),
        (json!(1500), json!("JPY"))
    );

    // A quote for that deal, with no currency given, is priced in the deal's.
    let client = api
        .json(
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Tokyo Office"}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("client id");
    let linked = api
        .json(
            Method::PATCH,
            &format!("/api/v1/deals/{}", deal["id"]),
            &json!({"client": client, "version": 1}),
            &[],
        )
        .await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.text);
    let quote = api
        .json(
            Method::POST,
            "/api/v1/quotes",
            &json!({"client": client, "deal": deal["id"], "lines": [{"description": "Setup", "unit_price": 1500}]}),
            &[],
        )
        .await;
    assert_eq!(quote.status, StatusCode::CREATED, "{}", quote.text);
    assert_eq!(quote.json()["currency"], "JPY");
    let cleared = api
        .json(
            Method::PATCH,
            &format!("/api/v1/quotes/{}", quote.json()["id"]),
            &json!({"currency": null, "version": 1}),
            &[],
        )
        .await;
    assert_eq!(
        cleared.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        cleared.text
    );
    assert_eq!(cleared.json()["errors"][0]["field"], "currency");
}

#[tokio::test]
async fn deleting_a_stage_never_closes_or_reopens_its_deals() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let stages = stages::list(&app.db, tenant).await.expect("stages");
    let (proposal, won, lost) = (
        stage_id(&stages, "Proposal"),
        stage_id(&stages, "Won"),
        stage_id(&stages, "Lost"),
    );
    let deal = api
        .json(
            Method::POST,
            "/api/v1/deals",
            &json!({"title": "Open one", "stage": proposal, "value": 100}),
            &[],
        )
        .await
        .json();

    let into_won = api
        .send(
            Method::DELETE,
            &format!("/api/v1/stages/{proposal}?move_to={won}"),
            None,
            Vec::new(),
            &[],
        )
        .await;
    assert_eq!(
        into_won.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        into_won.text
    );
    assert_eq!(into_won.json()["errors"][0]["field"], "move_to");
    assert!(
        into_won.json()["errors"][0]["message"]
            .as_str()
            .expect("message")
            .contains("Won is won and Proposal is open"),
        "{}",
        into_won.text
    );
    let unchanged = api
        .get(&format!("/api/v1/deals/{}", deal["id"]))
        .await
        .json();
    assert_eq!(unchanged["stage"], proposal);
    assert_eq!(unchanged["close_date"], serde_json::Value::Null);

    // A target is checked even when the stage holds nothing: another workspace's id is no stage.
    let empty = stage_id(&stages, "Negotiation");
    let nowhere = api
        .send(
            Method::DELETE,
            &format!("/api/v1/stages/{empty}?move_to=999999"),
            None,
            Vec::new(),
            &[],
        )
        .await;
    assert_eq!(
        nowhere.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        nowhere.text
    );
    let won_into_lost = api
        .send(
            Method::DELETE,
            &format!("/api/v1/stages/{won}?move_to={lost}"),
            None,
            Vec::new(),
            &[],
        )
        .await;
    assert_eq!(won_into_lost.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        stages::list(&app.db, tenant).await.expect("stages").len(),
        stages.len()
    );
}

#[tokio::test]
async fn the_deal_form_names_a_stage_or_owner_it_cannot_read() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let mut browser = app.signed_in("owner@acme.example").await;
    let refused = browser
        .post_form(
            "/crm/deals",
            &[("title", "Hand-made"), ("stage", "abc"), ("owner", "xyz")],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("choose a stage from the list"),
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("choose a user from the list"),
        "{}",
        refused.text
    );
    let none = deals::list(
        &app.db,
        tenant,
        &deals::DealFilter::default(),
        &kith_store::page::Sort::default_for(&deals::SORTS, false),
        &kith_store::page::Paging::After {
            cursor: None,
            limit: 10,
        },
    )
    .await
    .expect("list");
    assert_eq!(none.page.total.count, 0, "nothing was saved");
}
