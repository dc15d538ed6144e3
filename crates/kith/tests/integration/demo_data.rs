//! The public demo data imports completely, with every skipped row reported, and the imported
//! records can be filtered and searched in the pages and the API.

use crate::harness::TestApp;
use axum::http::StatusCode;
use chrono::NaiveDate;
use kith::import::{self, Entity};
use kith_domain::{DealId, TenantId};
use kith_store::deals::{self, DealFilter};
use kith_store::stages::{self, Stage};
use kith_store::{Db, Record, clients, users};
use sqlx::AssertSqlSafe;

const ACCOUNTS: &str = include_str!("../../demo/maven-accounts.csv");
const CONTACTS: &str = include_str!("../../demo/atomic-contacts.csv");

#[tokio::test]
async fn the_demo_files_import_and_can_be_filtered() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Demo", "owner@demo.example").await;

    let accounts = import::run(&app.db, tenant, Entity::Clients, ACCOUNTS.as_bytes())
        .await
        .expect("accounts import");
    assert_eq!((accounts.rows, accounts.created), (85, 85));
    assert!(accounts.failed.is_empty() && accounts.skipped.is_empty());
    assert_eq!(
        accounts.ignored_columns,
        ["year_established", "revenue", "employees"]
    );
    let typo_rows: Vec<u64> = accounts
        .remarks
        .iter()
        .filter(|r| r.message == "industry \"technolgy\" read as \"Technology\"")
        .map(|r| r.row)
        .collect();
    assert_eq!(typo_rows.len(), 12, "the sector typo is reported per row");

    let contacts = import::run(&app.db, tenant, Entity::Contacts, CONTACTS.as_bytes())
        .await
        .expect("contacts import");
    assert_eq!((contacts.rows, contacts.created), (500, 500));
    assert_eq!(
        contacts.clients_created, 55,
        "each of the 55 companies becomes one client"
    );
    assert!(contacts.failed.is_empty() && contacts.skipped.is_empty());

    let token = app.token("owner@demo.example", true).await;
    let mut api = app.api(&token);
    assert_eq!(api.get("/api/v1/clients").await.json()["total"], 140);
    assert_eq!(api.get("/api/v1/contacts").await.json()["total"], 500);

    // 12 "technolgy" + 0 spelled right in the accounts file.
    let technology = api
        .get("/api/v1/clients?industry=Technology&limit=200")
        .await
        .json();
    assert_eq!(technology["total"], 12);
    assert!(
        technology["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|c| c["name"] == "Acme Corporation")
    );
    assert_eq!(
        api.get("/api/v1/clients?industry=Medical").await.json()["total"],
        12
    );

    // "Marlon Schmidt" appears three times, at three companies, and stays three people.
    let marlon = api
        .get("/api/v1/contacts?search=marlon%20schmidt")
        .await
        .json();
    assert_eq!(marlon["total"], 3);
    let apostrophe = api.get("/api/v1/contacts?search=ohara").await.json();
    assert!(
        apostrophe["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|c| c["last_name"]
                .as_str()
                .unwrap_or_default()
                .contains("O'Hara"))
    );
    assert!(apostrophe["total"].as_i64().unwrap_or_default() >= 1);

    let parent = api
        .get("/api/v1/clients?search=Acme%20Corporation")
        .await
        .json();
    let acme_id = parent["items"][0]["id"].as_i64().expect("Acme Corporation");
    let children = app.db.clone();
    let kids = kith_store::clients::children(&children, tenant, kith_domain::ClientId(acme_id))
        .await
        .expect("children");
    assert_eq!(
        kids.len(),
        4,
        "subsidiary_of links four accounts to Acme Corporation"
    );

    let mut browser = app.signed_in("owner@demo.example").await;
    let medical = browser.get("/crm/clients?industry=Medical").await;
    assert_eq!(medical.status, StatusCode::OK);
    assert!(
        medical
            .text
            .contains("of <strong class=\"total\">12</strong>")
    );
    let search = browser.get("/crm/contacts?search=marlon").await;
    assert_eq!(search.text.matches(">Marlon Schmidt</a>").count(), 3);
}

