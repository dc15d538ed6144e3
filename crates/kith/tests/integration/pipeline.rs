//! The deal pipeline's rules (SPEC §5): stages, the one stage-change rule, weighted totals and
//! currencies. Cases C10, C11 and C13.

use crate::harness::TestApp;
use axum::http::{Method, StatusCode};
use chrono::NaiveDate;
use kith_domain::deal::{DealFields, DealInput};
use kith_domain::{DealId, StageId, TenantId, UserId};
use kith_store::deals::{self, DealFilter};
use kith_store::stages::{self, Stage};
use kith_store::{StoreError, picklists};
use serde_json::json;

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
}

fn stage<'a>(stages: &'a [Stage], name: &str) -> &'a Stage {
    stages
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no stage {name}"))
}

/// Creates a deal through the store, as every write path does.
async fn deal(
    app: &TestApp,
    tenant: TenantId,
    title: &str,
    value: &str,
    currency: &str,
    stage: Option<i64>,
    today: NaiveDate,
) -> DealId {
    let lists = picklists::load(&app.db, tenant).await.expect("lists");
    let input = DealInput {
        title: title.into(),
        value: Some(value.into()),
        currency: Some(currency.into()),
        stage_id: stage,
        ..Default::default()
    };
    let fields = DealFields::parse(&input, &lists, "USD").expect("valid deal");
    let mut tx = app.db.begin().await.expect("begin");
    let id = deals::create(&mut tx, tenant, &fields, None, today, None)
        .await
        .expect("created");
    tx.commit().await.expect("commit");
    id
}

async fn move_deal(
    app: &TestApp,
    tenant: TenantId,
    id: DealId,
    to: i64,
    today: NaiveDate,
) -> Result<i64, StoreError> {
    let current = deals::get(&app.db, tenant, id).await.expect("deal");
    let mut tx = app.db.begin().await.expect("begin");
    let moved = deals::move_to(
        &mut tx,
        tenant,
        id,
        current.version,
        StageId(to),
        Some(UserId(1)),
        today,
    )
    .await;
    tx.finish(moved).await
}

#[tokio::test]
async fn new_workspaces_get_the_default_stages() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let stages = stages::list(&app.db, tenant).await.expect("stages");
    let shown: Vec<(&str, i32, bool, bool)> = stages
        .iter()
        .map(|s| (s.name.as_str(), s.probability, s.is_won, s.is_lost))
        .collect();
    assert_eq!(
        shown,
        [
            ("Qualified", 10, false, false),
            ("Discovery", 25, false, false),
            ("Proposal", 50, false, false),
            ("Negotiation", 75, false, false),
            ("Won", 100, true, false),
            ("Lost", 0, false, true),
        ]
    );
}

#[tokio::test]
async fn a_stage_change_sets_probability_and_close_date_the_same_way_each_time() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let stages = stages::list(&app.db, tenant).await.expect("stages");
    let (open, won, lost) = (
        stage(&stages, "Discovery").id,
        stage(&stages, "Won").id,
        stage(&stages, "Lost").id,
    );
    let id = deal(
        &app,
        tenant,
        "Firewall refresh",
        "1,234.50",
        "USD",
        None,
        day("2027-01-04"),
    )
    .await;

    let created = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(
        created.stage_id,
        stage(&stages, "Qualified").id,
        "first open stage"
    );
    assert_eq!(
        (
            created.probability,
            created.weighted_value,
            created.close_date
        ),
        (10, 12345, None)
    );

    move_deal(&app, tenant, id, won, day("2027-02-01"))
        .await
        .expect("won");
    let d = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(
        (d.probability, d.weighted_value, d.close_date),
        (100, 123450, Some(day("2027-02-01")))
    );

    move_deal(&app, tenant, id, open, day("2027-02-02"))
        .await
        .expect("reopened");
    let d = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(
        (d.probability, d.weighted_value, d.close_date),
        (25, 30863, None)
    );

    move_deal(&app, tenant, id, lost, day("2027-02-03"))
        .await
        .expect("lost");
    let d = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(
        (d.probability, d.weighted_value, d.close_date),
        (0, 0, Some(day("2027-02-03")))
    );

    move_deal(&app, tenant, id, won, day("2027-03-10"))
        .await
        .expect("won again");
    let d = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(
        (d.probability, d.weighted_value, d.close_date),
        (100, 123450, Some(day("2027-03-10")))
    );
    assert_eq!(d.version, 5, "each move is one new version");

    // A stale move changes nothing.
    let mut tx = app.db.begin().await.expect("begin");
    let stale = deals::move_to(
        &mut tx,
        tenant,
        id,
        4,
        StageId(open),
        None,
        day("2027-03-11"),
    )
    .await;
    assert!(
        matches!(stale, Err(StoreError::Stale { current: 5 })),
        "{stale:?}"
    );
    drop(tx);
    let after = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(after, d);

    let history: Vec<(Option<String>, String)> = deals::history_of(&app.db, tenant, id)
        .await
        .expect("history")
        .into_iter()
        .map(|c| (c.from_stage_name, c.to_stage_name))
        .collect();
    assert_eq!(
        history,
        [
            (None, "Qualified".to_owned()),
            (Some("Qualified".to_owned()), "Won".to_owned()),
            (Some("Won".to_owned()), "Discovery".to_owned()),
            (Some("Discovery".to_owned()), "Lost".to_owned()),
            (Some("Lost".to_owned()), "Won".to_owned()),
        ]
    );
}

