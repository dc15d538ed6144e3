//! The forecast (SPEC §5.3): open deals by expected close month, per currency, with the board's
//! filters; weighted figures that are sums of the per-deal rounded values; MRR and ARR.

use crate::harness::{Client, TestApp};
use axum::http::{Method, StatusCode};
use chrono::{Months, NaiveDate};
use kith_domain::Role;
use kith_domain::deal::{DealFields, DealInput, RecurringPeriod};
use kith_store::deals::DealFilter;
use kith_store::stages::{self, Stage};
use serde_json::{Value, json};

fn stage_id(stages: &[Stage], name: &str) -> i64 {
    stages
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no stage {name}"))
        .id
}

async fn create(api: &mut Client, deal: Value) -> Value {
    let reply = api.json(Method::POST, "/api/v1/deals", &deal, &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.json()
}

/// A workspace with open deals in March and April 2027 in USD and EUR, one without a date,
/// and won and lost deals that the months leave out. Returns the API client and Sam's id.
async fn workspace(app: &TestApp) -> (Client, i64) {
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    app.user(tenant, "sam@acme.example", Role::Member).await;
    let (sam, _) = kith_store::users::find_for_login(&app.db, "sam@acme.example")
        .await
        .expect("lookup")
        .expect("sam");
    let stages = stages::list(&app.db, tenant).await.expect("stages");
    let stage = |name: &str| stage_id(&stages, name);
    let token = app.token("owner@acme.example", false).await;
    let mut api = app.api(&token);

    let deals = [
        // 1,234.50 at 25 % is 308.625, rounded per deal to 308.63.
        json!({"title": "A", "value": 123450, "stage": stage("Discovery"), "expected_close": "2027-03-10",
               "recurring_value": 120000, "recurring_period": "annual"}),
        json!({"title": "B", "value": 123450, "stage": stage("Discovery"), "expected_close": "2027-03-31",
               "recurring_value": 5000, "recurring_period": "monthly"}),
        // 0.06 a year is 0.005 a month, which rounds up to 0.01.
        json!({"title": "C", "value": 10000, "stage": stage("Negotiation"), "expected_close": "2027-04-01",
               "recurring_value": 6, "recurring_period": "annual", "owner": sam.id}),
        // 1.00 a year is 0.0833… a month: 0.08.
        json!({"title": "D", "value": 5000, "currency": "EUR", "stage": stage("Proposal"),
               "expected_close": "2027-03-15", "recurring_value": 100, "recurring_period": "annual"}),
        // 999.99 at 10 % is 99.999: 100.00.
        json!({"title": "E", "value": 99999}),
        json!({"title": "Won annual", "value": 50000, "stage": stage("Won"), "expected_close": "2027-03-20",
               "recurring_value": 120000, "recurring_period": "annual"}),
        json!({"title": "Won monthly", "value": 1000, "stage": stage("Won"), "expected_close": "2027-04-20",
               "recurring_value": 2500, "recurring_period": "monthly", "owner": sam.id}),
        json!({"title": "Won euro", "value": 1000, "currency": "EUR", "stage": stage("Won"),
               "recurring_value": 1200, "recurring_period": "monthly"}),
        json!({"title": "Won once", "value": 7000, "stage": stage("Won"), "expected_close": "2027-03-01"}),
        json!({"title": "Lost", "value": 100000000, "stage": stage("Lost"), "expected_close": "2027-03-05",
               "recurring_value": 99900, "recurring_period": "monthly"}),
    ];
    for deal in deals {
        create(&mut api, deal).await;
    }

    // Another workspace's deal in the same month never counts.
    app.tenant("Bravo", "owner@bravo.example").await;
    let other = app.token("owner@bravo.example", false).await;
    create(
        &mut app.api(&other),
        json!({"title": "Bravo Secretdeal", "value": 77700, "expected_close": "2027-03-12",
               "recurring_value": 700, "recurring_period": "monthly"}),
    )
    .await;
    (api, sam.id)
}

#[tokio::test]
async fn the_forecast_sums_open_deals_by_month_and_currency() {
    let app = TestApp::new().await;
    let (mut api, _) = workspace(&app).await;

    let reply = api.get("/api/v1/pipeline/forecast").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({
            "months": [
                {"month": "2027-03", "currency": "EUR", "count": 1, "value": 5000, "weighted": 2500, "mrr": 8},
                {"month": "2027-03", "currency": "USD", "count": 2, "value": 246900, "weighted": 61726, "mrr": 15000},
                {"month": "2027-04", "currency": "USD", "count": 1, "value": 10000, "weighted": 7500, "mrr": 1},
            ],
            "no_date": [
                {"currency": "USD", "count": 1, "value": 99999, "weighted": 10000, "mrr": 0},
            ],
            "won_recurring": [
                {"currency": "EUR", "mrr": 1200, "arr": 14400},
                {"currency": "USD", "mrr": 12500, "arr": 150000},
            ],
        })
    );
}