#[tokio::test]
async fn a_second_run_creates_nothing_twice_and_says_why() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Demo", "owner@demo.example").await;
    import::run(&app.db, tenant, Entity::Clients, ACCOUNTS.as_bytes())
        .await
        .expect("first");
    let again = import::run(&app.db, tenant, Entity::Clients, ACCOUNTS.as_bytes())
        .await
        .expect("second");
    assert_eq!(again.created, 0);
    assert_eq!(again.skipped.len(), 85);
    assert_eq!(again.skipped[0].row, 2);
    assert_eq!(
        again.skipped[0].message,
        "a client with this name already exists"
    );

    let broken = "first_name,last_name,email\nAna,Silva,ana@example.com\nBen,Okafor,not-an-email\nCy\nDee,Ray,ANA@example.com\n";
    let report = import::run(&app.db, tenant, Entity::Contacts, broken.as_bytes())
        .await
        .expect("import");
    assert_eq!(report.created, 1);
    assert_eq!(report.failed.len(), 2);
    assert_eq!(report.failed[0].row, 3);
    assert_eq!(
        report.failed[0].message,
        "email: \"not-an-email\" is not an email address: it has no @"
    );
    assert_eq!(report.failed[1].row, 4);
    assert!(
        report.failed[1]
            .message
            .starts_with("has 1 fields where the header has 3")
    );
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(
        (report.skipped[0].row, report.skipped[0].message.as_str()),
        (5, "same email as row 2")
    );
}

/// Runs `sql`, whose one `?` is the tenant's id, on the test's database as it is written: no
/// store code between the query and the numbers it checks.
async fn raw<T: Record>(db: &Db, sql: &str, tenant: TenantId) -> Vec<T> {
    match db {
        Db::Sqlite(pool) => sqlx::query_as(AssertSqlSafe(sql.to_owned()))
            .bind(tenant.0)
            .fetch_all(pool)
            .await
            .expect("sqlite query"),
        Db::Postgres(pool) => sqlx::query_as(AssertSqlSafe(sql.replace('?', "$1")))
            .bind(tenant.0)
            .fetch_all(pool)
            .await
            .expect("postgres query"),
    }
}

/// The deal loaded from the pipeline row of `opportunity` (its id is kept in the notes).
async fn opportunity(db: &Db, tenant: TenantId, opportunity: &str) -> deals::Deal {
    let sql = format!(
        "SELECT id FROM deals WHERE tenant_id = ? AND notes LIKE 'Maven opportunity {opportunity}%'"
    );
    let found: Vec<(i64,)> = raw(db, &sql, tenant).await;
    assert_eq!(found.len(), 1, "one deal for {opportunity}");
    deals::get(db, tenant, DealId(found[0].0))
        .await
        .expect("deal")
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
}

