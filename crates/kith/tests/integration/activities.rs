//! The activity log's storage (SPEC §6): logging and planning, completing with a follow-up,
//! reopening, and the filters by status for viewers on either side of UTC.

use crate::harness::TestApp;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use kith_domain::activity::{ActivityFields, ActivityInput, FOLLOW_UP_TYPE, Status};
use kith_domain::picklist::ListKind;
use kith_domain::{ActivityId, TenantId, UserId};
use kith_store::activities::{self, ActivityFilter, FollowUp, Viewer};
use kith_store::page::Paging;
use kith_store::picklists;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("valid instant")
}

fn day(text: &str) -> NaiveDate {
    text.parse().expect("valid date")
}

async fn add(
    app: &TestApp,
    tenant: TenantId,
    input: ActivityInput,
    now: DateTime<Utc>,
) -> ActivityId {
    let lists = picklists::load(&app.db, tenant).await.expect("lists");
    let fields = ActivityFields::parse(&input, &lists, Tz::UTC, now).expect("valid activity");
    let mut tx = app.db.begin().await.expect("begin");
    let id = activities::create(&mut tx, tenant, &fields, None).await;
    tx.finish(id).await.expect("created")
}

async fn subjects(
    app: &TestApp,
    tenant: TenantId,
    filter: &ActivityFilter,
    viewer: &Viewer,
) -> Vec<String> {
    let page = activities::list(
        &app.db,
        tenant,
        filter,
        viewer,
        &activities::default_sort(),
        &Paging::After {
            cursor: None,
            limit: 50,
        },
    )
    .await
    .expect("list");
    page.page.items.into_iter().map(|a| a.subject).collect()
}

