//! Deals: the pipeline's cards, their contacts and their stage history.
//!
//! Every stage change (create, edit, board move, bulk change, stage deletion, import) goes through
//! [`change_stage_to`], which applies the one domain rule for probability and close date and
//! records the change in the deal's history.

use crate::page::{Cursor, Page, Paging, Sort, SortColumn, SortValue, Total};
use crate::search::{Search, Searchable};
use crate::stages::{self, Stage};
use crate::{Db, Result, StoreError, Tx, now};
use chrono::{DateTime, NaiveDate, Utc};
use kith_domain::deal::DealFields;
use kith_domain::money::weighted;
use kith_domain::pipeline::{DealStage, StageKind, move_deal};
use kith_domain::search::{document, fold};
use kith_domain::{DealId, Invalid, StageId, TenantId, UserId};
use sea_query::{Expr, ExprTrait, Order, Query, SelectStatement};
use std::collections::HashMap;

/// A stored deal, with its client's name filled in for lists and pages.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Deal {
    pub id: i64,
    pub title: String,
    pub name_sort: String,
    pub client_id: Option<i64>,
    #[sqlx(default)]
    pub client_name: Option<String>,
    pub value: i64,
    pub recurring_value: Option<i64>,
    pub recurring_period: Option<String>,
    pub currency: String,
    pub owner_id: Option<i64>,
    pub expected_close: Option<NaiveDate>,
    pub source_id: Option<i64>,
    pub stage_id: i64,
    pub probability: i32,
    pub weighted_value: i64,
    pub close_date: Option<NaiveDate>,
    pub lost_reason: Option<String>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Deal {
    fn sort_value(&self, sort: &Sort) -> String {
        match sort.column.name {
            "created" => self.id.to_string(),
            "updated" => Cursor::time_value(self.updated_at),
            "value" => format!("{:020}", self.value),
            "expected_close" => self
                .expected_close
                .map(|d| d.to_string())
                .unwrap_or_default(),
            _ => self.name_sort.clone(),
        }
    }
}

const COLUMNS: [&str; 20] = [
    "id",
    "title",
    "name_sort",
    "client_id",
    "value",
    "recurring_value",
    "recurring_period",
    "currency",
    "owner_id",
    "expected_close",
    "source_id",
    "stage_id",
    "probability",
    "weighted_value",
    "close_date",
    "lost_reason",
    "notes",
    "created_at",
    "updated_at",
    "version",
];

/// The orders a deal list can take; the first is the default.
pub const SORTS: [SortColumn; 3] = [
    SortColumn {
        name: "title",
        table: "deals",
        column: "name_sort",
        kind: SortValue::Text,
    },
    SortColumn {
        name: "created",
        table: "deals",
        column: "id",
        kind: SortValue::Id,
    },
    SortColumn {
        name: "updated",
        table: "deals",
        column: "updated_at",
        kind: SortValue::Time,
    },
];

/// Filters of the deal list and the board, combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DealFilter {
    pub search: Option<String>,
    pub stage_id: Option<i64>,
    pub client_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub source_id: Option<i64>,
    /// Expected close on or after this date.
    pub close_from: Option<NaiveDate>,
    /// Expected close on or before this date.
    pub close_to: Option<NaiveDate>,
}

/// One contact of a deal and the role they play in it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DealContact {
    pub deal_id: i64,
    pub contact_id: i64,
    pub role: String,
}

/// One entry of a deal's stage history, with the stage names of the moment.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StageChange {
    pub from_stage_name: Option<String>,
    pub to_stage_name: String,
    pub changed_at: DateTime<Utc>,
    pub changed_by: Option<i64>,
}

/// One page of deals.
pub struct DealPage {
    pub page: Page<Deal>,
    pub next_cursor: Option<String>,
}

pub(crate) fn scoped(tenant: TenantId) -> SelectStatement {
    Query::select()
        .from("deals")
        .and_where(Expr::col(("deals", "tenant_id")).eq(tenant.0))
        .to_owned()
}

