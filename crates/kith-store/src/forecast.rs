//! The pipeline forecast: open deals by expected close month and currency, and the recurring
//! revenue already won.
//!
//! Every figure is a sum of stored per-deal figures (`value`, `weighted_value`), so the forecast
//! shows the same numbers as the board. Currencies are never added together: each row is one
//! month in one currency.

use crate::deals::{DealFilter, apply_filter, scoped};
use crate::search::{Search, Searchable};
use crate::{Backend, Db, Result};
use kith_domain::TenantId;
use sea_query::{Expr, ExprTrait, Order, SelectStatement};

/// Open deals expected to close in one month (or with no expected close), in one currency.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ForecastRow {
    /// `YYYY-MM`; `None` for deals without an expected close date.
    pub month: Option<String>,
    pub currency: String,
    /// How many deals.
    pub count: i64,
    /// The sum of their values, in minor units.
    pub value: i64,
    /// The sum of their stored, per-deal rounded weighted values, in minor units.
    pub weighted: i64,
    /// The sum of their monthly recurring revenue, each deal's rounded on its own (see
    /// [`kith_domain::deal::RecurringPeriod::mrr`]), in minor units.
    pub mrr: i64,
}

/// The recurring revenue of won deals in one currency.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WonRecurring {
    pub currency: String,
    /// The sum of each won deal's monthly recurring revenue, in minor units.
    pub mrr: i64,
    /// The sum of each won deal's annual recurring revenue, in minor units.
    pub arr: i64,
}

/// The forecast of the deals matching a filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forecast {
    /// Open deals with an expected close date, by month then currency, oldest month first.
    pub months: Vec<ForecastRow>,
    /// Open deals without an expected close date, by currency.
    pub no_date: Vec<ForecastRow>,
    /// Won deals' recurring revenue, by currency; currencies without any are left out.
    pub won_recurring: Vec<WonRecurring>,
}

/// Per-deal MRR in integer SQL, the same figure as
/// [`RecurringPeriod::mrr`](kith_domain::deal::RecurringPeriod::mrr): a monthly value as is,
/// an annual one divided by 12 and rounded half away from zero. Both backends truncate integer
/// division toward zero, so adding (or, below zero, subtracting) 6 before dividing rounds
/// half away from zero. A deal without a recurring value adds nothing.
const MRR: &str = "CASE \
    WHEN deals.recurring_period = 'monthly' THEN deals.recurring_value \
    WHEN deals.recurring_period = 'annual' AND deals.recurring_value < 0 \
        THEN (deals.recurring_value - 6) / 12 \
    WHEN deals.recurring_period = 'annual' THEN (deals.recurring_value + 6) / 12 \
    END";

/// Per-deal ARR, the same figure as
/// [`RecurringPeriod::arr`](kith_domain::deal::RecurringPeriod::arr).
const ARR: &str = "CASE \
    WHEN deals.recurring_period = 'monthly' THEN deals.recurring_value * 12 \
    WHEN deals.recurring_period = 'annual' THEN deals.recurring_value \
    END";

/// The expected close month as `YYYY-MM` text. SQLite keeps dates as `YYYY-MM-DD` text;
/// PostgreSQL as `DATE`.
fn month_expr(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "substr(deals.expected_close, 1, 7)",
        Backend::Postgres => "to_char(deals.expected_close, 'YYYY-MM')",
    }
}

/// A sum that reads back as a BIGINT on both backends (PostgreSQL's SUM of BIGINT is NUMERIC).
fn sum(expr: &str) -> Expr {
    Expr::cust(format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)"))
}

/// The tenant's deals matching `filter`, joined to their stages.
fn matching(db: &Db, tenant: TenantId, filter: &DealFilter) -> SelectStatement {
    let mut query = scoped(tenant);
    query.inner_join(
        "stages",
        Expr::col(("stages", "tenant_id"))
            .equals(("deals", "tenant_id"))
            .and(Expr::col(("stages", "id")).equals(("deals", "stage_id"))),
    );
    apply_filter(&mut query, filter);
    if let Some(search) = Search::new(db.backend(), Searchable::Deals, filter.search.as_deref()) {
        search.restrict(&mut query);
    }
    query
}

/// The forecast of `tenant`'s deals matching `filter`: open deals (in a stage neither won nor
/// lost) by expected close month and currency, and the recurring revenue of the won ones.
pub async fn forecast(db: &Db, tenant: TenantId, filter: &DealFilter) -> Result<Forecast> {
    let month = month_expr(db.backend());
    let mut open = matching(db, tenant, filter);
    open.and_where(Expr::col(("stages", "is_won")).eq(false))
        .and_where(Expr::col(("stages", "is_lost")).eq(false))
        .expr_as(Expr::cust(month), "month")
        .expr_as(Expr::col(("deals", "currency")), "currency")
        .expr_as(Expr::cust("COUNT(*)"), "count")
        .expr_as(sum("deals.value"), "value")
        .expr_as(sum("deals.weighted_value"), "weighted")
        .expr_as(sum(MRR), "mrr")
        .add_group_by([Expr::cust(month), Expr::col(("deals", "currency"))])
        .order_by_expr(Expr::cust(month), Order::Asc)
        .order_by(("deals", "currency"), Order::Asc);
    let rows: Vec<ForecastRow> = db.fetch_all(&open).await?;
    // SQLite sorts NULL first and PostgreSQL last; the bucket without a date is apart anyway.
    let (months, no_date) = rows.into_iter().partition(|row| row.month.is_some());

    let mut won = matching(db, tenant, filter);
    won.and_where(Expr::col(("stages", "is_won")).eq(true))
        .and_where(Expr::col(("deals", "recurring_value")).is_not_null())
        .expr_as(Expr::col(("deals", "currency")), "currency")
        .expr_as(sum(MRR), "mrr")
        .expr_as(sum(ARR), "arr")
        .group_by_col(("deals", "currency"))
        .order_by(("deals", "currency"), Order::Asc);
    let won_recurring = db.fetch_all(&won).await?;

    Ok(Forecast {
        months,
        no_date,
        won_recurring,
    })
}
