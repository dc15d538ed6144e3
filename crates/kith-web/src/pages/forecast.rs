//! The forecast (`/crm/pipeline/forecast`): open deals by expected close month, as a chart of
//! one currency and a table of every currency, with the board's filters; and the recurring
//! revenue already won.

use super::deal_filters::DealFilterValues;
use super::render;
use crate::AppState;
use crate::api::deals::filter as deal_filter;
use crate::auth::CurrentUser;
use crate::chart::{self, BarPair};
use crate::error::PageError;
use crate::params::Params;
use crate::views::{Layout, url_with};
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use chrono::{Datelike, Months, NaiveDate};
use kith_domain::money::format_money;
use kith_domain::picklist::ListKind;
use kith_store::forecast::{self, Forecast, ForecastRow};
use kith_store::users::User;
use kith_store::{picklists, tenants, users};

/// The chart leaves no gap between months with deals unless they span more than this many
/// months (deals long overdue, say), when only the months with deals are drawn.
const GAP_FILL_MONTHS: i32 = 60;

/// One line of a currency's table, its amounts formatted.
struct Line {
    month: String,
    count: i64,
    value: String,
    weighted: String,
    mrr: String,
}

impl Line {
    fn new(month: String, count: i64, value: i64, weighted: i64, mrr: i64, code: &str) -> Self {
        Self {
            month,
            count,
            value: format_money(value, code),
            weighted: format_money(weighted, code),
            mrr: format_money(mrr, code),
        }
    }
}

/// The table of one currency: its months, its deals without a date, and its total.
struct CurrencyTable {
    currency: String,
    lines: Vec<Line>,
    total: Line,
}

/// A currency the chart can show, and the link that shows it.
struct CurrencyChoice {
    code: String,
    href: String,
    selected: bool,
}

/// Won deals' recurring revenue in one currency, formatted.
struct Recurring {
    currency: String,
    mrr: String,
    arr: String,
}

#[derive(Template)]
#[template(path = "pipeline/forecast.html")]
struct ForecastPage {
    layout: Layout,
    filters: DealFilterValues,
    users: Vec<User>,
    sources: Vec<String>,
    notice: String,
    /// The chart's currency, kept across filter changes.
    currency: String,
    choices: Vec<CurrencyChoice>,
    /// The SVG markup, built and escaped by [`chart`]; empty when no deal has a date.
    chart: String,
    /// Open deals of the chart's currency that have no expected close date.
    undated: i64,
    tables: Vec<CurrencyTable>,
    won: Vec<Recurring>,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let tenant = me.tenant();
    let params = Params::from_query(query.as_deref());
    let lists = picklists::load(&state.db, tenant).await?;
    let mut notice = String::new();
    let filter = match deal_filter(&params, &lists) {
        Ok(filter) => filter,
        Err(error) => {
            notice = error.field_message();
            Default::default()
        }
    };

    let found = forecast::forecast(&state.db, tenant, &filter).await?;
    let tenant_currency = tenants::get(&state.db, tenant).await?.currency;
    let users = users::list(&state.db, tenant).await?;
    let sources = lists
        .of(ListKind::DealSource)
        .map(|v| v.label.clone())
        .collect();

    let filters = DealFilterValues::read(&params);
    let currencies = chart_currencies(&found);
    let currency = chosen_currency(&currencies, params.get("currency"), &tenant_currency);
    let choices = currencies
        .iter()
        .map(|code| {
            let mut pairs = filters.pairs();
            pairs.push(("currency", code.clone()));
            CurrencyChoice {
                code: code.clone(),
                href: url_with("/crm/pipeline/forecast", &pairs),
                selected: *code == currency,
            }
        })
        .collect();
    let chart = match currency.as_str() {
        "" => String::new(),
        code => chart::value_and_weighted(
            &format!("Open deals in {code} by expected close month: value and weighted value"),
            code,
            &bars(&found.months, code),
        ),
    };
    let undated = found
        .no_date
        .iter()
        .filter(|row| row.currency == currency)
        .map(|row| row.count)
        .sum();

    render(&ForecastPage {
        layout: Layout::new(&me, "pipeline"),
        filters,
        users,
        sources,
        notice,
        choices,
        chart,
        undated,
        tables: tables(&found),
        won: found
            .won_recurring
            .iter()
            .map(|won| Recurring {
                currency: won.currency.clone(),
                mrr: format_money(won.mrr, &won.currency),
                arr: format_money(won.arr, &won.currency),
            })
            .collect(),
        currency,
    })
}

/// The currencies of the deals with an expected close, alphabetical.
fn chart_currencies(found: &Forecast) -> Vec<String> {
    let mut codes: Vec<String> = found.months.iter().map(|r| r.currency.clone()).collect();
    codes.sort();
    codes.dedup();
    codes
}

/// The currency asked for if the chart has it; else the workspace's; else the first there is.
fn chosen_currency(currencies: &[String], asked: Option<&str>, tenant_currency: &str) -> String {
    let has = |code: &str| {
        currencies
            .iter()
            .any(|c| c.eq_ignore_ascii_case(code.trim()))
    };
    [asked.unwrap_or_default(), tenant_currency]
        .into_iter()
        .find(|code| has(code))
        .map(|code| code.trim().to_ascii_uppercase())
        .or_else(|| currencies.first().cloned())
        .unwrap_or_default()
}

/// "2027-03" as "Mar 2027".
fn month_label(month: &str) -> String {
    first_day(month)
        .map(|day| day.format("%b %Y").to_string())
        .unwrap_or_else(|| month.to_owned())
}

fn first_day(month: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()
}