fn select_columns(query: &mut SelectStatement) {
    query
        .columns(COLUMNS.map(|c| ("deals", c)))
        .expr_as(Expr::cust("CAST(NULL AS TEXT)"), "client_name");
}

pub(crate) fn apply_filter(query: &mut SelectStatement, filter: &DealFilter) {
    let equal = [
        ("stage_id", filter.stage_id),
        ("client_id", filter.client_id),
        ("owner_id", filter.owner_id),
        ("source_id", filter.source_id),
    ];
    for (column, value) in equal {
        if let Some(value) = value {
            query.and_where(Expr::col(("deals", column)).eq(value));
        }
    }
    if let Some(from) = filter.close_from {
        query.and_where(Expr::col(("deals", "expected_close")).gte(from));
    }
    if let Some(to) = filter.close_to {
        query.and_where(Expr::col(("deals", "expected_close")).lte(to));
    }
}

/// Lists deals matching `filter`, in `sort` order, one page at a time.
pub async fn list(
    db: &Db,
    tenant: TenantId,
    filter: &DealFilter,
    sort: &Sort,
    paging: &Paging,
) -> Result<DealPage> {
    let search = Search::new(db.backend(), Searchable::Deals, filter.search.as_deref());

    let mut matching = scoped(tenant);
    apply_filter(&mut matching, filter);
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
    let mut rows: Vec<Deal> = match (&search, &found) {
        (Some(search), Some(found)) => search.fetch_page(db, found, sort, paging, query).await?,
        _ => {
            sort.apply(&mut query);
            paging.apply(sort, &mut query);
            db.fetch_all(&query).await?
        }
    };
    fill_client_names(db, tenant, &mut rows).await?;
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
    Ok(DealPage { page, next_cursor })
}

/// Fills in client names with one lookup for the whole page.
async fn fill_client_names(db: &Db, tenant: TenantId, rows: &mut [Deal]) -> Result<()> {
    let ids: Vec<i64> = rows.iter().filter_map(|d| d.client_id).collect();
    let names = crate::clients::names(db, tenant, &ids).await?;
    for row in rows {
        row.client_name = row.client_id.and_then(|id| names.get(&id).cloned());
    }
    Ok(())
}

/// The board's cards: for each of `stages`, its newest `per_stage` deals matching `filter`.
/// One short query per stage walks the `(tenant_id, stage_id, id)` index backwards and stops
/// after a column's worth, however many deals the stage holds.
pub async fn for_board(
    db: &Db,
    tenant: TenantId,
    filter: &DealFilter,
    stages: &[i64],
    per_stage: u64,
) -> Result<Vec<Deal>> {
    let search = Search::new(db.backend(), Searchable::Deals, filter.search.as_deref());
    let mut rows: Vec<Deal> = Vec::new();
    for stage in stages {
        let mut query = scoped(tenant);
        apply_filter(&mut query, filter);
        if let Some(search) = &search {
            search.restrict(&mut query);
        }
        select_columns(&mut query);
        query
            .and_where(Expr::col(("deals", "stage_id")).eq(*stage))
            .order_by(("deals", "id"), Order::Desc)
            .limit(per_stage);
        rows.extend(db.fetch_all::<Deal, _>(&query).await?);
    }
    fill_client_names(db, tenant, &mut rows).await?;
    Ok(rows)
}

/// Per stage and currency: how many deals, their value and their weighted value, for the deals
/// matching `filter`. Sums of the stored per-deal figures, so every screen agrees.
pub async fn stage_totals(
    db: &Db,
    tenant: TenantId,
    filter: &DealFilter,
) -> Result<Vec<(i64, String, i64, i64, i64)>> {
    let mut query = scoped(tenant);
    apply_filter(&mut query, filter);
    if let Some(search) = Search::new(db.backend(), Searchable::Deals, filter.search.as_deref()) {
        search.restrict(&mut query);
    }
    query
        .column(("deals", "stage_id"))
        .column(("deals", "currency"))
        .expr(Expr::cust("COUNT(*)"))
        .expr(Expr::cust("CAST(COALESCE(SUM(deals.value), 0) AS BIGINT)"))
        .expr(Expr::cust(
            "CAST(COALESCE(SUM(deals.weighted_value), 0) AS BIGINT)",
        ))
        .group_by_col(("deals", "stage_id"))
        .group_by_col(("deals", "currency"))
        .order_by(("deals", "stage_id"), Order::Asc)
        .order_by(("deals", "currency"), Order::Asc);
    db.fetch_all(&query).await
}

