//! `/api/v1/deals` and `/api/v1/pipeline/board`: deals, and the board's per-stage figures.
//!
//! Money is an integer of minor units beside its currency code (`"value": 123450, "currency":
//! "USD"` is USD 1,234.50). A change of `stage` goes through the same stage-change rule as the
//! board and the forms: probability from the stage, close date stamped or cleared.

use super::{MergePatch, check_known, etag, expected_version, new_currency, paging, parse_json};
use crate::AppState;
use crate::auth::{ApiUser, Identity};
use crate::error::ApiError;
use crate::params::Params;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use kith_domain::DealId;
use kith_domain::deal::{DealFields, DealInput, RecurringPeriod, parse_date};
use kith_domain::money::{CurrencyTotals, format_amount};
use kith_domain::picklist::{ListKind, PickLists};
use kith_domain::pipeline::today_in;
use kith_store::deals::{self, Deal, DealContact, DealFilter};
use kith_store::{StoreError, picklists, stages, tenants};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A contact of a deal and the role they play in it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealContactOut {
    pub contact: i64,
    /// primary, billing, technical, decision-maker or c-suite.
    pub role: String,
}

/// A deal as the API shows it.
// TODO(#3): §5.2's "linked quote" is only `quote.deal` (and the deal page's list); add the
// deal's quote ids here.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DealOut {
    pub id: i64,
    pub title: String,
    pub client: Option<i64>,
    pub client_name: Option<String>,
    /// Minor units of `currency`.
    pub value: i64,
    /// `value` × `probability` / 100, rounded half away from zero, in minor units.
    pub weighted_value: i64,
    pub recurring_value: Option<i64>,
    /// monthly or annual.
    pub recurring_period: Option<String>,
    /// Monthly recurring revenue from the recurring value, in minor units.
    pub mrr: Option<i64>,
    pub currency: String,
    pub owner: Option<i64>,
    pub expected_close: Option<NaiveDate>,
    /// A label of the workspace's deal sources.
    pub source: Option<String>,
    pub stage: i64,
    pub stage_name: String,
    /// From the stage, 0–100.
    pub probability: i32,
    /// Set on entering a won or lost stage; cleared on leaving them.
    pub close_date: Option<NaiveDate>,
    pub lost_reason: Option<String>,
    pub notes: Option<String>,
    pub contacts: Vec<DealContactOut>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl DealOut {
    fn new(deal: Deal, stage_name: String, contacts: Vec<DealContact>, lists: &PickLists) -> Self {
        let period = deal
            .recurring_period
            .as_deref()
            .and_then(|p| RecurringPeriod::parse(p).ok());
        let mrr = deal.recurring_value.zip(period).map(|(v, p)| p.mrr(v));
        Self {
            id: deal.id,
            title: deal.title,
            client: deal.client_id,
            client_name: deal.client_name,
            value: deal.value,
            weighted_value: deal.weighted_value,
            recurring_value: deal.recurring_value,
            recurring_period: deal.recurring_period,
            mrr,
            currency: deal.currency,
            owner: deal.owner_id,
            expected_close: deal.expected_close,
            source: lists.label(deal.source_id).map(str::to_owned),
            stage: deal.stage_id,
            stage_name,
            probability: deal.probability,
            close_date: deal.close_date,
            lost_reason: deal.lost_reason,
            notes: deal.notes,
            contacts: contacts
                .into_iter()
                .map(|c| DealContactOut {
                    contact: c.contact_id,
                    role: c.role,
                })
                .collect(),
            created_at: deal.created_at,
            updated_at: deal.updated_at,
            version: deal.version,
        }
    }

    /// The deal as a [`DealIn`], the base a merge patch applies to.
    fn as_input(&self) -> DealIn {
        DealIn {
            title: self.title.clone(),
            client: self.client,
            value: Some(self.value),
            recurring_value: self.recurring_value,
            recurring_period: self.recurring_period.clone(),
            currency: Some(self.currency.clone()),
            owner: self.owner,
            expected_close: self.expected_close.map(|d| d.to_string()),
            source: self.source.clone(),
            stage: Some(self.stage),
            lost_reason: self.lost_reason.clone(),
            notes: self.notes.clone(),
            contacts: Some(self.contacts.clone()),
            version: None,
        }
    }
}

