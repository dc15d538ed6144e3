//! Activities: the log of touchpoints on clients, contacts and deals, and the planned work in it.
//!
//! Which day an activity falls on depends on the viewer's time zone, so every filter by day
//! takes a [`Viewer`] and turns it into bounds through the domain's [`DayRange::window`].

use crate::page::{Cursor, Page, Paging, Sort, SortColumn, SortValue, Total};
use crate::search::{Search, Searchable};
use crate::{Db, Result, StoreError, Tx, now};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use kith_domain::activity::{
    ActivityFields, DayRange, Schedule, Status, Window, follow_up_subject, follow_up_type,
};
use kith_domain::search::{document, fold};
use kith_domain::{ActivityId, Invalid, TenantId, UserId};
use sea_query::{Cond, Expr, ExprTrait, Order, Query, SelectStatement};
use std::collections::HashMap;

/// A stored activity, with its client's name and its contacts filled in for lists and pages.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Activity {
    pub id: i64,
    pub type_id: i64,
    pub subject: String,
    pub notes: Option<String>,
    pub client_id: Option<i64>,
    #[sqlx(default)]
    pub client_name: Option<String>,
    pub deal_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub occurred_at: Option<DateTime<Utc>>,
    pub due_date: Option<NaiveDate>,
    pub sort_at: DateTime<Utc>,
    pub duration: Option<i32>,
    pub outcome: Option<String>,
    pub follow_up_date: Option<NaiveDate>,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<i64>,
    pub follow_up_of: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    #[sqlx(skip)]
    pub contact_ids: Vec<i64>,
}

impl Activity {
    pub fn schedule(&self) -> Schedule {
        match (self.occurred_at, self.due_date) {
            (Some(at), _) => Schedule::At(at),
            (None, Some(date)) => Schedule::Due(date),
            // The table's CHECK keeps one of them set.
            (None, None) => Schedule::At(self.sort_at),
        }
    }

    pub fn is_completed(&self) -> bool {
        self.completed_at.is_some()
    }

    /// Where the activity stands for a viewer: completed, or open and overdue, due today or
    /// upcoming.
    pub fn status(&self, viewer: &Viewer) -> Status {
        if self.is_completed() {
            return Status::Completed;
        }
        [Status::Overdue, Status::DueToday, Status::Upcoming]
            .into_iter()
            .find(|status| {
                status
                    .days(viewer.today)
                    .contains(self.schedule(), viewer.zone)
            })
            .unwrap_or(Status::Open)
    }

    fn sort_value(&self, sort: &Sort) -> String {
        match sort.column.name {
            "created" => self.id.to_string(),
            "updated" => Cursor::time_value(self.updated_at),
            _ => Cursor::time_value(self.sort_at),
        }
    }
}

/// Who is looking: "today", "due today" and "overdue" are theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub zone: Tz,
    pub today: NaiveDate,
}

impl Viewer {
    pub fn at(zone: Tz, now: DateTime<Utc>) -> Self {
        Self {
            zone,
            today: now.with_timezone(&zone).date_naive(),
        }
    }
}

const COLUMNS: [&str; 20] = [
    "id",
    "type_id",
    "subject",
    "notes",
    "client_id",
    "deal_id",
    "owner_id",
    "occurred_at",
    "due_date",
    "sort_at",
    "duration",
    "outcome",
    "follow_up_date",
    "completed_at",
    "completed_by",
    "follow_up_of",
    "created_at",
    "updated_at",
    "version",
    "name_sort",
];

/// The orders an activity list can take; the first is the default (newest first, see
/// [`default_sort`]).
pub const SORTS: [SortColumn; 3] = [
    SortColumn {
        name: "when",
        table: "activities",
        column: "sort_at",
        kind: SortValue::Time,
    },
    SortColumn {
        name: "created",
        table: "activities",
        column: "id",
        kind: SortValue::Id,
    },
    SortColumn {
        name: "updated",
        table: "activities",
        column: "updated_at",
        kind: SortValue::Time,
    },
];

/// A log reads newest first.
pub fn default_sort() -> Sort {
    Sort {
        column: SORTS[0],
        descending: true,
    }
}

