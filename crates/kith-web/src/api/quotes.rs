//! `/api/v1/quotes` and `/api/v1/deals/{id}/quote`: quotes with their lines and totals.
//!
//! Money is an integer of minor units beside its currency code, as for deals. A line's
//! `quantity` is a decimal with up to two places, sent as a number or as text (`1.5` or
//! `"1.5"`) and returned as text. Line figures and totals are computed by Kith and read-only:
//! each line is rounded on its own, and optional lines are not counted.

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
use kith_domain::money::format_amount;
use kith_domain::quote::{LineInput, QuoteFields, QuoteInput, QuoteStatus, format_quantity};
use kith_domain::{DealId, QuoteId};
use kith_store::quotes::{self, Line, Quote, QuoteFilter};
use kith_store::{StoreError, tenants};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One line of a quote as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuoteLineOut {
    pub description: String,
    /// A decimal with up to two places, as text: "1.5".
    pub quantity: String,
    /// Minor units of the quote's currency.
    pub unit_price: i64,
    /// 0–100.
    pub discount_percent: i32,
    /// 0–100, on the net after discount.
    pub tax_percent: i32,
    /// Shown but not counted in the totals.
    pub optional: bool,
    /// Billed every period; counted in `recurring_total` as well.
    pub recurring: bool,
    /// Quantity × unit price, rounded half away from zero.
    pub net: i64,
    /// The discount percentage of `net`, rounded.
    pub discount: i64,
    /// The tax percentage of `net` − `discount`, rounded.
    pub tax: i64,
    /// `net` − `discount` + `tax`.
    pub total: i64,
}

impl From<Line> for QuoteLineOut {
    fn from(line: Line) -> Self {
        Self {
            description: line.description,
            quantity: format_quantity(line.quantity_hundredths),
            unit_price: line.unit_price,
            discount_percent: line.discount_percent,
            tax_percent: line.tax_percent,
            optional: line.optional,
            recurring: line.recurring,
            net: line.net,
            discount: line.discount,
            tax: line.tax,
            total: line.total,
        }
    }
}

/// A quote as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuoteOut {
    pub id: i64,
    /// 1, 2, 3… per workspace; shown as Q-0001.
    pub number: i64,
    pub client: i64,
    pub client_name: Option<String>,
    pub deal: Option<i64>,
    pub deal_title: Option<String>,
    /// draft, sent, accepted, declined or expired.
    pub status: String,
    pub valid_until: Option<NaiveDate>,
    pub currency: String,
    pub notes: Option<String>,
    pub lines: Vec<QuoteLineOut>,
    /// Sum of the counted lines' `net`, in minor units.
    pub subtotal: i64,
    /// Sum of the counted lines' `discount`.
    pub discount: i64,
    /// Sum of the counted lines' `tax`.
    pub tax: i64,
    /// Sum of the counted lines' `total`.
    pub total: i64,
    /// Sum of the counted recurring lines' `total`: what the client pays each period.
    pub recurring_total: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl QuoteOut {
    fn new(quote: Quote, lines: Vec<Line>) -> Self {
        Self {
            id: quote.id,
            number: quote.number,
            client: quote.client_id,
            client_name: quote.client_name,
            deal: quote.deal_id,
            deal_title: quote.deal_title,
            status: quote.status,
            valid_until: quote.valid_until,
            currency: quote.currency,
            notes: quote.notes,
            lines: lines.into_iter().map(QuoteLineOut::from).collect(),
            subtotal: quote.subtotal,
            discount: quote.discount,
            tax: quote.tax,
            total: quote.total,
            recurring_total: quote.recurring_total,
            created_at: quote.created_at,
            updated_at: quote.updated_at,
            version: quote.version,
        }
    }

    /// The quote as a [`QuoteIn`], the base a merge patch applies to.
    fn as_input(&self) -> QuoteIn {
        QuoteIn {
            client: Some(self.client),
            deal: self.deal,
            status: Some(self.status.clone()),
            valid_until: self.valid_until.map(|d| d.to_string()),
            currency: Some(self.currency.clone()),
            notes: self.notes.clone(),
            lines: Some(
                self.lines
                    .iter()
                    .map(|l| QuoteLineIn {
                        description: l.description.clone(),
                        quantity: Some(Quantity::Text(l.quantity.clone())),
                        unit_price: Some(l.unit_price),
                        discount_percent: Some(i64::from(l.discount_percent)),
                        tax_percent: Some(i64::from(l.tax_percent)),
                        optional: l.optional,
                        recurring: l.recurring,
                    })
                    .collect(),
            ),
            version: None,
        }
    }
}

/// A quantity sent as a JSON number (`1.5`) or as text (`"1.5"`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Quantity {
    Number(serde_json::Number),
    Text(String),
}

impl Quantity {
    fn typed(&self) -> String {
        match self {
            // A JSON number prints as it was written for any quantity with two decimals.
            Quantity::Number(n) => n.to_string(),
            Quantity::Text(t) => t.clone(),
        }
    }
}