/// A deal as sent to create it, or as a merge patch (RFC 7396) to change it.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DealIn {
    #[serde(default)]
    pub title: String,
    pub client: Option<i64>,
    /// Minor units of `currency`; 0 when left out.
    pub value: Option<i64>,
    pub recurring_value: Option<i64>,
    /// monthly or annual; needed with a recurring value.
    pub recurring_period: Option<String>,
    /// ISO 4217; the workspace's currency when left out.
    pub currency: Option<String>,
    pub owner: Option<i64>,
    /// `YYYY-MM-DD`.
    pub expected_close: Option<String>,
    /// A label of the workspace's deal sources.
    pub source: Option<String>,
    /// A stage id; the first open stage when left out.
    pub stage: Option<i64>,
    pub lost_reason: Option<String>,
    pub notes: Option<String>,
    pub contacts: Option<Vec<DealContactOut>>,
    /// The version a change starts from, when no `If-Match` header is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

impl DealIn {
    fn into_input(self, tenant_currency: &str) -> DealInput {
        let currency = self
            .currency
            .clone()
            .filter(|c| !c.trim().is_empty())
            .unwrap_or_else(|| tenant_currency.to_owned())
            .trim()
            .to_ascii_uppercase();
        // Amounts arrive in minor units; the domain reads them as typed in major units.
        let amount = |minor: i64| format_amount(minor, &currency);
        DealInput {
            title: self.title,
            client_id: self.client,
            value: self.value.map(amount),
            recurring_value: self.recurring_value.map(amount),
            recurring_period: self.recurring_period,
            currency: self.currency,
            owner_id: self.owner,
            expected_close: self.expected_close,
            source: self.source,
            stage_id: self.stage,
            lost_reason: self.lost_reason,
            notes: self.notes,
            contacts: self
                .contacts
                .unwrap_or_default()
                .into_iter()
                .map(|c| (c.contact, c.role))
                .collect(),
        }
    }
}

/// One page of deals.
#[derive(Debug, Serialize, ToSchema)]
pub struct DealList {
    pub items: Vec<DealOut>,
    /// How many deals match the filters in all; with a search, counting stops past 1000.
    pub total: i64,
    /// Counting stopped at 1000 matches of a search: at least `total` match.
    pub total_capped: bool,
    pub next_cursor: Option<String>,
}

/// Filters of the deal list and the board. Filters combine with AND.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the query parameters; they are read with Params"
)]
pub struct DealListQuery {
    /// Substring of the title; ignores case, accents and apostrophes.
    search: Option<String>,
    /// A stage id.
    stage: Option<i64>,
    /// A client id.
    client: Option<i64>,
    /// A user id.
    owner: Option<i64>,
    /// A deal source label.
    source: Option<String>,
    /// Expected close on or after this date (`YYYY-MM-DD`).
    close_from: Option<String>,
    /// Expected close on or before this date (`YYYY-MM-DD`).
    close_to: Option<String>,
    /// `title`, `created` or `updated`; prefix `-` for descending. `id` breaks ties.
    sort: Option<String>,
    /// Page size, 1–200 (default 50).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

pub(crate) const FILTER_PARAMS: [&str; 7] = [
    "search",
    "stage",
    "client",
    "owner",
    "source",
    "close_from",
    "close_to",
];

/// Reads the deal filters from query parameters, naming the one that is wrong.
pub fn filter(params: &Params, lists: &PickLists) -> Result<DealFilter, ApiError> {
    let id = |name: &str| -> Result<Option<i64>, ApiError> {
        match params.get(name).map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(raw) => raw
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::bad_field(name, "must be an id")),
        }
    };
    let date = |name: &str| parse_date(params.get(name)).map_err(|m| ApiError::bad_field(name, m));
    let source = match params
        .get("source")
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(label) => Some(
            lists
                .resolve(ListKind::DealSource, label)
                .map_err(|m| ApiError::bad_field("source", m))?,
        ),
    };
    Ok(DealFilter {
        search: params.get("search").map(str::to_owned),
        stage_id: id("stage")?,
        client_id: id("client")?,
        owner_id: id("owner")?,
        source_id: source,
        close_from: date("close_from")?,
        close_to: date("close_to")?,
    })
}