/// Filters of the activity list, combined with AND. Days are the viewer's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityFilter {
    pub search: Option<String>,
    pub type_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub client_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub deal_id: Option<i64>,
    pub status: Option<Status>,
    /// On or after this day.
    pub from: Option<NaiveDate>,
    /// On or before this day.
    pub to: Option<NaiveDate>,
}

/// One page of activities.
pub struct ActivityPage {
    pub page: Page<Activity>,
    pub next_cursor: Option<String>,
}

fn scoped(tenant: TenantId) -> SelectStatement {
    Query::select()
        .from("activities")
        .and_where(Expr::col(("activities", "tenant_id")).eq(tenant.0))
        .to_owned()
}

fn select_columns(query: &mut SelectStatement) {
    query
        .columns(COLUMNS.map(|c| ("activities", c)))
        .expr_as(Expr::cust("CAST(NULL AS TEXT)"), "client_name");
}

fn apply_filter(
    query: &mut SelectStatement,
    tenant: TenantId,
    filter: &ActivityFilter,
    viewer: &Viewer,
) {
    let equal = [
        ("type_id", filter.type_id),
        ("owner_id", filter.owner_id),
        ("client_id", filter.client_id),
        ("deal_id", filter.deal_id),
    ];
    for (column, value) in equal {
        if let Some(value) = value {
            query.and_where(Expr::col(("activities", column)).eq(value));
        }
    }
    if let Some(contact) = filter.contact_id {
        let linked = Query::select()
            .column("activity_id")
            .from("activity_contacts")
            .and_where(Expr::col("tenant_id").eq(tenant.0))
            .and_where(Expr::col("contact_id").eq(contact))
            .to_owned();
        query.and_where(Expr::col(("activities", "id")).in_subquery(linked));
    }

    match filter.status {
        Some(Status::Completed) => {
            query.and_where(Expr::col(("activities", "completed_at")).is_not_null());
        }
        Some(_) => {
            query.and_where(Expr::col(("activities", "completed_at")).is_null());
        }
        None => {}
    }
    let mut days = DayRange::between(filter.from, filter.to);
    if let Some(status) = filter.status {
        days = days.and(status.days(viewer.today));
    }
    if !days.is_unbounded() {
        restrict_to(query, &days.window(viewer.zone));
    }
}

/// Keeps the activities that fall inside `window`: due dates compared as dates, instants
/// between the UTC bounds of the viewer's days. A bound on `sort_at` covering both lets the
/// database walk its index instead of reading the whole log.
fn restrict_to(query: &mut SelectStatement, window: &Window) {
    let mut due = Cond::all().add(Expr::col(("activities", "due_date")).is_not_null());
    if let Some(from) = window.due_from {
        due = due.add(Expr::col(("activities", "due_date")).gte(from));
    }
    if let Some(to) = window.due_to {
        due = due.add(Expr::col(("activities", "due_date")).lte(to));
    }
    let mut at = Cond::all().add(Expr::col(("activities", "occurred_at")).is_not_null());
    if let Some(from) = window.at_from {
        at = at.add(Expr::col(("activities", "occurred_at")).gte(from));
    }
    if let Some(before) = window.at_before {
        at = at.add(Expr::col(("activities", "occurred_at")).lt(before));
    }
    query.cond_where(Cond::any().add(due).add(at));

    let (lowest, beyond) = sort_at_bounds(window);
    if let Some(lowest) = lowest {
        query.and_where(Expr::col(("activities", "sort_at")).gte(lowest));
    }
    if let Some(beyond) = beyond {
        query.and_where(Expr::col(("activities", "sort_at")).lt(beyond));
    }
}

/// The `sort_at` range that holds every activity of `window`, whichever kind of schedule.
fn sort_at_bounds(window: &Window) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let due_start = window.due_from.map(|d| Schedule::Due(d).sort_at());
    let due_end = window
        .due_to
        .and_then(|d| d.succ_opt())
        .map(|d| Schedule::Due(d).sort_at());
    let lowest = match (due_start, window.at_from) {
        (Some(a), Some(b)) => Some(Ord::min(a, b)),
        _ => None,
    };
    let beyond = match (due_end, window.at_before) {
        (Some(a), Some(b)) => Some(Ord::max(a, b)),
        _ => None,
    };
    (lowest, beyond)
}