/// One deal of `tenant`; another tenant's deal is [`StoreError::NotFound`].
pub async fn get(db: &Db, tenant: TenantId, id: DealId) -> Result<Deal> {
    let mut query = scoped(tenant);
    select_columns(&mut query);
    query.and_where(Expr::col(("deals", "id")).eq(id.0));
    let mut deal: Deal = db
        .fetch_optional(&query)
        .await?
        .ok_or(StoreError::NotFound)?;
    fill_client_names(db, tenant, std::slice::from_mut(&mut deal)).await?;
    Ok(deal)
}

async fn get_in(tx: &mut Tx, tenant: TenantId, id: DealId) -> Result<Deal> {
    let mut query = scoped(tenant);
    select_columns(&mut query);
    query.and_where(Expr::col(("deals", "id")).eq(id.0));
    tx.fetch_optional(&query).await?.ok_or(StoreError::NotFound)
}

/// The contacts of the given deals, by deal.
pub async fn contacts_of(
    db: &Db,
    tenant: TenantId,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<DealContact>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let query = Query::select()
        .columns(["deal_id", "contact_id", "role"])
        .from("deal_contacts")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("deal_id").is_in(ids.iter().copied()))
        .order_by("contact_id", Order::Asc)
        .to_owned();
    let rows: Vec<DealContact> = db.fetch_all(&query).await?;
    let mut by_deal: HashMap<i64, Vec<DealContact>> = HashMap::new();
    for row in rows {
        by_deal.entry(row.deal_id).or_default().push(row);
    }
    Ok(by_deal)
}

/// A deal's stage history, oldest first.
pub async fn history_of(db: &Db, tenant: TenantId, id: DealId) -> Result<Vec<StageChange>> {
    let query = Query::select()
        .columns([
            "from_stage_name",
            "to_stage_name",
            "changed_at",
            "changed_by",
        ])
        .from("deal_stage_changes")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("deal_id").eq(id.0))
        .order_by("id", Order::Asc)
        .to_owned();
    db.fetch_all(&query).await
}

/// A stage change of one of a client's or contact's deals, for their timeline.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RelatedStageChange {
    pub deal_id: i64,
    pub deal_title: String,
    pub from_stage_name: Option<String>,
    pub to_stage_name: String,
    pub changed_at: DateTime<Utc>,
    pub changed_by: Option<i64>,
}

/// Whose deals a timeline follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DealsOf {
    Client(i64),
    /// The deals a contact takes part in, whatever their role.
    Contact(i64),
}

/// The newest `limit` stage changes of a client's or contact's deals, newest first.
pub async fn stage_changes_of(
    db: &Db,
    tenant: TenantId,
    whose: DealsOf,
    limit: u64,
) -> Result<Vec<RelatedStageChange>> {
    let mut query = Query::select()
        .column(("deal_stage_changes", "deal_id"))
        .expr_as(Expr::col(("deals", "title")), "deal_title")
        .columns([
            ("deal_stage_changes", "from_stage_name"),
            ("deal_stage_changes", "to_stage_name"),
            ("deal_stage_changes", "changed_at"),
            ("deal_stage_changes", "changed_by"),
        ])
        .from("deal_stage_changes")
        .inner_join(
            "deals",
            Expr::col(("deals", "tenant_id"))
                .equals(("deal_stage_changes", "tenant_id"))
                .and(Expr::col(("deals", "id")).equals(("deal_stage_changes", "deal_id"))),
        )
        .and_where(Expr::col(("deal_stage_changes", "tenant_id")).eq(tenant.0))
        .order_by(("deal_stage_changes", "id"), Order::Desc)
        .limit(limit)
        .to_owned();

    match whose {
        DealsOf::Client(client) => {
            query.and_where(Expr::col(("deals", "client_id")).eq(client));
        }
        DealsOf::Contact(contact) => {
            let taking_part = Query::select()
                .column("deal_id")
                .from("deal_contacts")
                .and_where(Expr::col("tenant_id").eq(tenant.0))
                .and_where(Expr::col("contact_id").eq(contact))
                .to_owned();
            query.and_where(Expr::col(("deals", "id")).in_subquery(taking_part));
        }
    }
    db.fetch_all(&query).await
}