#[tokio::test]
async fn editing_a_deal_in_the_form_path_applies_the_same_rule() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let stages = stages::list(&app.db, tenant).await.expect("stages");
    let lists = picklists::load(&app.db, tenant).await.expect("lists");
    let id = deal(
        &app,
        tenant,
        "Backup",
        "500",
        "USD",
        None,
        day("2027-01-04"),
    )
    .await;

    let edit = |stage: i64, value: &str| DealInput {
        title: "Backup".into(),
        value: Some(value.into()),
        stage_id: Some(stage),
        ..Default::default()
    };
    let won = stage(&stages, "Won").id;
    let fields = DealFields::parse(&edit(won, "600"), &lists, "USD").expect("valid");
    let mut tx = app.db.begin().await.expect("begin");
    let saved = deals::update(
        &mut tx,
        tenant,
        id,
        1,
        &fields,
        None,
        day("2027-05-06"),
        None,
    )
    .await;
    assert_eq!(tx.finish(saved).await.expect("saved"), 2);
    let d = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(
        (d.value, d.probability, d.weighted_value, d.close_date),
        (60000, 100, 60000, Some(day("2027-05-06")))
    );

    // Same stage, new value: the close date stays, the weighted value follows the value.
    let fields = DealFields::parse(&edit(won, "700"), &lists, "USD").expect("valid");
    let mut tx = app.db.begin().await.expect("begin");
    let saved = deals::update(
        &mut tx,
        tenant,
        id,
        2,
        &fields,
        None,
        day("2027-06-01"),
        None,
    )
    .await;
    tx.finish(saved).await.expect("saved");
    let d = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(
        (d.value, d.weighted_value, d.close_date),
        (70000, 70000, Some(day("2027-05-06")))
    );

    let negotiation = stage(&stages, "Negotiation").id;
    let fields = DealFields::parse(&edit(negotiation, "700"), &lists, "USD").expect("valid");
    let mut tx = app.db.begin().await.expect("begin");
    let saved = deals::update(
        &mut tx,
        tenant,
        id,
        3,
        &fields,
        None,
        day("2027-06-02"),
        None,
    )
    .await;
    tx.finish(saved).await.expect("saved");
    let d = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(
        (d.probability, d.weighted_value, d.close_date),
        (75, 52500, None)
    );
}

#[tokio::test]
async fn c10_weighted_totals_are_sums_of_per_deal_rounded_values() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let mut ids = Vec::new();
    for (name, probability) in [("Nearly", 99), ("Unlikely", 0), ("Quarter", 25)] {
        let reply = api
            .json(
                Method::POST,
                "/api/v1/stages",
                &json!({"name": name, "probability": probability}),
                &[],
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        ids.push(reply.json()["id"].as_i64().expect("id"));
    }
    let today = day("2027-01-04");
    deal(&app, tenant, "A", "100.00", "USD", Some(ids[0]), today).await;
    deal(&app, tenant, "B", "200.00", "USD", Some(ids[1]), today).await;
    deal(&app, tenant, "C", "1,234.50", "USD", Some(ids[2]), today).await;
    deal(&app, tenant, "D", "1,234.50", "USD", Some(ids[2]), today).await;

    let totals = deals::stage_totals(&app.db, tenant, &DealFilter::default())
        .await
        .expect("totals");
    let of = |stage: i64| {
        totals
            .iter()
            .find(|t| t.0 == stage)
            .map(|t| (t.2, t.3, t.4))
            .expect("a row")
    };
    assert_eq!(of(ids[0]), (1, 10000, 9900));
    assert_eq!(of(ids[1]), (1, 20000, 0));
    // 308.625 rounds half away from zero to 308.63 per deal: 617.26, never 617.24 or 617.25.
    assert_eq!(of(ids[2]), (2, 246900, 61726));
    let a_and_b: i64 = of(ids[0]).2 + of(ids[1]).2;
    assert_eq!(a_and_b, 9900, "99.00, never 148.50");
}

#[tokio::test]
async fn c11_totals_never_add_different_currencies() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let stages = stages::list(&app.db, tenant).await.expect("stages");
    let proposal = stage(&stages, "Proposal").id;
    let today = day("2027-01-04");
    deal(&app, tenant, "X", "50.00", "USD", Some(proposal), today).await;
    deal(&app, tenant, "Y", "50.00", "EUR", Some(proposal), today).await;

    let totals = deals::stage_totals(&app.db, tenant, &DealFilter::default())
        .await
        .expect("totals");
    assert_eq!(
        totals,
        [
            (proposal, "EUR".to_owned(), 1, 5000, 2500),
            (proposal, "USD".to_owned(), 1, 5000, 2500),
        ]
    );
}