/// Lists activities matching `filter` for `viewer`, in `sort` order, one page at a time.
pub async fn list(
    db: &Db,
    tenant: TenantId,
    filter: &ActivityFilter,
    viewer: &Viewer,
    sort: &Sort,
    paging: &Paging,
) -> Result<ActivityPage> {
    let search = Search::new(
        db.backend(),
        Searchable::Activities,
        filter.search.as_deref(),
    );

    let mut matching = scoped(tenant);
    apply_filter(&mut matching, tenant, filter, viewer);
    let found = match &search {
        Some(search) => Some(search.find(db, &matching).await?),
        None => None,
    };
    let total = match &found {
        Some(found) => found.total,
        None => Total::count(db, &matching).await?,
    };

    let mut query = matching;
    select_columns(&mut query);
    let mut rows: Vec<Activity> = match (&search, &found) {
        (Some(search), Some(found)) => search.fetch_page(db, found, sort, paging, query).await?,
        _ => {
            sort.apply(&mut query);
            paging.apply(sort, &mut query);
            db.fetch_all(&query).await?
        }
    };
    fill_in(db, tenant, &mut rows).await?;
    let page = Page::from_probe(rows, paging.limit(), total);

    let next_cursor = match (page.has_more, page.items.last()) {
        (true, Some(last)) => Some(
            Cursor {
                sort: sort.param(),
                value: last.sort_value(sort),
                id: last.id,
            }
            .encode(),
        ),
        _ => None,
    };
    Ok(ActivityPage { page, next_cursor })
}

/// Fills in client names and contacts with one lookup each for the whole page.
async fn fill_in(db: &Db, tenant: TenantId, rows: &mut [Activity]) -> Result<()> {
    let clients: Vec<i64> = rows.iter().filter_map(|a| a.client_id).collect();
    let names = crate::clients::names(db, tenant, &clients).await?;
    let ids: Vec<i64> = rows.iter().map(|a| a.id).collect();
    let mut contacts = contacts_of(db, tenant, &ids).await?;
    for row in rows {
        row.client_name = row.client_id.and_then(|id| names.get(&id).cloned());
        row.contact_ids = contacts.remove(&row.id).unwrap_or_default();
    }
    Ok(())
}

/// The contact ids of the given activities, by activity.
async fn contacts_of(db: &Db, tenant: TenantId, ids: &[i64]) -> Result<HashMap<i64, Vec<i64>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let query = Query::select()
        .columns(["activity_id", "contact_id"])
        .from("activity_contacts")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("activity_id").is_in(ids.iter().copied()))
        .order_by("contact_id", Order::Asc)
        .to_owned();
    let rows: Vec<(i64, i64)> = db.fetch_all(&query).await?;
    let mut by_activity: HashMap<i64, Vec<i64>> = HashMap::new();
    for (activity, contact) in rows {
        by_activity.entry(activity).or_default().push(contact);
    }
    Ok(by_activity)
}