#[tokio::test]
async fn the_demo_pipeline_loads_every_deal_in_the_stage_its_flags_say() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Demo", "owner@demo.example").await;
    let loaded = kith::demo::load(&app.db, tenant).await.expect("demo loads");
    assert!(!loaded.stopped());
    let report = &loaded.deals;
    assert_eq!((report.rows, report.created), (8800, 8800));
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(
        report.per_stage,
        [
            ("Qualified".to_owned(), 500),
            ("Discovery".to_owned(), 1589),
            ("Won".to_owned(), 4238),
            ("Lost".to_owned(), 2473),
        ]
    );
    assert_eq!(report.agents_created, 35);
    assert_eq!(report.agents_without_deals.len(), 5);
    assert_eq!(report.priced_from_products, 1589 + 500);

    // Every remark is one of the two quirks of the file, on exactly the rows that have it.
    let remarks = |start: &str| {
        report
            .remarks
            .iter()
            .filter(|r| r.message.starts_with(start))
            .count()
    };
    assert_eq!(
        remarks("the product \"GTXPro\" is not in maven-products.csv"),
        1480
    );
    assert_eq!(remarks("no account; the deal has no client"), 1425);
    assert_eq!(report.remarks.len(), 1480 + 1425);
    let printed = report.to_string();
    assert!(printed.contains("Note (1425 rows): no account; the deal has no client (rows 11, 44,"));

    // Stages by their flags and order: the first won, the first lost, the first two open.
    let board = stages::list(&app.db, tenant).await.expect("stages");
    let first = |matches: fn(&Stage) -> bool, skip: usize| {
        board
            .iter()
            .filter(|s| matches(s))
            .nth(skip)
            .expect("stage")
            .id
    };
    let won = first(|s| s.is_won, 0);
    let lost = first(|s| s.is_lost, 0);
    let open = |s: &Stage| !s.is_won && !s.is_lost;
    let (qualified, discovery) = (first(open, 0), first(open, 1));
    let totals = deals::stage_totals(&app.db, tenant, &DealFilter::default())
        .await
        .expect("totals");
    let count = |stage: i64| {
        totals
            .iter()
            .filter(|t| t.0 == stage)
            .map(|t| t.2)
            .sum::<i64>()
    };
    assert_eq!(
        (count(won), count(lost), count(qualified), count(discovery)),
        (4238, 2473, 500, 1589)
    );
    assert_eq!(totals.iter().map(|t| t.2).sum::<i64>(), 8800);
    let without_client: Vec<(i64,)> = raw(
        &app.db,
        "SELECT COUNT(*) FROM deals WHERE tenant_id = ? AND client_id IS NULL",
        tenant,
    )
    .await;
    assert_eq!(without_client, [(1425,)]);

    // Row 2: 1C1I7A6R, Moses Frase, GTX Plus Basic, Cancity, Won, closed 2017-03-01 for 1054.
    let moses = users::find_by_email(&app.db, tenant, "moses.frase@agents.demo.example")
        .await
        .expect("lookup")
        .expect("the agent is a user");
    assert_eq!(
        (moses.name.as_str(), moses.role.as_str()),
        ("Moses Frase", "member")
    );
    let mut tx = app.db.begin().await.expect("tx");
    let cancity = clients::find_by_name(&mut tx, tenant, "Cancity")
        .await
        .expect("lookup");
    drop(tx);
    let deal = opportunity(&app.db, tenant, "1C1I7A6R").await;
    assert_eq!(deal.title, "GTX Plus Basic");
    assert_eq!(deal.client_id, cancity);
    assert_eq!(deal.owner_id, Some(moses.id));
    assert_eq!(deal.stage_id, won);
    assert_eq!(
        (
            deal.value,
            deal.currency.as_str(),
            deal.probability,
            deal.weighted_value
        ),
        (105_400, "USD", 100, 105_400)
    );
    assert_eq!(deal.close_date, Some(day("2017-03-01")));
    assert_eq!(deal.expected_close, None);
    // Its history says when the file has it close, not when the demo was loaded.
    let history = deals::history_of(&app.db, tenant, kith_domain::DealId(deal.id))
        .await
        .expect("history");
    assert_eq!(
        history
            .iter()
            .map(|c| (c.to_stage_name.as_str(), c.changed_at.date_naive()))
            .collect::<Vec<_>>(),
        [("Won", day("2017-03-01"))]
    );

    // Row 174: an open GTXPro deal keeps its title and takes the list price of GTX Pro.
    let open_deal = opportunity(&app.db, tenant, "ICMXZOVL").await;
    assert_eq!(open_deal.title, "GTXPro");
    assert_eq!(open_deal.stage_id, discovery);
    assert_eq!(
        (
            open_deal.value,
            open_deal.probability,
            open_deal.weighted_value
        ),
        (482_100, 25, 120_525)
    );
    assert_eq!(
        (open_deal.close_date, open_deal.expected_close),
        (None, None)
    );
    assert_eq!(
        open_deal.notes.as_deref(),
        Some("Maven opportunity ICMXZOVL, engaged 2016-12-08.")
    );

    // The board's totals are the sums SQL makes of the same deals, each weighted value rounded
    // half away from zero (values are never negative, so + 50 then truncate does it).
    let direct: Vec<(i64, String, i64, i64, i64)> = raw(
        &app.db,
        "SELECT stage_id, currency, COUNT(*), CAST(SUM(value) AS BIGINT), \
         CAST(SUM((value * probability + 50) / 100) AS BIGINT) \
         FROM deals WHERE tenant_id = ? GROUP BY stage_id, currency ORDER BY stage_id, currency",
        tenant,
    )
    .await;
    assert_eq!(totals, direct);
}

#[tokio::test]
async fn the_demo_gives_the_owner_follow_ups_overdue_today_and_coming_up() {
    use kith_domain::activity::Status;
    use kith_store::activities::{self, ActivityFilter, Viewer};

    let app = TestApp::new().await;
    let tenant = app.tenant("Demo", "owner@demo.example").await;
    import::run(&app.db, tenant, Entity::Clients, ACCOUNTS.as_bytes())
        .await
        .expect("accounts import");
    let (owner, _) = kith_store::users::find_for_login(&app.db, "owner@demo.example")
        .await
        .expect("lookup")
        .expect("owner");
    let now = chrono::Utc::now();
    let today = now.date_naive();
    let added =
        kith::demo_activities::load(&app.db, tenant, kith_domain::UserId(owner.id), today, now)
            .await
            .expect("activities load");
    assert_eq!(added, 160, "40 clients × 3 done + 1 open");

    let viewer = Viewer {
        zone: chrono_tz::Tz::UTC,
        today,
    };
    let count = async |status| {
        let filter = ActivityFilter {
            owner_id: Some(owner.id),
            status: Some(status),
            ..Default::default()
        };
        activities::list(
            &app.db,
            tenant,
            &filter,
            &viewer,
            &activities::default_sort(),
            &kith_store::page::Paging::After {
                cursor: None,
                limit: 1,
            },
        )
        .await
        .expect("list")
        .page
        .total
        .count
    };
    assert_eq!(count(Status::Completed).await, 120);
    assert_eq!(
        (
            count(Status::Overdue).await,
            count(Status::DueToday).await,
            count(Status::Upcoming).await
        ),
        (14, 13, 13)
    );
}