/// One line as sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteLineIn {
    #[serde(default)]
    pub description: String,
    /// Up to two decimals, as a number or text; 1 when left out.
    #[schema(value_type = Option<String>, example = "1.5")]
    pub quantity: Option<Quantity>,
    /// Minor units of the quote's currency.
    pub unit_price: Option<i64>,
    /// 0–100; 0 when left out.
    pub discount_percent: Option<i64>,
    /// 0–100; 0 when left out.
    pub tax_percent: Option<i64>,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub recurring: bool,
}

/// A quote as sent to create it, or as a merge patch (RFC 7396) to change it. `lines`, when
/// sent, replaces every line.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteIn {
    /// A client id; required.
    pub client: Option<i64>,
    /// A deal of that client.
    pub deal: Option<i64>,
    /// draft (when left out), sent, accepted, declined or expired.
    pub status: Option<String>,
    /// `YYYY-MM-DD`.
    pub valid_until: Option<String>,
    /// ISO 4217; when left out, the deal's currency, or else the workspace's.
    pub currency: Option<String>,
    pub notes: Option<String>,
    pub lines: Option<Vec<QuoteLineIn>>,
    /// The version a change starts from, when no `If-Match` header is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

impl QuoteIn {
    fn into_input(self, tenant_currency: &str) -> QuoteInput {
        let currency = self
            .currency
            .clone()
            .filter(|c| !c.trim().is_empty())
            .unwrap_or_else(|| tenant_currency.to_owned())
            .trim()
            .to_ascii_uppercase();
        // Prices arrive in minor units; the domain reads them as typed in major units.
        let amount = |minor: i64| format_amount(minor, &currency);
        let lines = self
            .lines
            .unwrap_or_default()
            .into_iter()
            .map(|line| LineInput {
                description: line.description,
                quantity: line.quantity.map(|q| q.typed()),
                unit_price: line.unit_price.map(amount),
                discount_percent: line.discount_percent.map(|p| p.to_string()),
                tax_percent: line.tax_percent.map(|p| p.to_string()),
                optional: line.optional,
                recurring: line.recurring,
            })
            .collect();
        QuoteInput {
            client_id: self.client,
            deal_id: self.deal,
            status: self.status,
            valid_until: self.valid_until,
            currency: self.currency,
            notes: self.notes,
            lines,
        }
    }
}

/// One page of quotes.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteList {
    pub items: Vec<QuoteOut>,
    pub total: i64,
    pub next_cursor: Option<String>,
}