/// `owner`'s open activities from `since` on, soonest first, at most `limit`: what their
/// calendar feed lists.
pub async fn open_for(
    db: &Db,
    tenant: TenantId,
    owner: UserId,
    since: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Activity>> {
    let mut query = scoped(tenant);
    select_columns(&mut query);
    query
        .and_where(Expr::col(("activities", "owner_id")).eq(owner.0))
        .and_where(Expr::col(("activities", "completed_at")).is_null())
        .and_where(Expr::col(("activities", "sort_at")).gte(since))
        .order_by(("activities", "sort_at"), Order::Asc)
        .order_by(("activities", "id"), Order::Asc)
        .limit(limit);
    let mut rows: Vec<Activity> = db.fetch_all(&query).await?;
    fill_in(db, tenant, &mut rows).await?;
    Ok(rows)
}

/// One activity of `tenant`; another tenant's is [`StoreError::NotFound`].
pub async fn get(db: &Db, tenant: TenantId, id: ActivityId) -> Result<Activity> {
    let mut query = scoped(tenant);
    select_columns(&mut query);
    query.and_where(Expr::col(("activities", "id")).eq(id.0));
    let mut activity: Activity = db
        .fetch_optional(&query)
        .await?
        .ok_or(StoreError::NotFound)?;
    fill_in(db, tenant, std::slice::from_mut(&mut activity)).await?;
    Ok(activity)
}

async fn get_in(tx: &mut Tx, tenant: TenantId, id: ActivityId) -> Result<Activity> {
    let mut query = scoped(tenant);
    select_columns(&mut query);
    query.and_where(Expr::col(("activities", "id")).eq(id.0));
    tx.fetch_optional(&query).await?.ok_or(StoreError::NotFound)
}

/// Logs or plans an activity. `actor` completes it when the fields say it is done; one logged
/// as done with a follow-up date schedules that follow-up, as completing it would.
pub async fn create(
    tx: &mut Tx,
    tenant: TenantId,
    fields: &ActivityFields,
    actor: Option<UserId>,
) -> Result<ActivityId> {
    let id = create_linked(tx, tenant, fields, actor, None).await?;
    if fields.completed {
        follow_up_on_its_date(tx, tenant, id, actor).await?;
    }
    Ok(id)
}

/// Schedules the follow-up a completed activity's follow-up date asks for, of the workspace's
/// follow-up type (or its first type), owned by `actor` or else the activity's owner.
async fn follow_up_on_its_date(
    tx: &mut Tx,
    tenant: TenantId,
    id: ActivityId,
    actor: Option<UserId>,
) -> Result<()> {
    let mut activity = get_in(tx, tenant, id).await?;
    let Some(due) = activity.follow_up_date else {
        return Ok(());
    };
    let lists = crate::picklists::load_in(tx, tenant).await?;
    let Some(type_id) = follow_up_type(&lists) else {
        return Ok(());
    };
    let Some(owner) = actor.or(activity.owner_id.map(UserId)) else {
        return Ok(());
    };
    activity.contact_ids = contacts_of_in(tx, tenant, id).await?;
    let follow_up = FollowUp {
        due,
        type_id,
        subject: None,
    };
    schedule_follow_up(tx, tenant, &activity, &follow_up, owner).await?;
    Ok(())
}

async fn create_linked(
    tx: &mut Tx,
    tenant: TenantId,
    fields: &ActivityFields,
    actor: Option<UserId>,
    follow_up_of: Option<ActivityId>,
) -> Result<ActivityId> {
    check_references(tx, tenant, fields).await?;

    let stamp = now();
    let mut columns = vec![
        "tenant_id",
        "created_at",
        "updated_at",
        "version",
        "follow_up_of",
    ];
    let mut values: Vec<Expr> = vec![
        tenant.0.into(),
        stamp.into(),
        stamp.into(),
        1i64.into(),
        follow_up_of.map(|a| a.0).into(),
    ];
    let (field_columns, field_values) = field_values(fields);
    columns.extend(field_columns);
    values.extend(field_values);
    let (completed_at, completed_by) = completion(fields.completed, stamp, actor);
    columns.extend(["completed_at", "completed_by"]);
    values.extend([completed_at.into(), completed_by.into()]);

    let insert = Query::insert()
        .into_table("activities")
        .columns(columns)
        .values_panic(values)
        .returning_col("id")
        .to_owned();
    let id = ActivityId(tx.scalar(&insert).await?);
    set_contacts(tx, tenant, id, &fields.contact_ids).await?;
    Ok(id)
}

fn completion(
    completed: bool,
    at: DateTime<Utc>,
    actor: Option<UserId>,
) -> (Option<DateTime<Utc>>, Option<i64>) {
    if completed {
        (Some(at), actor.map(|a| a.0))
    } else {
        (None, None)
    }
}

/// Saves an edited activity from `version`. Completing or reopening it through the fields
/// stamps or clears the completion; a completed one edited stays completed as it was.
pub async fn update(
    tx: &mut Tx,
    tenant: TenantId,
    id: ActivityId,
    version: i64,
    fields: &ActivityFields,
    actor: Option<UserId>,
) -> Result<i64> {
    check_references(tx, tenant, fields).await?;
    let current = get_in(tx, tenant, id).await?;
    if current.version != version {
        return Err(StoreError::Stale {
            current: current.version,
        });
    }

    let mut update = Query::update();
    update.table("activities");
    let (columns, values) = field_values(fields);
    for (column, value) in columns.into_iter().zip(values) {
        update.value(column, value);
    }
    if fields.completed != current.is_completed() {
        let (completed_at, completed_by) = completion(fields.completed, now(), actor);
        update
            .value("completed_at", completed_at)
            .value("completed_by", completed_by);
    }
    bump(&mut update, tenant, id, version);
    if tx.execute(&update).await? == 0 {
        return Err(stale_or_missing(tx, tenant, id).await);
    }
    set_contacts(tx, tenant, id, &fields.contact_ids).await?;
    // Completing through the form, or moving a done activity's follow-up date, schedules or
    // moves its follow-up as "Mark done" would.
    let newly_done = fields.completed && !current.is_completed();
    let date_moved = fields.completed && fields.follow_up_date != current.follow_up_date;
    if newly_done || date_moved {
        follow_up_on_its_date(tx, tenant, id, actor).await?;
    }
    Ok(version + 1)
}

/// A follow-up to schedule while completing an activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    pub due: NaiveDate,
    /// The follow-up type's id in the tenant's activity types.
    pub type_id: i64,
    /// Blank: "Follow-up: " and the completed activity's subject.
    pub subject: Option<String>,
}