#[tokio::test]
async fn c13_deleting_a_stage_refuses_or_moves_its_deals_and_keeps_history() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);

    let demo = api
        .json(
            Method::POST,
            "/api/v1/stages",
            &json!({"name": "Demo", "probability": 40, "color": "#AA3377"}),
            &[],
        )
        .await;
    assert_eq!(demo.status, StatusCode::CREATED, "{}", demo.text);
    let demo = demo.json()["id"].as_i64().expect("id");
    let before = stages::list(&app.db, tenant).await.expect("stages");
    let mut order: Vec<i64> = before
        .iter()
        .map(|s| s.id)
        .filter(|id| *id != demo)
        .collect();
    order.insert(2, demo);
    let reordered = api
        .json(
            Method::PUT,
            "/api/v1/stages/order",
            &json!({"order": order}),
            &[],
        )
        .await;
    assert_eq!(reordered.status, StatusCode::OK, "{}", reordered.text);
    assert_eq!(reordered.json()["items"][2]["name"], "Demo");

    let today = day("2027-01-04");
    let e1 = deal(&app, tenant, "E1", "1000", "USD", None, today).await;
    move_deal(&app, tenant, e1, demo, today)
        .await
        .expect("E1 to Demo");
    let e2 = deal(&app, tenant, "E2", "2000", "USD", Some(demo), today).await;

    let refused = api
        .send(
            Method::DELETE,
            &format!("/api/v1/stages/{demo}"),
            None,
            Vec::new(),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(
        refused.json()["deals"],
        json!([{"id": e1.0, "title": "E1"}, {"id": e2.0, "title": "E2"}])
    );
    assert_eq!(
        deals::get(&app.db, tenant, e1).await.expect("E1").stage_id,
        demo
    );

    let proposal = stage(&before, "Proposal").id;
    let moved = api
        .send(
            Method::DELETE,
            &format!("/api/v1/stages/{demo}?move_to={proposal}"),
            None,
            Vec::new(),
            &[],
        )
        .await;
    assert_eq!(moved.status, StatusCode::NO_CONTENT, "{}", moved.text);
    for (id, value) in [(e1, 100000), (e2, 200000)] {
        let d = deals::get(&app.db, tenant, id).await.expect("deal");
        assert_eq!(
            (d.stage_id, d.probability, d.weighted_value, d.close_date),
            (proposal, 50, value / 2, None)
        );
    }
    let history: Vec<(Option<String>, String)> = deals::history_of(&app.db, tenant, e1)
        .await
        .expect("history")
        .into_iter()
        .map(|c| (c.from_stage_name, c.to_stage_name))
        .collect();
    assert_eq!(
        history,
        [
            (None, "Qualified".to_owned()),
            (Some("Qualified".to_owned()), "Demo".to_owned()),
            (Some("Demo".to_owned()), "Proposal".to_owned()),
        ]
    );

    // The other stages keep their order, colours and flags.
    let after = stages::list(&app.db, tenant).await.expect("stages");
    let strip = |s: &Stage| {
        (
            s.id,
            s.name.clone(),
            s.color.clone(),
            s.probability,
            s.is_won,
            s.is_lost,
        )
    };
    let expected: Vec<_> = before.iter().filter(|s| s.id != demo).map(strip).collect();
    let kept: Vec<_> = after.iter().map(strip).collect();
    assert_eq!(kept, expected);
}