fn respond(status: StatusCode, deal: DealOut) -> Response {
    let location = format!("/api/v1/deals/{}", deal.id);
    let mut response = (status, [(header::ETAG, etag(deal.version))], Json(deal)).into_response();
    if status == StatusCode::CREATED
        && let Ok(value) = location.parse()
    {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

async fn load(state: &AppState, me: &Identity, id: i64) -> Result<DealOut, StoreError> {
    let deal = deals::get(&state.db, me.tenant(), DealId(id)).await?;
    let stage = stages::get(&state.db, me.tenant(), kith_domain::StageId(deal.stage_id)).await?;
    let contacts = deals::contacts_of(&state.db, me.tenant(), &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    let lists = picklists::load(&state.db, me.tenant()).await?;
    Ok(DealOut::new(deal, stage.name, contacts, &lists))
}

async fn check(state: &AppState, me: &Identity, body: DealIn) -> Result<DealFields, ApiError> {
    let lists = picklists::load(&state.db, me.tenant()).await?;
    let tenant = tenants::get(&state.db, me.tenant()).await?;
    DealFields::parse(&body.into_input(&tenant.currency), &lists, &tenant.currency)
        .map_err(ApiError::invalid)
}

fn today(me: &Identity) -> NaiveDate {
    today_in(&me.user.time_zone, Utc::now())
}

#[utoipa::path(get, path = "/api/v1/deals", tag = "deals", params(DealListQuery),
    responses((status = 200, body = DealList), (status = 400, description = "A parameter is wrong; the problem names it")))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    RawQuery(query): RawQuery,
) -> Result<Json<DealList>, ApiError> {
    let params = Params::from_query(query.as_deref());
    let mut known = FILTER_PARAMS.to_vec();
    known.extend(["sort", "limit", "cursor"]);
    check_known(&params, &known)?;
    let lists = picklists::load(&state.db, me.tenant()).await?;
    let filter = filter(&params, &lists)?;
    let (sort, paging) = paging(&params, &deals::SORTS)?;

    let found = deals::list(&state.db, me.tenant(), &filter, &sort, &paging).await?;
    let ids: Vec<i64> = found.page.items.iter().map(|d| d.id).collect();
    let mut contacts = deals::contacts_of(&state.db, me.tenant(), &ids).await?;
    let stage_names: std::collections::HashMap<i64, String> = stages::list(&state.db, me.tenant())
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let items = found
        .page
        .items
        .into_iter()
        .map(|d| {
            let name = stage_names.get(&d.stage_id).cloned().unwrap_or_default();
            let people = contacts.remove(&d.id).unwrap_or_default();
            DealOut::new(d, name, people, &lists)
        })
        .collect();
    Ok(Json(DealList {
        items,
        total: found.page.total.count,
        total_capped: found.page.total.capped,
        next_cursor: found.next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/deals/{id}", tag = "deals", params(("id" = i64, Path, description = "Deal id")),
    responses((status = 200, body = DealOut, headers(("ETag" = String))), (status = 404, description = "No such deal")))]
pub async fn get(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(respond(StatusCode::OK, load(&state, &me, id).await?))
}

#[utoipa::path(post, path = "/api/v1/deals", tag = "deals", request_body = DealIn,
    responses((status = 201, body = DealOut), (status = 422, description = "Invalid fields, each named")))]
// TODO(#3): a deal created through the API has no owner unless `owner` is sent, where the form
// defaults to the user; `close_date` is stamped by the stage rule only and cannot be back-dated
// here (the importer keeps a file's close date for closed deals).
pub async fn create(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    body: Bytes,
) -> Result<Response, ApiError> {
    me.may_write().map_err(ApiError::forbidden)?;
    let fields = check(&state, &me, parse_json(&body)?).await?;

    let mut tx = state.db.begin().await?;
    let created = deals::create(
        &mut tx,
        me.tenant(),
        &fields,
        Some(me.user_id()),
        today(&me),
        None,
    )
    .await;
    let id = tx.finish(created).await?;
    Ok(respond(StatusCode::CREATED, load(&state, &me, id.0).await?))
}

#[utoipa::path(patch, path = "/api/v1/deals/{id}", tag = "deals", request_body = DealIn,
    params(("id" = i64, Path, description = "Deal id"), ("If-Match" = Option<String>, Header, description = "The ETag the change starts from")),
    responses((status = 200, body = DealOut), (status = 409, description = "Stale version; `current` holds the deal now"),
        (status = 428, description = "No If-Match and no version"), (status = 422, description = "Invalid fields")))]