/// What completing an activity did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completed {
    pub version: i64,
    pub follow_up: Option<ActivityId>,
}

/// Marks an activity done from `version`, by `actor`, and schedules its follow-up when one is
/// given: a planned activity due that day for `actor`, on the same client, deal and contacts.
/// Completing one already completed changes nothing but the follow-up.
pub async fn complete(
    tx: &mut Tx,
    tenant: TenantId,
    id: ActivityId,
    version: i64,
    actor: UserId,
    follow_up: Option<&FollowUp>,
) -> Result<Completed> {
    let mut activity = get_in(tx, tenant, id).await?;
    if activity.version != version {
        return Err(StoreError::Stale {
            current: activity.version,
        });
    }
    let contacts = contacts_of_in(tx, tenant, id).await?;
    activity.contact_ids = contacts;

    let stamp = now();
    let mut update = Query::update();
    update.table("activities");
    if !activity.is_completed() {
        update
            .value("completed_at", stamp)
            .value("completed_by", actor.0);
    }
    if let Some(follow_up) = follow_up {
        update.value("follow_up_date", follow_up.due);
    }
    bump(&mut update, tenant, id, version);
    if tx.execute(&update).await? == 0 {
        return Err(stale_or_missing(tx, tenant, id).await);
    }

    let follow_up = match follow_up {
        Some(follow_up) => Some(schedule_follow_up(tx, tenant, &activity, follow_up, actor).await?),
        None => None,
    };
    Ok(Completed {
        version: version + 1,
        follow_up,
    })
}

/// Plans `activity`'s follow-up for `owner`. When one is still open (the activity was
/// completed, reopened and completed again), that one moves to the new day instead of a
/// second follow-up appearing.
async fn schedule_follow_up(
    tx: &mut Tx,
    tenant: TenantId,
    activity: &Activity,
    follow_up: &FollowUp,
    owner: UserId,
) -> Result<ActivityId> {
    let id = ActivityId(activity.id);
    if let Some(open) = open_follow_up_of(tx, tenant, id).await? {
        let mut update = Query::update();
        update
            .table("activities")
            .value("due_date", follow_up.due)
            .value("sort_at", Schedule::Due(follow_up.due).sort_at());
        bump(&mut update, tenant, ActivityId(open.id), open.version);
        tx.execute(&update).await?;
        return Ok(ActivityId(open.id));
    }
    let fields = follow_up_fields(activity, follow_up, owner);
    create_linked(tx, tenant, &fields, Some(owner), Some(id)).await
}