/// Dates a new deal's only history entry, its creation, at `at`: when a loaded file knows the
/// deal entered its stage (engaged, or closed) and Kith's own record would say "today".
pub async fn date_creation(
    tx: &mut Tx,
    tenant: TenantId,
    id: DealId,
    at: DateTime<Utc>,
) -> Result<()> {
    let update = Query::update()
        .table("deal_stage_changes")
        .value("changed_at", at)
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("deal_id").eq(id.0))
        .and_where(Expr::col("from_stage_id").is_null())
        .to_owned();
    tx.execute(&update).await?;
    Ok(())
}

/// The deal an import knows by `external_id`, if any.
pub async fn find_by_external_id(
    tx: &mut Tx,
    tenant: TenantId,
    external_id: &str,
) -> Result<Option<Deal>> {
    let mut query = scoped(tenant);
    select_columns(&mut query);
    query.and_where(Expr::col(("deals", "external_id")).eq(external_id.trim()));
    tx.fetch_optional(&query).await
}

/// Records the id a deal has in the system it was imported from.
pub async fn set_external_id(
    tx: &mut Tx,
    tenant: TenantId,
    id: DealId,
    external_id: &str,
) -> Result<()> {
    let update = Query::update()
        .table("deals")
        .value("external_id", external_id.trim())
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    tx.execute(&update).await?;
    Ok(())
}

/// Ids and titles of the deals in a stage.
pub async fn in_stage(tx: &mut Tx, tenant: TenantId, stage: StageId) -> Result<Vec<(i64, String)>> {
    let query = Query::select()
        .columns(["id", "title"])
        .from("deals")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("stage_id").eq(stage.0))
        .order_by("id", Order::Asc)
        .to_owned();
    tx.fetch_all(&query).await
}

/// Where a new deal starts when no stage is given: the first open stage on the board.
fn first_open(stages: &[Stage]) -> Option<&Stage> {
    stages.iter().find(|s| s.kind() == StageKind::Open)
}

/// Creates a deal. Its stage (the first open one unless given) sets its probability, and a won
/// or lost stage its close date: `today`, or `supplied_close_date` when an importer has one.
pub async fn create(
    tx: &mut Tx,
    tenant: TenantId,
    fields: &DealFields,
    actor: Option<UserId>,
    today: NaiveDate,
    supplied_close_date: Option<NaiveDate>,
) -> Result<DealId> {
    check_references(tx, tenant, fields).await?;
    let stages = stages::list_in(tx, tenant).await?;
    let stage = match fields.stage_id {
        Some(id) => stages
            .iter()
            .find(|s| s.id == id)
            .ok_or_else(|| Invalid::one("stage", "is not a stage of this workspace"))?,
        None => first_open(&stages)
            .ok_or_else(|| Invalid::one("stage", "the workspace has no open stage"))?,
    };
    let placed = move_deal(None, None, &stage.position(), today, supplied_close_date);

    let stamp = now();
    let mut columns = vec!["tenant_id", "created_at", "updated_at", "version"];
    let mut values: Vec<Expr> = vec![tenant.0.into(), stamp.into(), stamp.into(), 1i64.into()];
    let (field_columns, field_values) = field_values(fields);
    columns.extend(field_columns);
    values.extend(field_values);
    columns.extend(["stage_id", "probability", "weighted_value", "close_date"]);
    values.extend(stage_values(fields.value, &placed));

    let insert = Query::insert()
        .into_table("deals")
        .columns(columns)
        .values_panic(values)
        .returning_col("id")
        .to_owned();
    let id = DealId(tx.scalar(&insert).await?);

    set_contacts(tx, tenant, id, fields).await?;
    record_change(tx, tenant, id, None, stage, actor).await?;
    Ok(id)
}