#[tokio::test]
async fn forecast_figures_are_the_deals_own_rounded_figures() {
    let app = TestApp::new().await;
    let (mut api, _) = workspace(&app).await;
    let forecast = api.get("/api/v1/pipeline/forecast").await.json();
    let deals = api.get("/api/v1/deals?limit=200").await.json();
    let board = api.get("/api/v1/pipeline/board").await.json();

    // Each month's weighted figure is the sum of its deals' own weighted values, and each
    // month's MRR the sum of their MRR.
    let open: Vec<&Value> = deals["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|d| !["Won", "Lost"].contains(&d["stage_name"].as_str().unwrap_or_default()))
        .collect();
    for month in forecast["months"].as_array().expect("months") {
        let of_month: Vec<&&Value> = open
            .iter()
            .filter(|d| {
                d["currency"] == month["currency"]
                    && d["expected_close"]
                        .as_str()
                        .is_some_and(|day| day.starts_with(month["month"].as_str().unwrap_or("?")))
            })
            .collect();
        let sum = |field: &str| -> i64 {
            of_month
                .iter()
                .map(|d| d[field].as_i64().unwrap_or_default())
                .sum()
        };
        assert_eq!(month["count"].as_i64(), Some(of_month.len() as i64));
        assert_eq!(month["value"].as_i64(), Some(sum("value")), "{month}");
        assert_eq!(
            month["weighted"].as_i64(),
            Some(sum("weighted_value")),
            "{month}"
        );
        assert_eq!(month["mrr"].as_i64(), Some(sum("mrr")), "{month}");
    }

    // The open columns of the board add up to the same figures, currency by currency.
    for currency in ["USD", "EUR"] {
        let on_board: i64 = board["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .filter(|c| c["is_won"] == false && c["is_lost"] == false)
            .map(|c| {
                c["totals"][currency]["weighted"]
                    .as_i64()
                    .unwrap_or_default()
            })
            .sum();
        let forecast_total: i64 = ["months", "no_date"]
            .iter()
            .flat_map(|part| forecast[*part].as_array().expect("rows"))
            .filter(|row| row["currency"] == currency)
            .map(|row| row["weighted"].as_i64().unwrap_or_default())
            .sum();
        assert_eq!(forecast_total, on_board, "{currency}");
    }
}

#[tokio::test]
async fn the_forecast_takes_the_boards_filters() {
    let app = TestApp::new().await;
    let (mut api, sam) = workspace(&app).await;

    let reply = api
        .get(&format!("/api/v1/pipeline/forecast?owner={sam}"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({
            "months": [
                {"month": "2027-04", "currency": "USD", "count": 1, "value": 10000, "weighted": 7500, "mrr": 1},
            ],
            "no_date": [],
            "won_recurring": [{"currency": "USD", "mrr": 2500, "arr": 30000}],
        })
    );

    let march = api
        .get("/api/v1/pipeline/forecast?close_from=2027-03-01&close_to=2027-03-31&search=b")
        .await
        .json();
    assert_eq!(
        march["months"],
        json!([{"month": "2027-03", "currency": "USD", "count": 1, "value": 123450, "weighted": 30863, "mrr": 5000}])
    );

    // Switching between the board and the forecast keeps the filters.
    let mut browser = app.signed_in("owner@acme.example").await;
    let forecast = browser
        .get(&format!("/crm/pipeline/forecast?owner={sam}&search=b"))
        .await;
    assert!(
        forecast.text.contains(&format!(
            "id=\"view-switch\" href=\"/crm/pipeline?search=b&#38;owner={sam}\""
        )),
        "{}",
        forecast.text
    );
    let board = browser.get(&format!("/crm/pipeline?owner={sam}")).await;
    assert!(
        board.text.contains(&format!(
            "id=\"view-switch\" href=\"/crm/pipeline/forecast?owner={sam}\""
        )),
        "{}",
        board.text
    );

    let unknown = api.get("/api/v1/pipeline/forecast?month=2027-03").await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text);
    let bad_date = api.get("/api/v1/pipeline/forecast?close_from=March").await;
    assert_eq!(bad_date.status, StatusCode::BAD_REQUEST);
    assert!(bad_date.text.contains("close_from"), "{}", bad_date.text);
}

#[tokio::test]
async fn the_forecast_page_shows_the_table_and_a_chart_per_currency() {
    let app = TestApp::new().await;
    let (_, sam) = workspace(&app).await;
    let mut browser = app.signed_in("owner@acme.example").await;

    let page = browser.get("/crm/pipeline/forecast").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let html = &page.text;
    // Won recurring revenue, per currency.
    for figure in ["USD 125.00", "USD 1,500.00", "EUR 12.00", "EUR 144.00"] {
        assert!(html.contains(figure), "{figure} missing");
    }
    // The USD table: March (2 deals), April, no date, and the total.
    for row in [
        "<th scope=\"row\">Mar 2027</th><td class=\"num\">2</td><td class=\"num\">USD 2,469.00</td><td class=\"num\">USD 617.26</td><td class=\"num\">USD 150.00</td>",
        "<th scope=\"row\">Apr 2027</th><td class=\"num\">1</td><td class=\"num\">USD 100.00</td><td class=\"num\">USD 75.00</td><td class=\"num\">USD 0.01</td>",
        "<th scope=\"row\">No expected close</th><td class=\"num\">1</td><td class=\"num\">USD 999.99</td><td class=\"num\">USD 100.00</td><td class=\"num\">USD 0.00</td>",
        "<th scope=\"row\">Total</th><td class=\"num\">4</td><td class=\"num\">USD 3,568.99</td><td class=\"num\">USD 792.26</td><td class=\"num\">USD 150.01</td>",
        "<th scope=\"row\">Mar 2027</th><td class=\"num\">1</td><td class=\"num\">EUR 50.00</td><td class=\"num\">EUR 25.00</td><td class=\"num\">EUR 0.08</td>",
    ] {
        assert!(html.contains(row), "row missing: {row}\n{html}");
    }
    assert!(!html.contains("Secret"), "another workspace's deal shows");
    assert!(!html.contains("1,000,000.00"), "the lost deal counts");

    // The chart: an accessible SVG in the workspace's currency, with a switch to EUR.
    assert!(html.contains("<svg "), "no chart");
    assert!(html.contains("role=\"img\""));
    assert!(html.contains("aria-label=\"Open deals in USD by expected close month"));
    assert!(html.contains("<title>Mar 2027, weighted: USD 617.26</title>"));
    assert!(html.contains("<title>Apr 2027, value: USD 100.00</title>"));
    assert!(
        html.contains("1 open deal in USD without an expected close date is in the table only")
    );
    assert!(html.contains("href=\"/crm/pipeline/forecast?currency=EUR\""));
    assert!(!html.contains(" style="), "the CSP forbids inline styles");

    let euro = browser.get("/crm/pipeline/forecast?currency=EUR").await;
    assert!(
        euro.text
            .contains("aria-label=\"Open deals in EUR by expected close month")
    );
    assert!(
        euro.text
            .contains("<title>Mar 2027, value: EUR 50.00</title>")
    );
    assert!(
        !euro.text.contains("<title>Apr 2027"),
        "April has no EUR deals"
    );

    // A filter narrows the table, the chart and the won figures alike.
    let sams = browser
        .get(&format!("/crm/pipeline/forecast?owner={sam}"))
        .await
        .text;
    assert!(sams.contains(
        "<th scope=\"row\">Apr 2027</th><td class=\"num\">1</td><td class=\"num\">USD 100.00</td>"
    ));
    assert!(!sams.contains("USD 2,469.00"));
    assert!(!sams.contains("EUR"), "Sam has no euro deals");
    assert!(
        sams.contains("USD 25.00") && sams.contains("USD 300.00"),
        "Sam's won MRR and ARR"
    );
    assert!(sams.contains(&format!("<option value=\"{sam}\" selected>")));

    // A wrong filter is explained, not an error page.
    let wrong = browser.get("/crm/pipeline/forecast?close_from=soon").await;
    assert_eq!(wrong.status, StatusCode::OK);
    assert!(
        wrong
            .text
            .contains("close_from: must be a date like 2027-03-31"),
        "{}",
        wrong.text
    );

    // The board links to the forecast and back.
    let board = browser.get("/crm/pipeline").await;
    assert!(board.text.contains("href=\"/crm/pipeline/forecast\""));
    assert!(html.contains("href=\"/crm/pipeline\""));
}

#[tokio::test]
async fn a_workspace_without_dated_deals_gets_a_plain_message() {
    let app = TestApp::new().await;
    app.tenant("Acme", "owner@acme.example").await;
    let mut browser = app.signed_in("owner@acme.example").await;
    let page = browser.get("/crm/pipeline/forecast").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(
        page.text
            .contains("No open deal matching these filters has an expected close date.")
    );
    assert!(page.text.contains("No open deals match these filters."));
    assert!(page.text.contains("No won deal has a recurring value."));
    assert!(!page.text.contains("<svg "));
}

#[tokio::test]
async fn the_databases_round_annual_mrr_as_the_domain_does() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let lists = kith_store::picklists::load(&app.db, tenant)
        .await
        .expect("lists");
    let first = NaiveDate::from_ymd_opt(2027, 1, 1).expect("a day");
    // One deal a month, so that each month's MRR is one deal's: every remainder of 12, both
    // sides of each half, and a large value.
    let annual: Vec<i64> = (0..=25)
        .chain([100, 1_000_000_006, 99_999_999_999_999])
        .collect();
    for (n, value) in annual.iter().enumerate() {
        let close = first
            .checked_add_months(Months::new(n as u32))
            .expect("a month");
        let input = DealInput {
            title: format!("Annual {value}"),
            recurring_value: Some(kith_domain::money::format_amount(*value, "USD")),
            recurring_period: Some("annual".into()),
            expected_close: Some(close.to_string()),
            ..Default::default()
        };
        let fields = DealFields::parse(&input, &lists, "USD").expect("valid deal");
        let mut tx = app.db.begin().await.expect("begin");
        kith_store::deals::create(&mut tx, tenant, &fields, None, first, None)
            .await
            .expect("created");
        tx.commit().await.expect("commit");
    }

    let found = kith_store::forecast::forecast(&app.db, tenant, &DealFilter::default())
        .await
        .expect("forecast");
    let mrr: Vec<i64> = found.months.iter().map(|row| row.mrr).collect();
    let expected: Vec<i64> = annual
        .iter()
        .map(|v| RecurringPeriod::Annual.mrr(*v))
        .collect();
    assert_eq!(mrr, expected);
    assert_eq!(
        &mrr[..8],
        [0, 0, 0, 0, 0, 0, 1, 1],
        "0.06 a year rounds up to 0.01"
    );
}
