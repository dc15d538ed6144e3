//! The public demo data imports completely, with every skipped row reported, and the imported
//! records can be filtered and searched in the pages and the API.

use crate::harness::TestApp;
use axum::http::StatusCode;
use kith::import::{self, Entity};

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