/// Saves an edited deal from `version`. A different stage goes through the stage change rule;
/// the same stage keeps the deal's probability and close date. `supplied_close_date`: an
/// importer's close date for a closed deal, kept instead of today.
#[expect(
    clippy::too_many_arguments,
    reason = "every write path passes the same context"
)]
pub async fn update(
    tx: &mut Tx,
    tenant: TenantId,
    id: DealId,
    version: i64,
    fields: &DealFields,
    actor: Option<UserId>,
    today: NaiveDate,
    supplied_close_date: Option<NaiveDate>,
) -> Result<i64> {
    check_references(tx, tenant, fields).await?;
    let deal = get_in(tx, tenant, id).await?;
    if deal.version != version {
        return Err(StoreError::Stale {
            current: deal.version,
        });
    }
    let stages = stages::list_in(tx, tenant).await?;
    let from = stages.iter().find(|s| s.id == deal.stage_id);
    let to = match fields.stage_id {
        Some(stage) => stages
            .iter()
            .find(|s| s.id == stage)
            .ok_or_else(|| Invalid::one("stage", "is not a stage of this workspace"))?,
        None => from.ok_or(StoreError::NotFound)?,
    };
    let placed = move_deal(
        Some(&current_stage(&deal)),
        from.map(Stage::kind),
        &to.position(),
        today,
        supplied_close_date,
    );

    // A reopened or won deal is no longer lost: its old reason would mislead the reports.
    let reopened;
    let fields = if leaves_lost(from, to) {
        reopened = DealFields {
            lost_reason: None,
            ..fields.clone()
        };
        &reopened
    } else {
        fields
    };
    let (columns, values) = field_values(fields);
    let mut update = Query::update();
    update.table("deals");
    for (column, value) in columns.into_iter().zip(values) {
        update.value(column, value);
    }
    let stage_columns = ["stage_id", "probability", "weighted_value", "close_date"];
    for (column, value) in stage_columns
        .into_iter()
        .zip(stage_values(fields.value, &placed))
    {
        update.value(column, value);
    }
    bump(&mut update, tenant, id, version);
    if tx.execute(&update).await? == 0 {
        return Err(stale_or_missing(tx, tenant, id).await);
    }

    set_contacts(tx, tenant, id, fields).await?;
    if to.id != deal.stage_id {
        record_change(tx, tenant, id, from, to, actor).await?;
    }
    Ok(version + 1)
}

/// Moves a deal to another stage from `version` (the board, the API, bulk changes). Returns the
/// new version.
pub async fn move_to(
    tx: &mut Tx,
    tenant: TenantId,
    id: DealId,
    version: i64,
    stage: StageId,
    actor: Option<UserId>,
    today: NaiveDate,
) -> Result<i64> {
    let deal = get_in(tx, tenant, id).await?;
    if deal.version != version {
        return Err(StoreError::Stale {
            current: deal.version,
        });
    }
    let target = stages::get_in(tx, tenant, stage)
        .await
        .map_err(|_| Invalid::one("stage", "is not a stage of this workspace"))?;
    let moved = change_stage_to(tx, tenant, &deal, &target, actor, today).await?;
    Ok(if moved { version + 1 } else { version })
}

/// Moves several deals to one stage, each from the version the caller saw: all of them or,
/// when any is stale or missing, none (the caller rolls the transaction back). Returns the new
/// versions in the order given.
pub async fn move_many(
    tx: &mut Tx,
    tenant: TenantId,
    moves: &[(DealId, i64)],
    stage: StageId,
    actor: Option<UserId>,
    today: NaiveDate,
) -> Result<Vec<i64>> {
    let mut versions = Vec::with_capacity(moves.len());
    for (n, (id, version)) in moves.iter().enumerate() {
        let moved = move_to(tx, tenant, *id, *version, stage, actor, today).await;
        match moved {
            Ok(version) => versions.push(version),
            Err(StoreError::NotFound) => {
                return Err(Invalid::one(
                    format!("deals[{n}].id"),
                    "is not a deal of this workspace",
                )
                .into());
            }
            Err(other) => return Err(other),
        }
    }
    Ok(versions)
}