/// The open, planned follow-up an activity's completion scheduled, if any.
async fn open_follow_up_of(
    tx: &mut Tx,
    tenant: TenantId,
    id: ActivityId,
) -> Result<Option<Activity>> {
    let mut query = scoped(tenant);
    select_columns(&mut query);
    query
        .and_where(Expr::col(("activities", "follow_up_of")).eq(id.0))
        .and_where(Expr::col(("activities", "completed_at")).is_null())
        .and_where(Expr::col(("activities", "due_date")).is_not_null())
        .order_by(("activities", "id"), Order::Desc)
        .limit(1);
    tx.fetch_optional(&query).await
}

/// The follow-up that completing an activity scheduled, newest first, for its page.
pub async fn follow_up_for(db: &Db, tenant: TenantId, id: ActivityId) -> Result<Option<Activity>> {
    let mut query = scoped(tenant);
    select_columns(&mut query);
    query
        .and_where(Expr::col(("activities", "follow_up_of")).eq(id.0))
        .order_by(("activities", "id"), Order::Desc)
        .limit(1);
    db.fetch_optional(&query).await
}

fn follow_up_fields(activity: &Activity, follow_up: &FollowUp, actor: UserId) -> ActivityFields {
    let subject = follow_up
        .subject
        .clone()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| follow_up_subject(&activity.subject));
    ActivityFields {
        type_id: follow_up.type_id,
        subject,
        notes: None,
        client_id: activity.client_id,
        contact_ids: activity.contact_ids.clone(),
        deal_id: activity.deal_id,
        owner_id: Some(actor.0),
        schedule: Schedule::Due(follow_up.due),
        duration: None,
        outcome: None,
        follow_up_date: None,
        completed: false,
    }
}

/// Opens a completed activity again from `version`.
pub async fn reopen(tx: &mut Tx, tenant: TenantId, id: ActivityId, version: i64) -> Result<i64> {
    let activity = get_in(tx, tenant, id).await?;
    if activity.version != version {
        return Err(StoreError::Stale {
            current: activity.version,
        });
    }
    if !activity.is_completed() {
        return Ok(version);
    }
    let mut update = Query::update();
    update
        .table("activities")
        .value("completed_at", Option::<DateTime<Utc>>::None)
        .value("completed_by", Option::<i64>::None);
    bump(&mut update, tenant, id, version);
    if tx.execute(&update).await? == 0 {
        return Err(stale_or_missing(tx, tenant, id).await);
    }
    Ok(version + 1)
}

/// Deletes an activity, from `version` when given. Follow-ups it scheduled stay.
pub async fn delete(
    tx: &mut Tx,
    tenant: TenantId,
    id: ActivityId,
    version: Option<i64>,
) -> Result<()> {
    let activity = get_in(tx, tenant, id).await?;
    if version.is_some_and(|v| v != activity.version) {
        return Err(StoreError::Stale {
            current: activity.version,
        });
    }
    let unlink = Query::update()
        .table("activities")
        .value("follow_up_of", Option::<i64>::None)
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("follow_up_of").eq(id.0))
        .to_owned();
    tx.execute(&unlink).await?;
    set_contacts(tx, tenant, id, &[]).await?;
    let delete = Query::delete()
        .from_table("activities")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    tx.execute(&delete).await?;
    Ok(())
}

/// Keeps a deleted client's or deal's activities in the log, no longer linked to it.
pub(crate) async fn detach(
    tx: &mut Tx,
    tenant: TenantId,
    column: &'static str,
    id: i64,
) -> Result<()> {
    let detach = Query::update()
        .table("activities")
        .value(column, Option::<i64>::None)
        .value("updated_at", now())
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col(column).eq(id))
        .to_owned();
    tx.execute(&detach).await?;
    Ok(())
}

async fn contacts_of_in(tx: &mut Tx, tenant: TenantId, id: ActivityId) -> Result<Vec<i64>> {
    let query = Query::select()
        .column("contact_id")
        .from("activity_contacts")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("activity_id").eq(id.0))
        .order_by("contact_id", Order::Asc)
        .to_owned();
    let rows: Vec<(i64,)> = tx.fetch_all(&query).await?;
    Ok(rows.into_iter().map(|(c,)| c).collect())
}

fn bump(update: &mut sea_query::UpdateStatement, tenant: TenantId, id: ActivityId, version: i64) {
    update
        .value("updated_at", now())
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .and_where(Expr::col("version").eq(version));
}