#[tokio::test]
async fn stage_rules_are_checked_with_the_field_named() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);

    let both = api
        .json(
            Method::POST,
            "/api/v1/stages",
            &json!({"name": "Odd", "probability": 50, "is_won": true, "is_lost": true}),
            &[],
        )
        .await;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(both.json()["errors"][0]["field"], "is_lost");

    let too_likely = api
        .json(
            Method::POST,
            "/api/v1/stages",
            &json!({"name": "Sure", "probability": 101}),
            &[],
        )
        .await;
    assert_eq!(
        too_likely.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        too_likely.text
    );
    assert_eq!(too_likely.json()["errors"][0]["field"], "probability");

    // Closing every open stage would leave deals nowhere to start.
    let stages = stages::list(&app.db, tenant).await.expect("stages");
    let open: Vec<&Stage> = stages.iter().filter(|s| !s.is_won && !s.is_lost).collect();
    for (n, s) in open.iter().enumerate() {
        let path = format!("/api/v1/stages/{}", s.id);
        let reply = api
            .json(
                Method::PATCH,
                &path,
                &json!({"is_won": true}),
                &[("if-match", "\"1\"")],
            )
            .await;
        if n + 1 < open.len() {
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        } else {
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}",
                reply.text
            );
            assert!(
                reply.text.contains("at least one open stage must remain"),
                "{}",
                reply.text
            );
        }
    }

    let partial = api
        .json(
            Method::PUT,
            "/api/v1/stages/order",
            &json!({"order": [stages[0].id]}),
            &[],
        )
        .await;
    assert_eq!(partial.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(partial.json()["errors"][0]["field"], "order");

    let read_only = app.token("owner@acme.example", true).await;
    let mut viewer = app.api(&read_only);
    let refused = viewer
        .json(
            Method::POST,
            "/api/v1/stages",
            &json!({"name": "Nope", "probability": 5}),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_api_moves_deals_through_the_same_rule_and_refuses_stale_versions() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let stages = stages::list(&app.db, tenant).await.expect("stages");
    let (discovery, won, lost) = (
        stage(&stages, "Discovery").id,
        stage(&stages, "Won").id,
        stage(&stages, "Lost").id,
    );

    let created = api
        .json(
            Method::POST,
            "/api/v1/deals",
            &json!({"title": "Managed SOC", "value": 1234567, "recurring_value": 120000, "recurring_period": "annual", "source": "Referral", "expected_close": "2027-03-31"}),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let body = created.json();
    let id = body["id"].as_i64().expect("id");
    assert_eq!(body["stage_name"], "Qualified");
    assert_eq!(body["probability"], 10);
    assert_eq!(
        body["weighted_value"], 123457,
        "12,345.67 × 10 % = 1,234.567 → 1,234.57"
    );
    assert_eq!(body["mrr"], 10000);
    assert_eq!(body["currency"], "USD");
    assert_eq!(body["source"], "Referral");
    assert_eq!(body["close_date"], serde_json::Value::Null);

    let path = format!("/api/v1/deals/{id}");
    let patch = |stage: i64, version: i64| (json!({"stage": stage}), format!("\"{version}\""));

    let (to_won, etag) = patch(won, 1);
    let reply = api
        .json(Method::PATCH, &path, &to_won, &[("if-match", &etag)])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let today = chrono::Utc::now().date_naive().to_string();
    let body = reply.json();
    assert_eq!(
        (
            body["probability"].as_i64(),
            body["weighted_value"].as_i64()
        ),
        (Some(100), Some(1234567))
    );
    assert_eq!(body["close_date"], today.as_str());

    let (to_open, etag) = patch(discovery, 2);
    let body = api
        .json(Method::PATCH, &path, &to_open, &[("if-match", &etag)])
        .await
        .json();
    assert_eq!(
        (
            body["probability"].as_i64(),
            body["weighted_value"].as_i64()
        ),
        (Some(25), Some(308642))
    );
    assert_eq!(body["close_date"], serde_json::Value::Null);

    let early = set_zone(&app, tenant, "Pacific/Pago_Pago").await;
    let (to_lost, etag) = patch(lost, 3);
    let body = api
        .json(Method::PATCH, &path, &to_lost, &[("if-match", &etag)])
        .await
        .json();
    assert_eq!(
        (
            body["probability"].as_i64(),
            body["weighted_value"].as_i64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(body["close_date"], early.to_string().as_str());
    assert_eq!(body["version"], 4);

    // Stale: 409 with the deal as it is, and nothing changed.
    let (to_won, etag) = patch(won, 3);
    let stale = api
        .json(Method::PATCH, &path, &to_won, &[("if-match", &etag)])
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.json()["current"]["stage_name"], "Lost");
    let unchanged = api.get(&path).await.json();
    assert_eq!(
        (
            unchanged["stage_name"].as_str(),
            unchanged["version"].as_i64()
        ),
        (Some("Lost"), Some(4))
    );

    // Won again, a day later: the owner's zone moves from UTC−11 to UTC+14.
    let later = set_zone(&app, tenant, "Pacific/Kiritimati").await;
    let (to_won, etag) = patch(won, 4);
    let body = api
        .json(Method::PATCH, &path, &to_won, &[("if-match", &etag)])
        .await
        .json();
    assert_eq!(
        (body["probability"].as_i64(), body["close_date"].as_str()),
        (Some(100), Some(later.to_string().as_str()))
    );
    let (to_lost, etag) = patch(lost, 5);
    api.json(Method::PATCH, &path, &to_lost, &[("if-match", &etag)])
        .await;

    let missing = api
        .json(Method::PATCH, &path, &json!({"stage": won}), &[])
        .await;
    assert_eq!(missing.status, StatusCode::PRECONDITION_REQUIRED);

    // The board shows the same figures as the deals.
    let board = api.get("/api/v1/pipeline/board").await.json();
    let lost_column = board["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .find(|c| c["name"] == "Lost")
        .expect("a Lost column")
        .clone();
    assert_eq!(lost_column["count"], 1);
    assert_eq!(
        lost_column["totals"]["USD"],
        json!({"count": 1, "value": 1234567, "weighted": 0})
    );

    let invalid = api
        .json(
            Method::POST,
            "/api/v1/deals",
            &json!({"title": "", "value": -5, "currency": "XYZ", "expected_close": "31/03/2027"}),
            &[],
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let problem = invalid.json();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["title", "currency", "expected_close"], "{problem}");
}

#[tokio::test]
async fn the_board_moves_deals_through_the_rule_and_refuses_stale_moves() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let stages = stages::list(&app.db, tenant).await.expect("stages");
    let (qualified, won) = (stage(&stages, "Qualified").id, stage(&stages, "Won").id);
    let id = deal(
        &app,
        tenant,
        "Laptop fleet",
        "1,234.50",
        "USD",
        None,
        day("2027-01-04"),
    )
    .await;
    deal(
        &app,
        tenant,
        "Printers",
        "100",
        "EUR",
        None,
        day("2027-01-04"),
    )
    .await;

    let mut browser = app.signed_in("owner@acme.example").await;
    let board = browser.get("/crm/pipeline").await;
    assert_eq!(board.status, StatusCode::OK);
    let qualified_head = crate::harness::extract_between(
        &board.text,
        &format!(r#"id="column-head-{qualified}""#),
        "</header>",
    )
    .expect("the Qualified column");
    assert!(
        qualified_head.contains(r#"<span class="count">2</span>"#),
        "{qualified_head}"
    );
    assert!(qualified_head.contains("USD 1,234.50"), "{qualified_head}");
    assert!(
        qualified_head.contains("USD 123.45"),
        "weighted at 10 %: {qualified_head}"
    );
    assert!(
        qualified_head.contains("EUR 100.00"),
        "currencies apart: {qualified_head}"
    );

    let moved = browser
        .post_form(
            &format!("/crm/deals/{}/move", id.0),
            &[
                ("stage", &won.to_string()),
                ("version", "1"),
                ("return", ""),
            ],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.text);
    let today = chrono::Utc::now().date_naive();
    let d = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(
        (d.stage_id, d.probability, d.weighted_value, d.close_date),
        (won, 100, 123450, Some(today))
    );

    let board = browser.get("/crm/pipeline").await;
    let won_head = crate::harness::extract_between(
        &board.text,
        &format!(r#"id="column-head-{won}""#),
        "</header>",
    )
    .expect("the Won column");
    assert!(
        won_head.contains(r#"<span class="count">1</span>"#),
        "{won_head}"
    );
    assert!(won_head.contains("USD 1,234.50"), "{won_head}");
    assert!(
        board.text.contains(&format!("Closed {today}")),
        "the card shows its close date"
    );

    // The same card posted again from the version the user saw first: refused, unchanged.
    let stale = browser
        .post_form(
            &format!("/crm/deals/{}/move", id.0),
            &[
                ("stage", &qualified.to_string()),
                ("version", "1"),
                ("return", ""),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale.text.contains("was changed by someone else meanwhile"),
        "{}",
        stale.text
    );
    let after = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(after, d);

    // The same through htmx, as a drag or the card's menu sends it: 409 with the board as it
    // is now (board.js swaps it in), and nothing changed.
    let csrf = browser.csrf.clone().unwrap_or_default();
    let stale = browser
        .post_raw_form(
            &format!("/crm/deals/{}/move", id.0),
            &[
                ("stage", &qualified.to_string()),
                ("version", "1"),
                ("return", ""),
                ("csrf_token", &csrf),
            ],
            &[("HX-Request", "true")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale.text.contains("was changed by someone else meanwhile"),
        "{}",
        stale.text
    );
    assert!(stale.text.contains(&format!(r#"id="column-head-{won}""#)));
    assert_eq!(deals::get(&app.db, tenant, id).await.expect("deal"), d);

    // Back to open (cleared), into lost (today), won again a day later (the owner's zone moves
    // from Pago Pago, UTC−11, to Kiritimati, UTC+14).
    let move_to = async |browser: &mut crate::harness::Client, stage: i64, version: i64| {
        browser
            .post_form(
                &format!("/crm/deals/{}/move", id.0),
                &[
                    ("stage", &stage.to_string()),
                    ("version", &version.to_string()),
                    ("return", ""),
                ],
            )
            .await
            .status
    };
    let early = set_zone(&app, tenant, "Pacific/Pago_Pago").await;
    let lost = stage(&stages, "Lost").id;
    assert_eq!(
        move_to(&mut browser, qualified, 2).await,
        StatusCode::SEE_OTHER
    );
    let d = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(
        (d.probability, d.weighted_value, d.close_date),
        (10, 12345, None)
    );
    assert_eq!(move_to(&mut browser, lost, 3).await, StatusCode::SEE_OTHER);
    let d = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(
        (d.probability, d.weighted_value, d.close_date),
        (0, 0, Some(early))
    );
    let later = set_zone(&app, tenant, "Pacific/Kiritimati").await;
    assert_eq!(move_to(&mut browser, won, 4).await, StatusCode::SEE_OTHER);
    let d = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(
        (d.probability, d.weighted_value, d.close_date),
        (100, 123450, Some(later))
    );

    let page = browser.get(&format!("/crm/deals/{}", id.0)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("Qualified → Won"),
        "history: {}",
        page.text
    );
}

/// Puts the owner in `zone`, so that "today" for their next write is that zone's date.
async fn set_zone(app: &TestApp, tenant: TenantId, zone: &str) -> NaiveDate {
    let (user, _) = kith_store::users::find_for_login(&app.db, "owner@acme.example")
        .await
        .expect("lookup")
        .expect("owner");
    kith_store::users::update_profile(&app.db, tenant, UserId(user.id), &user.name, zone)
        .await
        .expect("zone set");
    kith_domain::pipeline::today_in(zone, chrono::Utc::now())
}

#[tokio::test]
async fn a_bulk_stage_change_moves_every_deal_through_the_rule_or_none() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let stages = stages::list(&app.db, tenant).await.expect("stages");
    let (negotiation, won, lost) = (
        stage(&stages, "Negotiation").id,
        stage(&stages, "Won").id,
        stage(&stages, "Lost").id,
    );
    let a = deal(&app, tenant, "A", "100.01", "USD", None, day("2027-01-04")).await;
    let b = deal(&app, tenant, "B", "300", "EUR", None, day("2027-01-04")).await;

    let bulk = |stage: i64, versions: [i64; 2]| json!({"stage": stage, "deals": [{"id": a.0, "version": versions[0]}, {"id": b.0, "version": versions[1]}]});
    let figures = |body: &serde_json::Value| -> Vec<(i64, i64, serde_json::Value)> {
        body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|d| {
                (
                    d["probability"].as_i64().unwrap_or(-1),
                    d["weighted_value"].as_i64().unwrap_or(-1),
                    d["close_date"].clone(),
                )
            })
            .collect()
    };

    // Won today (Pacific/Pago_Pago, UTC−11), back to open, lost, won again a day later
    // (Pacific/Kiritimati, UTC+14: always one calendar day ahead of Pago Pago).
    let early = set_zone(&app, tenant, "Pacific/Pago_Pago").await;
    let reply = api
        .json(
            Method::POST,
            "/api/v1/deals/bulk-stage",
            &bulk(won, [1, 1]),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let early_text = json!(early.to_string());
    assert_eq!(
        figures(&reply.json()),
        [
            (100, 10001, early_text.clone()),
            (100, 30000, early_text.clone())
        ]
    );

    let reply = api
        .json(
            Method::POST,
            "/api/v1/deals/bulk-stage",
            &bulk(negotiation, [2, 2]),
            &[],
        )
        .await;
    assert_eq!(
        figures(&reply.json()),
        [(75, 7501, json!(null)), (75, 22500, json!(null))],
        "75 % of 100.01 is 75.0075 → 75.01"
    );

    let reply = api
        .json(
            Method::POST,
            "/api/v1/deals/bulk-stage",
            &bulk(lost, [3, 3]),
            &[],
        )
        .await;
    assert_eq!(
        figures(&reply.json()),
        [(0, 0, early_text.clone()), (0, 0, early_text)]
    );

    let later = set_zone(&app, tenant, "Pacific/Kiritimati").await;
    assert_eq!(later, early.succ_opt().expect("a next day"));
    let reply = api
        .json(
            Method::POST,
            "/api/v1/deals/bulk-stage",
            &bulk(won, [4, 4]),
            &[],
        )
        .await;
    let later_text = json!(later.to_string());
    assert_eq!(
        figures(&reply.json()),
        [(100, 10001, later_text.clone()), (100, 30000, later_text)]
    );

    // One stale version: 409, and neither deal moved.
    let stale = api
        .json(
            Method::POST,
            "/api/v1/deals/bulk-stage",
            &bulk(negotiation, [5, 4]),
            &[],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text);
    for id in [a, b] {
        let d = deals::get(&app.db, tenant, id).await.expect("deal");
        assert_eq!((d.stage_id, d.version, d.close_date), (won, 5, Some(later)));
    }
}

#[tokio::test]
async fn the_deal_form_moves_deals_through_the_rule_and_refuses_stale_edits() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let stages = stages::list(&app.db, tenant).await.expect("stages");
    let (proposal, won, lost) = (
        stage(&stages, "Proposal").id,
        stage(&stages, "Won").id,
        stage(&stages, "Lost").id,
    );
    let mut browser = app.signed_in("owner@acme.example").await;
    let early = set_zone(&app, tenant, "Pacific/Pago_Pago").await;

    let created = browser
        .post_form(
            "/crm/deals",
            &[
                ("title", "Helpdesk retainer"),
                ("value", "2,000.50"),
                ("stage", &won.to_string()),
                ("version", "0"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text);
    let id = DealId(
        created
            .header("location")
            .trim_start_matches("/crm/deals/")
            .parse()
            .expect("the deal's page"),
    );
    let d = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(
        (d.probability, d.weighted_value, d.close_date),
        (100, 200050, Some(early))
    );

    let save = |stage: i64, version: i64| {
        vec![
            ("title".to_owned(), "Helpdesk retainer".to_owned()),
            ("value".to_owned(), "2,000.50".to_owned()),
            ("stage".to_owned(), stage.to_string()),
            ("version".to_owned(), version.to_string()),
        ]
    };
    let post = async |browser: &mut crate::harness::Client, fields: Vec<(String, String)>| {
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        browser
            .post_form(&format!("/crm/deals/{}", id.0), &pairs)
            .await
    };

    assert_eq!(
        post(&mut browser, save(proposal, 1)).await.status,
        StatusCode::SEE_OTHER
    );
    let d = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(
        (d.probability, d.weighted_value, d.close_date),
        (50, 100025, None)
    );

    assert_eq!(
        post(&mut browser, save(lost, 2)).await.status,
        StatusCode::SEE_OTHER
    );
    let d = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(
        (d.probability, d.weighted_value, d.close_date),
        (0, 0, Some(early))
    );

    let later = set_zone(&app, tenant, "Pacific/Kiritimati").await;
    assert_eq!(
        post(&mut browser, save(won, 3)).await.status,
        StatusCode::SEE_OTHER
    );
    let d = deals::get(&app.db, tenant, id).await.expect("deal");
    assert_eq!(
        (d.probability, d.weighted_value, d.close_date),
        (100, 200050, Some(later))
    );

    // Saving from an old version: 409, the saved deal shown, the user's values listed, nothing saved.
    let mut stale = save(proposal, 3);
    stale[0].1 = "Renamed meanwhile".to_owned();
    let reply = post(&mut browser, stale).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(
        reply.text.contains("Someone else changed this deal"),
        "{}",
        reply.text
    );
    assert!(
        reply.text.contains("Renamed meanwhile"),
        "the user's value is listed"
    );
    assert_eq!(deals::get(&app.db, tenant, id).await.expect("deal"), d);

    let invalid = browser
        .post_form(
            "/crm/deals",
            &[("title", ""), ("value", "12.345"), ("version", "0")],
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        invalid
            .text
            .contains("has more decimal places than USD allows (2)"),
        "{}",
        invalid.text
    );
}

#[tokio::test]
async fn the_importer_creates_and_moves_deals_through_the_rule_keeping_file_close_dates() {
    use kith::import::{self, Entity};

    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let today = kith_domain::pipeline::today_in("UTC", chrono::Utc::now());
    let find = async |external: &str| {
        let mut tx = app.db.begin().await.expect("begin");
        deals::find_by_external_id(&mut tx, tenant, external)
            .await
            .expect("lookup")
            .expect("the deal")
    };

    let first = "Opportunity ID,Deal Name,Amount,Deal Stage,Close Date,Sales Agent\n\
                 OPP-1,Firewall,\"1,000.01\",Won,2026-11-30,owner@acme.example\n\
                 OPP-2,Backup,500,Won,,\n\
                 OPP-3,Email security,250,Proposal,2026-10-01,Nobody Known\n\
                 OPP-4,Broken,12,Demo,,\n";
    let report = import::run(&app.db, tenant, Entity::Deals, first.as_bytes())
        .await
        .expect("import ran");
    assert_eq!((report.rows, report.created, report.updated), (4, 3, 0));
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].row, 5);
    assert!(
        report.failed[0]
            .message
            .contains("stage \"Demo\" is not a stage here"),
        "{:?}",
        report.failed
    );
    let text = report.to_string();
    assert!(
        text.contains("close date left out: the deal's stage is open (row 4)"),
        "{text}"
    );
    assert!(
        text.contains("no user is \"Nobody Known\"; the deal has no owner (row 4)"),
        "{text}"
    );

    let firewall = find("OPP-1").await;
    assert_eq!(
        (
            firewall.probability,
            firewall.weighted_value,
            firewall.close_date
        ),
        (100, 100001, Some(day("2026-11-30")))
    );
    assert!(firewall.owner_id.is_some(), "owner found by email");
    let backup = find("OPP-2").await;
    assert_eq!(
        (backup.probability, backup.weighted_value, backup.close_date),
        (100, 50000, Some(today))
    );
    let email = find("OPP-3").await;
    assert_eq!(
        (email.probability, email.weighted_value, email.close_date),
        (50, 12500, None)
    );

    // Moves: back to open (cleared), into lost (today), won again on a later date (the file's).
    for (stage, close, expected) in [
        ("Discovery", "", (25, 25000, None)),
        ("Lost", "", (0, 0, Some(today))),
        ("Won", "2027-02-01", (100, 100001, Some(day("2027-02-01")))),
    ] {
        let csv =
            format!("id,title,value,stage,close_date\nOPP-1,Firewall,1000.01,{stage},{close}\n");
        let report = import::run(&app.db, tenant, Entity::Deals, csv.as_bytes())
            .await
            .expect("import ran");
        assert_eq!((report.created, report.updated), (0, 1), "{report}");
        let d = find("OPP-1").await;
        assert_eq!(
            (d.probability, d.weighted_value, d.close_date),
            expected,
            "into {stage}"
        );
    }
    let history: Vec<String> = deals::history_of(&app.db, tenant, DealId(firewall.id))
        .await
        .expect("history")
        .into_iter()
        .map(|c| c.to_stage_name)
        .collect();
    assert_eq!(history, ["Won", "Discovery", "Lost", "Won"]);
}

#[tokio::test]
async fn the_deal_form_sets_contacts_with_roles() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let contact = api
        .json(
            Method::POST,
            "/api/v1/contacts",
            &json!({"first_name": "Priya", "last_name": "Shah", "email": "priya@client.example"}),
            &[],
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("a contact");
    let mut browser = app.signed_in("owner@acme.example").await;

    let unknown = browser
        .post_form(
            "/crm/deals",
            &[
                ("title", "SOC"),
                ("version", "0"),
                ("contact", "nobody@client.example"),
                ("role", "billing"),
            ],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown.text.contains("no contact has the email"),
        "{}",
        unknown.text
    );

    let created = browser
        .post_form(
            "/crm/deals",
            &[
                ("title", "SOC"),
                ("version", "0"),
                ("contact", " PRIYA@client.example "),
                ("role", "decision-maker"),
                ("contact", ""),
                ("role", "primary"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text);
    let id: i64 = created
        .header("location")
        .trim_start_matches("/crm/deals/")
        .parse()
        .expect("the deal's page");
    let people = deals::contacts_of(&app.db, tenant, &[id])
        .await
        .expect("contacts");
    let roles: Vec<(i64, String)> = people[&id]
        .iter()
        .map(|c| (c.contact_id, c.role.clone()))
        .collect();
    assert_eq!(roles, [(contact, "decision-maker".to_owned())]);

    let form = browser.get(&format!("/crm/deals/{id}/edit")).await;
    assert!(
        form.text.contains(&format!(
            "Priya Shah &#60;priya@client.example&#62; (#{contact})"
        )),
        "{}",
        form.text
    );
    let page = browser.get(&format!("/crm/deals/{id}")).await;
    assert!(
        page.text.contains("Priya Shah"),
        "the deal page lists the contact"
    );
}

#[tokio::test]
async fn home_shows_my_open_pipeline_from_the_boards_figures() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let (owner, _) = kith_store::users::find_for_login(&app.db, "owner@acme.example")
        .await
        .expect("lookup")
        .expect("owner");
    let lists = picklists::load(&app.db, tenant).await.expect("lists");
    let stages = stages::list(&app.db, tenant).await.expect("stages");
    for (title, value, stage) in [
        ("Mine open", "1,234.50", "Qualified"),
        ("Mine won", "999", "Won"),
    ] {
        let input = DealInput {
            title: title.into(),
            value: Some(value.into()),
            owner_id: Some(owner.id),
            stage_id: Some(stage_named(&stages, stage)),
            ..Default::default()
        };
        let fields = DealFields::parse(&input, &lists, "USD").expect("valid");
        let mut tx = app.db.begin().await.expect("begin");
        deals::create(&mut tx, tenant, &fields, None, day("2027-01-04"), None)
            .await
            .expect("created");
        tx.commit().await.expect("commit");
    }
    deal(
        &app,
        tenant,
        "Someone else's",
        "5000",
        "USD",
        None,
        day("2027-01-04"),
    )
    .await;

    let mut browser = app.signed_in("owner@acme.example").await;
    let home = browser.get("/").await;
    assert!(
        home.text
            .contains("open deals of mine in USD: USD 1,234.50, weighted USD 123.45"),
        "{}",
        home.text
    );
}

fn stage_named(stages: &[Stage], name: &str) -> i64 {
    stage(stages, name).id
}

#[tokio::test]
async fn rules_hold_when_stages_flip_currencies_change_or_bulk_repeats_a_deal() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let stages = stages::list(&app.db, tenant).await.expect("stages");
    let proposal = stage(&stages, "Proposal");
    let id = deal(
        &app,
        tenant,
        "Flip",
        "1000",
        "USD",
        Some(proposal.id),
        day("2027-01-04"),
    )
    .await;

    // A stage holding deals cannot become won: its deals would have no close date.
    let flip = api
        .json(
            Method::PATCH,
            &format!("/api/v1/stages/{}", proposal.id),
            &json!({"is_won": true, "probability": 100}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(
        flip.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        flip.text
    );
    assert_eq!(flip.json()["errors"][0]["field"], "is_won");
    assert!(
        flip.text.contains("the stage holds 1 deals"),
        "{}",
        flip.text
    );

    // A new currency without new amounts would turn USD 1,000.00 into JPY 100,000.
    let path = format!("/api/v1/deals/{}", id.0);
    let yen = api
        .json(
            Method::PATCH,
            &path,
            &json!({"currency": "JPY"}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(yen.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", yen.text);
    assert_eq!(yen.json()["errors"][0]["field"], "currency");
    let with_value = api
        .json(
            Method::PATCH,
            &path,
            &json!({"currency": "JPY", "value": 150000}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(with_value.status, StatusCode::OK, "{}", with_value.text);
    assert_eq!(
        (
            with_value.json()["value"].as_i64(),
            with_value.json()["currency"].as_str()
        ),
        (Some(150000), Some("JPY"))
    );

    let twice = api
        .json(
            Method::POST,
            "/api/v1/deals/bulk-stage",
            &json!({"stage": proposal.id, "deals": [{"id": id.0, "version": 2}, {"id": id.0, "version": 2}]}),
            &[],
        )
        .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(twice.json()["errors"][0]["field"], "deals[1].id");

    let unknown = api.get("/api/v1/stages?foo=1").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn leaving_a_lost_stage_clears_the_lost_reason_on_every_path() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);
    let stages = stages::list(&app.db, tenant).await.expect("stages");
    let (discovery, won, lost) = (
        stage(&stages, "Discovery").id,
        stage(&stages, "Won").id,
        stage(&stages, "Lost").id,
    );

    let created = api
        .json(
            Method::POST,
            "/api/v1/deals",
            &json!({"title": "Backup", "value": 50000, "stage": lost, "lost_reason": "Went with a cheaper MSP"}),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let body = created.json();
    assert_eq!(body["lost_reason"], "Went with a cheaper MSP");
    let id = body["id"].as_i64().expect("id");
    let path = format!("/api/v1/deals/{id}");

    // Through the API's PATCH (the form's path too): won after all.
    let to_won = api
        .json(
            Method::PATCH,
            &path,
            &json!({"stage": won}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(to_won.status, StatusCode::OK, "{}", to_won.text);
    assert_eq!(to_won.json()["lost_reason"], serde_json::Value::Null);

    // Lost again with a new reason, which a move between closed stages keeps.
    let to_lost = api
        .json(
            Method::PATCH,
            &path,
            &json!({"stage": lost, "lost_reason": "Budget cut"}),
            &[("if-match", "\"2\"")],
        )
        .await;
    assert_eq!(to_lost.json()["lost_reason"], "Budget cut");

    // Through the board's move: reopened.
    move_deal(&app, tenant, DealId(id), discovery, day("2027-02-01"))
        .await
        .expect("reopened");
    let reopened = deals::get(&app.db, tenant, DealId(id)).await.expect("deal");
    assert_eq!(
        (reopened.stage_id, reopened.lost_reason, reopened.close_date),
        (discovery, None, None)
    );
}

#[tokio::test]
async fn stage_names_are_unique_and_positions_close_up_after_a_delete() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);

    let twin = api
        .json(
            Method::POST,
            "/api/v1/stages",
            &json!({"name": " PROPOSAL ", "probability": 50}),
            &[],
        )
        .await;
    assert_eq!(
        twin.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        twin.text
    );
    assert_eq!(twin.json()["errors"][0]["field"], "name");
    assert_eq!(
        twin.json()["errors"][0]["message"],
        "another stage is already called Proposal"
    );

    let stages = stages::list(&app.db, tenant).await.expect("stages");
    let qualified = stage(&stages, "Qualified");
    let renamed = api
        .json(
            Method::PATCH,
            &format!("/api/v1/stages/{}", qualified.id),
            &json!({"name": "Négotiation", "probability": 10}),
            &[("if-match", &format!("\"{}\"", qualified.version))],
        )
        .await;
    assert_eq!(
        renamed.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "accents and case do not make a new name: {}",
        renamed.text
    );

    // Renaming a stage to its own name, in another case, is no clash.
    let same = api
        .json(
            Method::PATCH,
            &format!("/api/v1/stages/{}", qualified.id),
            &json!({"name": "QUALIFIED", "probability": 10}),
            &[("if-match", &format!("\"{}\"", qualified.version))],
        )
        .await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.text);

    let discovery = stage(&stages, "Discovery").id;
    let deleted = api
        .send(
            Method::DELETE,
            &format!("/api/v1/stages/{discovery}"),
            None,
            Vec::new(),
            &[],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    let positions: Vec<(String, i32)> = stages::list(&app.db, tenant)
        .await
        .expect("stages")
        .into_iter()
        .map(|s| (s.name, s.sort_order))
        .collect();
    assert_eq!(
        positions,
        [
            ("QUALIFIED".to_owned(), 1),
            ("Proposal".to_owned(), 2),
            ("Negotiation".to_owned(), 3),
            ("Won".to_owned(), 4),
            ("Lost".to_owned(), 5),
        ]
    );
}