/// Moves a deal to `target` whatever its version: a stage deletion moving the deals it held.
pub async fn change_stage(
    tx: &mut Tx,
    tenant: TenantId,
    id: DealId,
    target: &Stage,
    actor: Option<UserId>,
    today: NaiveDate,
) -> Result<()> {
    let deal = get_in(tx, tenant, id).await?;
    change_stage_to(tx, tenant, &deal, target, actor, today).await?;
    Ok(())
}

/// The one stage change every write path takes. Returns whether the deal moved: one already
/// in `target` stays as it is. Leaving a lost stage clears the lost reason.
async fn change_stage_to(
    tx: &mut Tx,
    tenant: TenantId,
    deal: &Deal,
    target: &Stage,
    actor: Option<UserId>,
    today: NaiveDate,
) -> Result<bool> {
    if target.id == deal.stage_id {
        return Ok(false);
    }
    let from = stages::get_in(tx, tenant, StageId(deal.stage_id))
        .await
        .ok();
    let placed = move_deal(
        Some(&current_stage(deal)),
        from.as_ref().map(Stage::kind),
        &target.position(),
        today,
        None,
    );

    let mut update = Query::update();
    update.table("deals");
    let stage_columns = ["stage_id", "probability", "weighted_value", "close_date"];
    for (column, value) in stage_columns
        .into_iter()
        .zip(stage_values(deal.value, &placed))
    {
        update.value(column, value);
    }
    if leaves_lost(from.as_ref(), target) {
        update.value("lost_reason", Option::<String>::None);
    }
    let id = DealId(deal.id);
    bump(&mut update, tenant, id, deal.version);
    if tx.execute(&update).await? == 0 {
        return Err(stale_or_missing(tx, tenant, id).await);
    }
    record_change(tx, tenant, id, from.as_ref(), target, actor).await?;
    Ok(true)
}

/// Deletes a deal with its contacts and history, from `version` when given. Its quotes are kept.
pub async fn delete(tx: &mut Tx, tenant: TenantId, id: DealId, version: Option<i64>) -> Result<()> {
    let deal = get_in(tx, tenant, id).await?;
    if version.is_some_and(|v| v != deal.version) {
        return Err(StoreError::Stale {
            current: deal.version,
        });
    }
    for table in ["deal_stage_changes", "deal_contacts"] {
        let delete = Query::delete()
            .from_table(table)
            .and_where(Expr::col("tenant_id").eq(tenant.0))
            .and_where(Expr::col("deal_id").eq(id.0))
            .to_owned();
        tx.execute(&delete).await?;
    }
    // Its quotes stay, without a deal.
    crate::quotes::unlink_deal(tx, tenant, id).await?;
    // Its activities stay in the log, without a deal.
    crate::activities::detach(tx, tenant, "deal_id", id.0).await?;
    let delete = Query::delete()
        .from_table("deals")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    tx.execute(&delete).await?;
    Ok(())
}

fn current_stage(deal: &Deal) -> DealStage {
    DealStage {
        stage_id: deal.stage_id,
        probability: deal.probability.clamp(0, 100) as u8,
        close_date: deal.close_date,
    }
}

/// Whether a move takes a deal out of a lost stage into a won or open one.
fn leaves_lost(from: Option<&Stage>, to: &Stage) -> bool {
    from.is_some_and(|s| s.kind() == StageKind::Lost) && to.kind() != StageKind::Lost
}

/// The stage-dependent columns' values: stage, probability, weighted value, close date.
fn stage_values(value: i64, placed: &DealStage) -> [Expr; 4] {
    [
        placed.stage_id.into(),
        i32::from(placed.probability).into(),
        weighted(value, placed.probability).into(),
        placed.close_date.into(),
    ]
}