pub async fn update(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    me.may_write().map_err(ApiError::forbidden)?;
    let current = load(&state, &me, id).await?;
    let patch = MergePatch::read(&headers, &body, &current, current.version)?;
    let version = patch.version;

    let tenant = tenants::get(&state.db, me.tenant()).await?;
    check_currency_change(&current, &patch.body, &tenant.currency)?;
    let fields = check(&state, &me, patch.apply(current.as_input())?).await?;

    let mut tx = state.db.begin().await?;
    let result = deals::update(
        &mut tx,
        me.tenant(),
        DealId(id),
        version,
        &fields,
        Some(me.user_id()),
        today(&me),
        None,
    )
    .await;
    super::commit_or_stale(tx, result, async || load(&state, &me, id).await).await?;
    Ok(respond(StatusCode::OK, load(&state, &me, id).await?))
}

/// Amounts are minor units of their currency: a new currency without new amounts would turn
/// USD 1,234.50 into JPY 123,450. The change must bring the amounts it applies to.
/// A `null` or blank currency means the workspace's.
fn check_currency_change(
    current: &DealOut,
    patch: &serde_json::Value,
    tenant_currency: &str,
) -> Result<(), ApiError> {
    let Some(currency) = new_currency(patch, tenant_currency) else {
        return Ok(());
    };
    if currency.trim().eq_ignore_ascii_case(&current.currency) {
        return Ok(());
    }
    let mut missing = Vec::new();
    if patch.get("value").is_none() {
        missing.push("value");
    }
    if current.recurring_value.is_some() && patch.get("recurring_value").is_none() {
        missing.push("recurring_value");
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(ApiError::invalid(kith_domain::Invalid::one(
        "currency",
        format!(
            "changing the currency needs {} in the new currency too; amounts are not converted",
            missing.join(" and ")
        ),
    )))
}

#[utoipa::path(delete, path = "/api/v1/deals/{id}", tag = "deals",
    params(("id" = i64, Path, description = "Deal id"), ("If-Match" = Option<String>, Header, description = "Delete only at this version")),
    responses((status = 204, description = "Deleted"), (status = 409, description = "Stale version")))]
pub async fn delete(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    me.may_write().map_err(ApiError::forbidden)?;
    let version = expected_version(&headers, None)?;
    let mut tx = state.db.begin().await?;
    let result = deals::delete(&mut tx, me.tenant(), DealId(id), version).await;
    super::commit_or_stale(tx, result, async || load(&state, &me, id).await).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// One column of the board: a stage and its figures per currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoardColumn {
    pub stage: i64,
    pub name: String,
    pub color: String,
    pub probability: i32,
    pub is_won: bool,
    pub is_lost: bool,
    /// How many deals the column holds.
    pub count: i64,
    /// Per currency code: `count`, `value` and `weighted` (sums of per-deal rounded weighted
    /// values), in minor units. Currencies are never added together.
    #[schema(value_type = Object)]
    pub totals: CurrencyTotals,
}

/// The board's columns in stage order, for the current filters.
#[derive(Debug, Serialize, ToSchema)]
pub struct Board {
    pub columns: Vec<BoardColumn>,
}

