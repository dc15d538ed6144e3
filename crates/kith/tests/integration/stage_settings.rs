//! Settings → Stages (SPEC §5.1): adding, reordering, editing and deleting pipeline stages from
//! the web page, with the same rules as the API.

use crate::harness::{TestApp, escaped};
use axum::http::StatusCode;
use chrono::NaiveDate;
use kith_domain::deal::{DealFields, DealInput};
use kith_domain::{DealId, Role, TenantId};
use kith_store::stages::{self, Stage};
use kith_store::{deals, picklists};

async fn names(app: &TestApp, tenant: TenantId) -> Vec<String> {
    stages::list(&app.db, tenant)
        .await
        .expect("stages")
        .into_iter()
        .map(|s| s.name)
        .collect()
}

async fn stage_named(app: &TestApp, tenant: TenantId, name: &str) -> Stage {
    stages::list(&app.db, tenant)
        .await
        .expect("stages")
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no stage {name}"))
}

/// Creates a deal in `stage` through the store, as every write path does.
async fn deal_in(app: &TestApp, tenant: TenantId, title: &str, stage: i64) -> DealId {
    let lists = picklists::load(&app.db, tenant).await.expect("lists");
    let input = DealInput {
        title: title.into(),
        value: Some("1000".into()),
        stage_id: Some(stage),
        ..Default::default()
    };
    let fields = DealFields::parse(&input, &lists, "USD").expect("valid deal");
    let today = NaiveDate::from_ymd_opt(2027, 1, 4).expect("a date");
    let mut tx = app.db.begin().await.expect("begin");
    let id = deals::create(&mut tx, tenant, &fields, None, today, None)
        .await
        .expect("created");
    tx.commit().await.expect("commit");
    id
}