/// Filters of the quote list. Filters combine with AND.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the query parameters; they are read with Params"
)]
pub struct QuoteListQuery {
    /// A client id.
    client: Option<i64>,
    /// A deal id.
    deal: Option<i64>,
    /// draft, sent, accepted, declined or expired.
    status: Option<String>,
    /// `created` or `updated`; prefix `-` for descending. `id` breaks ties.
    sort: Option<String>,
    /// Page size, 1–200 (default 50).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The filter parameters of the quote list.
pub const FILTER_PARAMS: [&str; 3] = ["client", "deal", "status"];

/// Reads the quote filters from query parameters, naming the one that is wrong.
pub fn filter(params: &Params) -> Result<QuoteFilter, ApiError> {
    let id = |name: &str| params.id(name).map_err(|m| ApiError::bad_field(name, m));
    let status = match params.get("status") {
        None => None,
        Some(typed) => {
            Some(QuoteStatus::parse(typed).map_err(|m| ApiError::bad_field("status", m))?)
        }
    };
    Ok(QuoteFilter {
        client_id: id("client")?,
        deal_id: id("deal")?,
        status,
    })
}

fn respond(status: StatusCode, quote: QuoteOut) -> Response {
    let location = format!("/api/v1/quotes/{}", quote.id);
    let mut response = (status, [(header::ETAG, etag(quote.version))], Json(quote)).into_response();
    if status == StatusCode::CREATED
        && let Ok(value) = location.parse()
    {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

async fn load(state: &AppState, me: &Identity, id: i64) -> Result<QuoteOut, StoreError> {
    let (quote, lines) = quotes::get_with_lines(&state.db, me.tenant(), QuoteId(id)).await?;
    Ok(QuoteOut::new(quote, lines))
}

async fn check(state: &AppState, me: &Identity, body: QuoteIn) -> Result<QuoteFields, ApiError> {
    let tenant = tenants::get(&state.db, me.tenant()).await?;
    QuoteFields::parse(&body.into_input(&tenant.currency), &tenant.currency)
        .map_err(ApiError::invalid)
}

#[utoipa::path(get, path = "/api/v1/quotes", tag = "quotes", params(QuoteListQuery),
    responses((status = 200, body = QuoteList), (status = 400, description = "A parameter is wrong; the problem names it")))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    RawQuery(query): RawQuery,
) -> Result<Json<QuoteList>, ApiError> {
    let params = Params::from_query(query.as_deref());
    let mut known = FILTER_PARAMS.to_vec();
    known.extend(["sort", "limit", "cursor"]);
    check_known(&params, &known)?;
    let filter = filter(&params)?;
    let (sort, paging) = paging(&params, &quotes::SORTS)?;

    let found = quotes::list(&state.db, me.tenant(), &filter, &sort, &paging).await?;
    let ids: Vec<i64> = found.page.items.iter().map(|q| q.id).collect();
    let mut lines = quotes::lines_of_many(&state.db, me.tenant(), &ids).await?;
    let items = found
        .page
        .items
        .into_iter()
        .map(|q| {
            let of_quote = lines.remove(&q.id).unwrap_or_default();
            QuoteOut::new(q, of_quote)
        })
        .collect();
    Ok(Json(QuoteList {
        items,
        total: found.page.total.count,
        next_cursor: found.next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/quotes/{id}", tag = "quotes", params(("id" = i64, Path, description = "Quote id")),
    responses((status = 200, body = QuoteOut, headers(("ETag" = String))), (status = 404, description = "No such quote")))]
pub async fn get(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(respond(StatusCode::OK, load(&state, &me, id).await?))
}

#[utoipa::path(post, path = "/api/v1/quotes", tag = "quotes", request_body = QuoteIn,
    responses((status = 201, body = QuoteOut), (status = 422, description = "Invalid fields, each named (`lines[1].unit_price`)")))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    body: Bytes,
) -> Result<Response, ApiError> {
    me.may_write().map_err(ApiError::forbidden)?;
    let mut body: QuoteIn = parse_json(&body)?;
    let blank = body.currency.as_deref().is_none_or(|c| c.trim().is_empty());
    if blank && let Some(deal) = body.deal {
        // A quote for a deal is priced as the deal is; an unknown deal is refused below.
        if let Ok(deal) =
            kith_store::deals::get(&state.db, me.tenant(), kith_domain::DealId(deal)).await
        {
            body.currency = Some(deal.currency);
        }
    }
    let fields = check(&state, &me, body).await?;

    let mut tx = state.db.begin().await?;
    let created = quotes::create(&mut tx, me.tenant(), &fields).await;
    let created = tx.finish(created).await?;
    Ok(respond(
        StatusCode::CREATED,
        load(&state, &me, created.id.0).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/deals/{id}/quote", tag = "quotes",
    params(("id" = i64, Path, description = "Deal id")),
    responses((status = 201, body = QuoteOut, description = "A draft quote for the deal's client, in its currency, with a line for its value and one for its recurring value"),
        (status = 404, description = "No such deal"), (status = 422, description = "The deal has no client (`client`)")))]
pub async fn from_deal(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    me.may_write().map_err(ApiError::forbidden)?;
    let mut tx = state.db.begin().await?;
    let created = quotes::create_from_deal(&mut tx, me.tenant(), DealId(id)).await;
    let created = tx.finish(created).await?;
    Ok(respond(
        StatusCode::CREATED,
        load(&state, &me, created.id.0).await?,
    ))
}

#[utoipa::path(patch, path = "/api/v1/quotes/{id}", tag = "quotes", request_body = QuoteIn,
    params(("id" = i64, Path, description = "Quote id"), ("If-Match" = Option<String>, Header, description = "The ETag the change starts from")),
    responses((status = 200, body = QuoteOut), (status = 409, description = "Stale version; `current` holds the quote now"),
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
    let result = quotes::update(&mut tx, me.tenant(), QuoteId(id), version, &fields).await;
    super::commit_or_stale(tx, result, async || load(&state, &me, id).await).await?;
    Ok(respond(StatusCode::OK, load(&state, &me, id).await?))
}

/// Unit prices are minor units of the quote's currency: a new currency without new lines would
/// turn USD 10.00 into JPY 1,000. The change must bring the lines, priced in the new currency.
/// A `null` or blank currency means the workspace's.
fn check_currency_change(
    current: &QuoteOut,
    patch: &serde_json::Value,
    tenant_currency: &str,
) -> Result<(), ApiError> {
    let Some(currency) = new_currency(patch, tenant_currency) else {
        return Ok(());
    };
    let unchanged = currency.trim().eq_ignore_ascii_case(&current.currency);
    if unchanged || current.lines.is_empty() || patch.get("lines").is_some() {
        return Ok(());
    }
    Err(ApiError::invalid(kith_domain::Invalid::one(
        "currency",
        "changing the currency needs the lines in the new currency too; prices are not converted",
    )))
}

#[utoipa::path(delete, path = "/api/v1/quotes/{id}", tag = "quotes",
    params(("id" = i64, Path, description = "Quote id"), ("If-Match" = Option<String>, Header, description = "Delete only at this version")),
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
    let result = quotes::delete(&mut tx, me.tenant(), QuoteId(id), version).await;
    super::commit_or_stale(tx, result, async || load(&state, &me, id).await).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
