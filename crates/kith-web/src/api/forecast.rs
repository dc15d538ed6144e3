//! `/api/v1/pipeline/forecast`: open deals by expected close month, and won recurring revenue.
//!
//! Figures are per currency, in minor units, and sums of the per-deal figures the board adds
//! up, so the forecast and the board always agree.

use super::check_known;
use super::deals::{FILTER_PARAMS, filter};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::params::Params;
use axum::Json;
use axum::extract::{RawQuery, State};
use kith_store::forecast::{self, ForecastRow, WonRecurring};
use kith_store::picklists;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Open deals expected to close in one month, in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub currency: String,
    /// How many open deals.
    pub count: i64,
    /// Their total value, in minor units.
    pub value: i64,
    /// The sum of their weighted values (each rounded per deal, as on the board).
    pub weighted: i64,
    /// The sum of their monthly recurring revenue; an annual value counts a twelfth, rounded
    /// per deal half away from zero.
    pub mrr: i64,
}

/// Open deals without an expected close date, in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForecastUndated {
    pub currency: String,
    pub count: i64,
    pub value: i64,
    pub weighted: i64,
    pub mrr: i64,
}

/// The recurring revenue of won deals, in one currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecurringRevenue {
    pub currency: String,
    /// Monthly recurring revenue, in minor units.
    pub mrr: i64,
    /// Annual recurring revenue (each deal's: a monthly value times 12, an annual one as is).
    pub arr: i64,
}

/// The forecast for the current filters. Currencies are never added together.
#[derive(Debug, Serialize, ToSchema)]
pub struct Forecast {
    /// Open deals (in a stage neither won nor lost) by expected close month, oldest first,
    /// then by currency.
    pub months: Vec<ForecastMonth>,
    /// Open deals without an expected close date, by currency.
    pub no_date: Vec<ForecastUndated>,
    /// Won deals' recurring revenue, by currency.
    pub won_recurring: Vec<RecurringRevenue>,
}

impl From<forecast::Forecast> for Forecast {
    fn from(found: forecast::Forecast) -> Self {
        let month = |row: ForecastRow| ForecastMonth {
            month: row.month.unwrap_or_default(),
            currency: row.currency,
            count: row.count,
            value: row.value,
            weighted: row.weighted,
            mrr: row.mrr,
        };
        let undated = |row: ForecastRow| ForecastUndated {
            currency: row.currency,
            count: row.count,
            value: row.value,
            weighted: row.weighted,
            mrr: row.mrr,
        };
        let recurring = |row: WonRecurring| RecurringRevenue {
            currency: row.currency,
            mrr: row.mrr,
            arr: row.arr,
        };
        Self {
            months: found.months.into_iter().map(month).collect(),
            no_date: found.no_date.into_iter().map(undated).collect(),
            won_recurring: found.won_recurring.into_iter().map(recurring).collect(),
        }
    }
}

/// The board's filters, combined with AND.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the query parameters; they are read with Params"
)]
pub struct ForecastQuery {
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

#[utoipa::path(get, path = "/api/v1/pipeline/forecast", tag = "deals", params(ForecastQuery),
    responses((status = 200, body = Forecast), (status = 400, description = "A parameter is wrong; the problem names it")))]
pub async fn forecast(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    RawQuery(query): RawQuery,
) -> Result<Json<Forecast>, ApiError> {
    let params = Params::from_query(query.as_deref());
    check_known(&params, &FILTER_PARAMS)?;
    let lists = picklists::load(&state.db, me.tenant()).await?;
    let filter = filter(&params, &lists)?;

    let found = forecast::forecast(&state.db, me.tenant(), &filter).await?;
    Ok(Json(found.into()))
}