#[tokio::test]
async fn stages_are_added_moved_edited_and_deleted_from_settings() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let mut browser = app.signed_in("owner@acme.example").await;

    let settings = browser.get("/settings").await;
    assert!(settings.text.contains("href=\"/settings/stages\""));
    let page = browser.get("/settings/stages").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Add a stage"));

    // A new stage goes last.
    let added = browser
        .post_form(
            "/settings/stages",
            &[
                ("name", "Demo"),
                ("color", "#AA3377"),
                ("probability", "40"),
                ("kind", "open"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    assert_eq!(added.header("location"), "/settings/stages");
    assert_eq!(
        names(&app, tenant).await,
        [
            "Qualified",
            "Discovery",
            "Proposal",
            "Negotiation",
            "Won",
            "Lost",
            "Demo"
        ]
    );
    let demo = stage_named(&app, tenant, "Demo").await;
    assert_eq!(
        (
            demo.color.as_str(),
            demo.probability,
            demo.is_won,
            demo.is_lost
        ),
        ("#aa3377", 40, false, false)
    );
    let page = browser.get("/settings/stages").await.text;
    let lost_at = page.find("Delete Lost").expect("Lost is listed");
    let demo_at = page.find("Delete Demo").expect("Demo is listed");
    assert!(lost_at < demo_at, "Demo is shown last");

    // Moving it up swaps it with the stage above; moving the last stage down changes nothing.
    let moved = browser
        .post_form(
            &format!("/settings/stages/{}/move", demo.id),
            &[("direction", "up")],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.text);
    let lost = stage_named(&app, tenant, "Lost").await;
    let stuck = browser
        .post_form(
            &format!("/settings/stages/{}/move", lost.id),
            &[("direction", "down")],
        )
        .await;
    assert_eq!(stuck.status, StatusCode::SEE_OTHER);
    assert_eq!(
        names(&app, tenant).await,
        [
            "Qualified",
            "Discovery",
            "Proposal",
            "Negotiation",
            "Won",
            "Demo",
            "Lost"
        ]
    );

    // A probability over 100 is refused with the field named, and nothing is stored.
    let before = stage_named(&app, tenant, "Demo").await;
    let refused = browser
        .post_form(
            &format!("/settings/stages/{}", demo.id),
            &[
                ("name", "Demo call"),
                ("color", "#aa3377"),
                ("probability", "150"),
                ("kind", "open"),
                ("version", &before.version.to_string()),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text
            .contains("Probability must be a whole number from 0 to 100"),
        "{}",
        refused.text
    );
    assert!(
        refused.text.contains("value=\"150\""),
        "the typed value is kept"
    );
    assert_eq!(stage_named(&app, tenant, "Demo").await, before);

    // A valid edit saves; a second tab still holding the old version changes nothing.
    let saved = browser
        .post_form(
            &format!("/settings/stages/{}", demo.id),
            &[
                ("name", "Demo <call> & co"),
                ("color", "#aa3377"),
                ("probability", "45"),
                ("kind", "open"),
                ("version", &before.version.to_string()),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let page = browser.get("/settings/stages").await.text;
    assert!(page.contains(&escaped("Demo <call> & co")));
    assert!(!page.contains("Demo <call>"), "typed names are escaped");
    let stale = browser
        .post_form(
            &format!("/settings/stages/{}", demo.id),
            &[
                ("name", "Stale tab"),
                ("color", "#000000"),
                ("probability", "5"),
                ("kind", "won"),
                ("version", &before.version.to_string()),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale
            .text
            .contains("Someone else changed this stage while you were editing it."),
        "{}",
        stale.text
    );
    let demo = stage_named(&app, tenant, "Demo <call> & co").await;
    assert_eq!(
        (demo.probability, demo.is_won, demo.version),
        (45, false, before.version + 1)
    );

    // Deleting a stage that holds a deal is refused, naming the deal, and keeps the stage.
    let deal = deal_in(&app, tenant, "Firewall refresh", demo.id).await;
    let delete = format!("/settings/stages/{}/delete", demo.id);
    let kept = browser.post_form(&delete, &[("move_to", "")]).await;
    assert_eq!(kept.status, StatusCode::CONFLICT);
    assert!(
        kept.text
            .contains("This stage holds 1 deal: Firewall refresh. Choose a stage to move it to."),
        "{}",
        kept.text
    );
    assert!(names(&app, tenant).await.contains(&demo.name));
    let held = deals::get(&app.db, tenant, deal).await.expect("deal");
    assert_eq!((held.stage_id, held.probability), (demo.id, 45));

    // With a target, the deal moves there first (taking its probability) and the stage goes.
    let proposal = stage_named(&app, tenant, "Proposal").await;
    let deleted = browser
        .post_form(&delete, &[("move_to", &proposal.id.to_string())])
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.text);
    assert_eq!(deleted.header("location"), "/settings/stages");
    let moved = deals::get(&app.db, tenant, deal).await.expect("deal");
    assert_eq!(
        (moved.stage_id, moved.probability, moved.close_date),
        (proposal.id, 50, None)
    );
    assert_eq!(
        names(&app, tenant).await,
        [
            "Qualified",
            "Discovery",
            "Proposal",
            "Negotiation",
            "Won",
            "Lost"
        ]
    );
}

#[tokio::test]
async fn the_last_open_stage_cannot_be_closed_from_settings() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let mut browser = app.signed_in("owner@acme.example").await;

    let open: Vec<Stage> = stages::list(&app.db, tenant)
        .await
        .expect("stages")
        .into_iter()
        .filter(|s| !s.is_won && !s.is_lost)
        .collect();
    for (n, stage) in open.iter().enumerate() {
        let reply = browser
            .post_form(
                &format!("/settings/stages/{}", stage.id),
                &[
                    ("name", &stage.name),
                    ("color", &stage.color),
                    ("probability", &stage.probability.to_string()),
                    ("kind", "lost"),
                    ("version", &stage.version.to_string()),
                ],
            )
            .await;
        if n + 1 < open.len() {
            assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
        } else {
            assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(
                reply.text.contains("At least one open stage must remain"),
                "{}",
                reply.text
            );
        }
    }
    let last = open.last().expect("an open stage");
    let still = stage_named(&app, tenant, &last.name).await;
    assert_eq!(still, *last, "the last open stage is unchanged");

    // Nor can it be deleted.
    let refused = browser
        .post_form(&format!("/settings/stages/{}/delete", last.id), &[])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text.contains("At least one open stage must remain"));
    assert!(names(&app, tenant).await.contains(&last.name));
}

#[tokio::test]
async fn viewers_see_the_stages_but_cannot_change_them() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    app.user(tenant, "viewer@acme.example", Role::Viewer).await;
    let mut browser = app.signed_in("viewer@acme.example").await;
    let before = stages::list(&app.db, tenant).await.expect("stages");
    let first = before[0].id;

    let page = browser.get("/settings/stages").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Qualified"));
    assert!(!page.text.contains("Add a stage"), "no forms for viewers");

    for (path, fields) in [
        (
            "/settings/stages".to_owned(),
            vec![("name", "Sneaky"), ("probability", "5"), ("kind", "open")],
        ),
        (
            format!("/settings/stages/{first}"),
            vec![
                ("name", "Renamed"),
                ("probability", "5"),
                ("kind", "open"),
                ("version", "1"),
            ],
        ),
        (
            format!("/settings/stages/{first}/move"),
            vec![("direction", "down")],
        ),
        (format!("/settings/stages/{first}/delete"), vec![]),
    ] {
        let reply = browser.post_form(&path, &fields).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(stages::list(&app.db, tenant).await.expect("stages"), before);
}