#[tokio::test]
async fn due_today_and_overdue_follow_the_viewers_midnight_on_both_sides_of_utc() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let now = at("2025-05-18T12:00:00Z");
    let planned = |subject: &str, when: &str| ActivityInput {
        activity_type: "Call".into(),
        subject: subject.into(),
        occurred_at: Some(when.into()),
        completed: Some(false),
        ..Default::default()
    };
    // 23:30 on 17 May in Los Angeles; 00:15 on 18 May in Tokyo.
    add(
        &app,
        tenant,
        planned("Late call", "2025-05-18T06:30:00Z"),
        now,
    )
    .await;
    add(
        &app,
        tenant,
        planned("Early meeting", "2025-05-17T15:15:00Z"),
        now,
    )
    .await;
    let task = ActivityInput {
        activity_type: "Task".into(),
        subject: "Send the renewal".into(),
        due_date: Some("2025-05-18".into()),
        ..Default::default()
    };
    add(&app, tenant, task, now).await;

    let status = |status| ActivityFilter {
        status: Some(status),
        ..Default::default()
    };
    let los_angeles = Viewer {
        zone: chrono_tz::America::Los_Angeles,
        today: day("2025-05-17"),
    };
    // On 17 May in Los Angeles both calls fall today (08:15 and 23:30 local); the task is
    // due tomorrow.
    assert_eq!(
        subjects(&app, tenant, &status(Status::DueToday), &los_angeles).await,
        ["Late call", "Early meeting"]
    );
    assert_eq!(
        subjects(&app, tenant, &status(Status::Overdue), &los_angeles).await,
        Vec::<String>::new()
    );
    assert_eq!(
        subjects(&app, tenant, &status(Status::Upcoming), &los_angeles).await,
        ["Send the renewal"]
    );

    // Past Los Angeles' midnight, the late call is overdue and the task due.
    let next_day = Viewer {
        today: day("2025-05-18"),
        ..los_angeles
    };
    assert_eq!(
        subjects(&app, tenant, &status(Status::Overdue), &next_day).await,
        ["Late call", "Early meeting"]
    );
    assert_eq!(
        subjects(&app, tenant, &status(Status::DueToday), &next_day).await,
        ["Send the renewal"]
    );

    let tokyo = Viewer {
        zone: chrono_tz::Asia::Tokyo,
        today: day("2025-05-18"),
    };
    assert_eq!(
        subjects(&app, tenant, &status(Status::DueToday), &tokyo).await,
        ["Late call", "Send the renewal", "Early meeting"]
    );
    let before = Viewer {
        today: day("2025-05-17"),
        ..tokyo
    };
    assert_eq!(
        subjects(&app, tenant, &status(Status::DueToday), &before).await,
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn completing_schedules_the_follow_up_and_reopening_opens_it_again() {
    let app = TestApp::new().await;
    let tenant = app.tenant("Acme", "owner@acme.example").await;
    let (owner, _) = kith_store::users::find_for_login(&app.db, "owner@acme.example")
        .await
        .expect("lookup")
        .expect("owner");
    let now = at("2025-05-18T12:00:00Z");
    let call = ActivityInput {
        activity_type: "call".into(),
        subject: "Quarterly review call".into(),
        due_date: Some("2025-05-18".into()),
        notes: Some("Talked about the ACME renewal".into()),
        ..Default::default()
    };
    let id = add(&app, tenant, call, now).await;
    let created = activities::get(&app.db, tenant, id)
        .await
        .expect("activity");
    assert!(!created.is_completed(), "a planned call starts open");

    let lists = picklists::load(&app.db, tenant).await.expect("lists");
    let follow_up_type = lists
        .find(ListKind::ActivityType, FOLLOW_UP_TYPE)
        .expect("default type")
        .id;
    let follow_up = FollowUp {
        due: day("2025-05-19"),
        type_id: follow_up_type,
        subject: None,
    };
    let mut tx = app.db.begin().await.expect("begin");
    let done =
        activities::complete(&mut tx, tenant, id, 1, UserId(owner.id), Some(&follow_up)).await;
    let done = tx.finish(done).await.expect("completed");
    assert_eq!(done.version, 2);
    let next = done.follow_up.expect("a follow-up");

    let completed = activities::get(&app.db, tenant, id)
        .await
        .expect("activity");
    assert_eq!(completed.completed_by, Some(owner.id));
    assert_eq!(completed.follow_up_date, Some(day("2025-05-19")));
    let scheduled = activities::get(&app.db, tenant, next)
        .await
        .expect("follow-up");
    assert_eq!(scheduled.subject, "Follow-up: Quarterly review call");
    assert_eq!(
        (scheduled.due_date, scheduled.owner_id),
        (Some(day("2025-05-19")), Some(owner.id))
    );
    assert_eq!(scheduled.follow_up_of, Some(id.0));

    let viewer = Viewer {
        zone: Tz::UTC,
        today: day("2025-05-18"),
    };
    let upcoming = ActivityFilter {
        status: Some(Status::Upcoming),
        ..Default::default()
    };
    assert_eq!(
        subjects(&app, tenant, &upcoming, &viewer).await,
        ["Follow-up: Quarterly review call"]
    );
    let searched = ActivityFilter {
        search: Some("acme renewal".into()),
        ..Default::default()
    };
    assert_eq!(
        subjects(&app, tenant, &searched, &viewer).await,
        ["Quarterly review call"]
    );

    // A stale completion changes nothing.
    let mut tx = app.db.begin().await.expect("begin");
    let stale = activities::complete(&mut tx, tenant, id, 1, UserId(owner.id), None).await;
    assert!(
        matches!(stale, Err(kith_store::StoreError::Stale { current: 2 })),
        "{stale:?}"
    );
    drop(tx);

    let mut tx = app.db.begin().await.expect("begin");
    let reopened = activities::reopen(&mut tx, tenant, id, 2).await;
    assert_eq!(tx.finish(reopened).await.expect("reopened"), 3);
    let open = activities::get(&app.db, tenant, id)
        .await
        .expect("activity");
    assert_eq!((open.completed_at, open.completed_by), (None, None));
    assert_eq!(open.status(&viewer), Status::DueToday);

    // Another workspace sees none of it.
    let other = app.tenant("Other", "owner@other.example").await;
    assert!(matches!(
        activities::get(&app.db, other, id).await,
        Err(kith_store::StoreError::NotFound)
    ));
}