/// The chart's bars in `currency`: one pair per month from the first to the last with deals,
/// months without any drawn empty so that the axis reads as time.
fn bars(months: &[ForecastRow], currency: &str) -> Vec<BarPair> {
    let rows: Vec<&ForecastRow> = months.iter().filter(|r| r.currency == currency).collect();
    let pair = |month: &str, row: Option<&&ForecastRow>| BarPair {
        label: month_label(month),
        value: row.map_or(0, |r| r.value),
        weighted: row.map_or(0, |r| r.weighted),
    };
    let first = rows.first().and_then(|r| first_day(r.month.as_deref()?));
    let last = rows.last().and_then(|r| first_day(r.month.as_deref()?));
    let (Some(first), Some(last)) = (first, last) else {
        return Vec::new();
    };
    let index = |day: NaiveDate| day.year() * 12 + day.month0() as i32;
    if index(last) - index(first) > GAP_FILL_MONTHS {
        return rows
            .iter()
            .map(|r| pair(r.month.as_deref().unwrap_or_default(), Some(r)))
            .collect();
    }

    let mut pairs = Vec::new();
    let mut day = first;
    while day <= last {
        let month = day.format("%Y-%m").to_string();
        let row = rows
            .iter()
            .find(|r| r.month.as_deref() == Some(month.as_str()));
        pairs.push(pair(&month, row));
        let Some(next) = day.checked_add_months(Months::new(1)) else {
            break;
        };
        day = next;
    }
    pairs
}

/// One table per currency: its months with deals, its deals without a date, and the total.
fn tables(found: &Forecast) -> Vec<CurrencyTable> {
    let mut codes: Vec<&str> = found
        .months
        .iter()
        .chain(&found.no_date)
        .map(|r| r.currency.as_str())
        .collect();
    codes.sort_unstable();
    codes.dedup();

    codes
        .into_iter()
        .map(|code| {
            let of_currency = |rows: &[ForecastRow]| -> Vec<ForecastRow> {
                rows.iter()
                    .filter(|r| r.currency == code)
                    .cloned()
                    .collect()
            };
            let rows: Vec<ForecastRow> = of_currency(&found.months)
                .into_iter()
                .chain(of_currency(&found.no_date))
                .collect();
            let lines = rows
                .iter()
                .map(|r| {
                    let month = match &r.month {
                        Some(month) => month_label(month),
                        None => "No expected close".to_owned(),
                    };
                    Line::new(month, r.count, r.value, r.weighted, r.mrr, code)
                })
                .collect();
            let sum = |field: fn(&ForecastRow) -> i64| -> i64 {
                rows.iter().map(field).fold(0, i64::saturating_add)
            };
            let total = Line::new(
                "Total".to_owned(),
                sum(|r| r.count),
                sum(|r| r.value),
                sum(|r| r.weighted),
                sum(|r| r.mrr),
                code,
            );
            CurrencyTable {
                currency: code.to_owned(),
                lines,
                total,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(month: Option<&str>, currency: &str, value: i64) -> ForecastRow {
        ForecastRow {
            month: month.map(str::to_owned),
            currency: currency.into(),
            count: 1,
            value,
            weighted: value / 2,
            mrr: 0,
        }
    }

    #[test]
    fn months_without_deals_are_drawn_empty() {
        let months = [
            row(Some("2026-11"), "USD", 100),
            row(Some("2027-02"), "EUR", 999),
            row(Some("2027-02"), "USD", 300),
        ];
        let shown: Vec<(String, i64, i64)> = bars(&months, "USD")
            .into_iter()
            .map(|b| (b.label, b.value, b.weighted))
            .collect();
        assert_eq!(
            shown,
            [
                ("Nov 2026".to_owned(), 100, 50),
                ("Dec 2026".to_owned(), 0, 0),
                ("Jan 2027".to_owned(), 0, 0),
                ("Feb 2027".to_owned(), 300, 150),
            ]
        );
        assert!(bars(&months, "GBP").is_empty());
    }

    #[test]
    fn a_long_span_shows_only_the_months_with_deals() {
        let months = [
            row(Some("2019-01"), "USD", 100),
            row(Some("2027-02"), "USD", 300),
        ];
        let labels: Vec<String> = bars(&months, "USD").into_iter().map(|b| b.label).collect();
        assert_eq!(labels, ["Jan 2019", "Feb 2027"]);
    }

    #[test]
    fn the_chart_currency_is_the_one_asked_for_then_the_workspaces() {
        let codes = vec!["EUR".to_owned(), "USD".to_owned()];
        assert_eq!(chosen_currency(&codes, Some("eur"), "USD"), "EUR");
        assert_eq!(chosen_currency(&codes, None, "USD"), "USD");
        assert_eq!(chosen_currency(&codes, Some("GBP"), "GBP"), "EUR");
        assert_eq!(chosen_currency(&[], Some("USD"), "USD"), "");
    }

    #[test]
    fn each_currency_has_its_own_table_and_total() {
        let found = Forecast {
            months: vec![
                row(Some("2027-03"), "EUR", 5_000),
                row(Some("2027-03"), "USD", 10_000),
            ],
            no_date: vec![row(None, "USD", 2_000)],
            won_recurring: Vec::new(),
        };
        let shown: Vec<(String, Vec<String>, String, i64)> = tables(&found)
            .into_iter()
            .map(|t| {
                let months = t.lines.into_iter().map(|l| l.month).collect();
                (t.currency, months, t.total.value, t.total.count)
            })
            .collect();
        assert_eq!(
            shown,
            [
                (
                    "EUR".to_owned(),
                    vec!["Mar 2027".to_owned()],
                    "EUR 50.00".to_owned(),
                    1
                ),
                (
                    "USD".to_owned(),
                    vec!["Mar 2027".to_owned(), "No expected close".to_owned()],
                    "USD 120.00".to_owned(),
                    2
                ),
            ]
        );
    }
}