fn bump(update: &mut sea_query::UpdateStatement, tenant: TenantId, id: DealId, version: i64) {
    update
        .value("updated_at", now())
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .and_where(Expr::col("version").eq(version));
}

async fn stale_or_missing(tx: &mut Tx, tenant: TenantId, id: DealId) -> StoreError {
    match get_in(tx, tenant, id).await {
        Ok(deal) => StoreError::Stale {
            current: deal.version,
        },
        Err(e) => e,
    }
}

/// Appends a stage change to the deal's history, with the stage names of the moment.
async fn record_change(
    tx: &mut Tx,
    tenant: TenantId,
    deal: DealId,
    from: Option<&Stage>,
    to: &Stage,
    actor: Option<UserId>,
) -> Result<()> {
    let insert = Query::insert()
        .into_table("deal_stage_changes")
        .columns([
            "tenant_id",
            "deal_id",
            "from_stage_id",
            "from_stage_name",
            "to_stage_id",
            "to_stage_name",
            "changed_at",
            "changed_by",
        ])
        .values_panic([
            tenant.0.into(),
            deal.0.into(),
            from.map(|s| s.id).into(),
            from.map(|s| s.name.clone()).into(),
            to.id.into(),
            to.name.clone().into(),
            now().into(),
            actor.map(|a| a.0).into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

/// Columns and values of the fields a user edits (not stage, probability or close date).
fn field_values(fields: &DealFields) -> (Vec<&'static str>, Vec<Expr>) {
    let columns = vec![
        "title",
        "name_sort",
        "client_id",
        "value",
        "recurring_value",
        "recurring_period",
        "currency",
        "owner_id",
        "expected_close",
        "source_id",
        "lost_reason",
        "notes",
        "search_text",
    ];
    let values: Vec<Expr> = vec![
        fields.title.clone().into(),
        fold(&fields.title).into(),
        fields.client_id.into(),
        fields.value.into(),
        fields.recurring_value.into(),
        fields
            .recurring_period
            .map(|p| p.as_str().to_owned())
            .into(),
        fields.currency.clone().into(),
        fields.owner_id.into(),
        fields.expected_close.into(),
        fields.source_id.into(),
        fields.lost_reason.clone().into(),
        fields.notes.clone().into(),
        document([fields.title.as_str()]).into(),
    ];
    (columns, values)
}

/// Refuses a client, owner or contact that is not the tenant's, naming the field.
async fn check_references(tx: &mut Tx, tenant: TenantId, fields: &DealFields) -> Result<()> {
    let mut problems = Vec::new();
    if let Some(client) = fields.client_id
        && !exists(tx, "clients", tenant, client).await?
    {
        problems.push(kith_domain::FieldError::new(
            "client",
            "is not a client of this workspace",
        ));
    }
    if let Some(owner) = fields.owner_id
        && !exists(tx, "users", tenant, owner).await?
    {
        problems.push(kith_domain::FieldError::new(
            "owner",
            "is not a user of this workspace",
        ));
    }
    for (n, (contact, _)) in fields.contacts.iter().enumerate() {
        if !exists(tx, "contacts", tenant, *contact).await? {
            problems.push(kith_domain::FieldError::new(
                format!("contacts[{n}].contact"),
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

/// Replaces a deal's contacts.
async fn set_contacts(
    tx: &mut Tx,
    tenant: TenantId,
    id: DealId,
    fields: &DealFields,
) -> Result<()> {
    let clear = Query::delete()
        .from_table("deal_contacts")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("deal_id").eq(id.0))
        .to_owned();
    tx.execute(&clear).await?;
    for (contact, role) in &fields.contacts {
        let insert = Query::insert()
            .into_table("deal_contacts")
            .columns(["tenant_id", "deal_id", "contact_id", "role"])
            .values_panic([
                tenant.0.into(),
                id.0.into(),
                (*contact).into(),
                role.as_str().into(),
            ])
            .to_owned();
        tx.execute(&insert).await?;
    }
    Ok(())
}