async fn stale_or_missing(tx: &mut Tx, tenant: TenantId, id: ActivityId) -> StoreError {
    match get_in(tx, tenant, id).await {
        Ok(activity) => StoreError::Stale {
            current: activity.version,
        },
        Err(e) => e,
    }
}

/// Columns and values of the fields a user edits (not the completion): the one place a row's
/// search text and sort name are made, which kith-bench's bulk load uses too.
pub fn field_values(fields: &ActivityFields) -> (Vec<&'static str>, Vec<Expr>) {
    let columns = vec![
        "type_id",
        "subject",
        "name_sort",
        "notes",
        "client_id",
        "deal_id",
        "owner_id",
        "occurred_at",
        "due_date",
        "sort_at",
        "duration",
        "outcome",
        "follow_up_date",
        "search_text",
    ];
    let mut searched = vec![fields.subject.as_str()];
    searched.extend(fields.notes.as_deref());
    searched.extend(fields.outcome.as_deref());
    let values: Vec<Expr> = vec![
        fields.type_id.into(),
        fields.subject.clone().into(),
        fold(&fields.subject).into(),
        fields.notes.clone().into(),
        fields.client_id.into(),
        fields.deal_id.into(),
        fields.owner_id.into(),
        fields.schedule.occurred_at().into(),
        fields.schedule.due_date().into(),
        fields.schedule.sort_at().into(),
        fields.duration.into(),
        fields.outcome.clone().into(),
        fields.follow_up_date.into(),
        document(searched).into(),
    ];
    (columns, values)
}

/// Refuses a client, deal, owner or contact that is not the tenant's, naming the field.
async fn check_references(tx: &mut Tx, tenant: TenantId, fields: &ActivityFields) -> Result<()> {
    let mut problems = Vec::new();
    let references = [
        ("client", "clients", fields.client_id, "client"),
        ("deal", "deals", fields.deal_id, "deal"),
        ("owner", "users", fields.owner_id, "user"),
    ];
    for (field, table, id, noun) in references {
        if let Some(id) = id
            && !exists(tx, table, tenant, id).await?
        {
            problems.push(kith_domain::FieldError::new(
                field,
                format!("is not a {noun} of this workspace"),
            ));
        }
    }
    for (n, contact) in fields.contact_ids.iter().enumerate() {
        if !exists(tx, "contacts", tenant, *contact).await? {
            problems.push(kith_domain::FieldError::new(
                format!("contacts[{n}]"),
                "is not a contact of this workspace",
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Invalid(problems).into())
    }
}

async fn exists(tx: &mut Tx, table: &'static str, tenant: TenantId, id: i64) -> Result<bool> {
    let query = Query::select()
        .expr(Expr::val(1))
        .from(table)
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    Ok(tx.fetch_optional::<(i32,), _>(&query).await?.is_some())
}

/// Replaces an activity's contacts.
async fn set_contacts(
    tx: &mut Tx,
    tenant: TenantId,
    id: ActivityId,
    contacts: &[i64],
) -> Result<()> {
    let clear = Query::delete()
        .from_table("activity_contacts")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("activity_id").eq(id.0))
        .to_owned();
    tx.execute(&clear).await?;
    for contact in contacts {
        let insert = Query::insert()
            .into_table("activity_contacts")
            .columns(["tenant_id", "activity_id", "contact_id"])
            .values_panic([tenant.0.into(), id.0.into(), (*contact).into()])
            .to_owned();
        tx.execute(&insert).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sort_at_bound_covers_both_kinds_of_schedule() {
        let zone: Tz = chrono_tz::America::Los_Angeles;
        let day: NaiveDate = "2025-05-18".parse().expect("valid");
        let window = DayRange::between(Some(day), Some(day)).window(zone);
        let (lowest, beyond) = sort_at_bounds(&window);
        // The due date's UTC midnight comes before Los Angeles' midnight, and Los Angeles'
        // next midnight after the due date's next UTC midnight.
        assert_eq!(lowest, Some("2025-05-18T00:00:00Z".parse().expect("valid")));
        assert_eq!(beyond, Some("2025-05-19T07:00:00Z".parse().expect("valid")));
    }
}