/// Filters of the board: those of the deal list, without paging.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the query parameters; they are read with Params"
)]
pub struct BoardQuery {
    /// Substring of the title; ignores case, accents and apostrophes.
    search: Option<String>,
    /// A stage id.
    stage: Option<i64>,
    /// A client id.
    client: Option<i64>,
    /// A user id.
    owner: Option<i64>,
    /// A deal source label.
    source: Option<String>,
    /// Expected close on or after this date (`YYYY-MM-DD`).
    close_from: Option<String>,
    /// Expected close on or before this date (`YYYY-MM-DD`).
    close_to: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/pipeline/board", tag = "deals", params(BoardQuery),
    responses((status = 200, body = Board), (status = 400, description = "A parameter is wrong; the problem names it")))]
pub async fn board(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    RawQuery(query): RawQuery,
) -> Result<Json<Board>, ApiError> {
    let params = Params::from_query(query.as_deref());
    check_known(&params, &FILTER_PARAMS)?;
    let lists = picklists::load(&state.db, me.tenant()).await?;
    let filter = filter(&params, &lists)?;

    let stages = stages::list(&state.db, me.tenant()).await?;
    let totals = deals::stage_totals(&state.db, me.tenant(), &filter).await?;
    let columns = stages
        .into_iter()
        .map(|stage| {
            let mut by_currency = CurrencyTotals::default();
            let mut count = 0;
            for (_, currency, n, value, weighted) in totals.iter().filter(|t| t.0 == stage.id) {
                by_currency.add_many(currency, *n, *value, *weighted);
                count += n;
            }
            BoardColumn {
                stage: stage.id,
                name: stage.name,
                color: stage.color,
                probability: stage.probability,
                is_won: stage.is_won,
                is_lost: stage.is_lost,
                count,
                totals: by_currency,
            }
        })
        .collect();
    Ok(Json(Board { columns }))
}

/// One deal of a bulk change and the version the caller saw.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDeal {
    pub id: i64,
    pub version: i64,
}

/// Deals to move to one stage, all or none.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkStage {
    pub stage: i64,
    pub deals: Vec<BulkDeal>,
}

/// The deals after a bulk change.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub items: Vec<DealOut>,
}

/// The most deals one bulk change takes.
const BULK_MAX: usize = 500;

#[utoipa::path(post, path = "/api/v1/deals/bulk-stage", tag = "deals", request_body = BulkStage,
    responses((status = 200, body = BulkResult), (status = 409, description = "A deal changed meanwhile; none was moved"),
        (status = 422, description = "An unknown deal or stage, named")))]
// TODO(#3): a stale or missing deal in a bulk move answers 409/422 for the whole batch; the
// 409 does not yet say which deal was out of date.
pub async fn bulk_stage(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    body: Bytes,
) -> Result<Json<BulkResult>, ApiError> {
    me.may_write().map_err(ApiError::forbidden)?;
    let change: BulkStage = parse_json(&body)?;
    if change.deals.is_empty() || change.deals.len() > BULK_MAX {
        return Err(ApiError::invalid(kith_domain::Invalid::one(
            "deals",
            format!("must list 1 to {BULK_MAX} deals"),
        )));
    }
    for (n, deal) in change.deals.iter().enumerate() {
        if change.deals[..n].iter().any(|d| d.id == deal.id) {
            return Err(ApiError::invalid(kith_domain::Invalid::one(
                format!("deals[{n}].id"),
                format!("deal {} is listed twice", deal.id),
            )));
        }
    }
    let moves: Vec<(DealId, i64)> = change
        .deals
        .iter()
        .map(|d| (DealId(d.id), d.version))
        .collect();

    let mut tx = state.db.begin().await?;
    let moved = deals::move_many(
        &mut tx,
        me.tenant(),
        &moves,
        kith_domain::StageId(change.stage),
        Some(me.user_id()),
        today(&me),
    )
    .await;
    match tx.finish(moved).await {
        Ok(_) => {}
        Err(StoreError::Stale { current }) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "Changed meanwhile",
                format!(
                    "A deal was changed since you read it (it is now at version {current}); no deal was moved."
                ),
            ));
        }
        Err(other) => return Err(other.into()),
    }

    let mut items = Vec::with_capacity(moves.len());
    for (id, _) in &moves {
        items.push(load(&state, &me, id.0).await?);
    }
    Ok(Json(BulkResult { items }))
}
