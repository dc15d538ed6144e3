//! Sorting and pagination shared by every list.
//!
//! Every order ends with `id`, so rows that tie on the sort column keep one order on every page
//! and every repeat. The web pages use numbered pages with a total count; the API uses cursors
//! that carry the last row's sort value and id (keyset pagination), which stays fast and exact
//! however deep the caller pages.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_query::{Cond, Expr, ExprTrait, Order, SelectStatement};
use serde::{Deserialize, Serialize};

/// The largest page anyone may ask for.
pub const MAX_PAGE_SIZE: u64 = 200;

/// The kind of value a sort column holds, which decides how a cursor value is read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortValue {
    Text,
    Time,
}

/// A sortable column: its public name, its SQL column (qualified), and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortColumn {
    pub name: &'static str,
    pub table: &'static str,
    pub column: &'static str,
    pub kind: SortValue,
}

/// A chosen order: a column and a direction. Parsed from `name` or `-name` (descending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub column: SortColumn,
    pub descending: bool,
}

impl Sort {
    /// Parses `sort` against the columns a list allows; blank gives the first column ascending.
    pub fn parse(input: Option<&str>, allowed: &[SortColumn]) -> Result<Self, String> {
        let input = input
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(allowed[0].name);
        let (descending, name) = match input.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, input),
        };
        let column = allowed
            .iter()
            .find(|c| c.name == name)
            .copied()
            .ok_or_else(|| {
                let names: Vec<&str> = allowed.iter().map(|c| c.name).collect();
                format!(
                    "cannot sort by \"{name}\"; use one of {} (prefix - for descending)",
                    names.join(", ")
                )
            })?;
        Ok(Self { column, descending })
    }

    /// The value for a `sort` parameter that gives this order.
    pub fn param(&self) -> String {
        if self.descending {
            format!("-{}", self.column.name)
        } else {
            self.column.name.to_owned()
        }
    }

    /// Adds this order, then `id` in the same direction as the tie-breaker.
    pub fn apply(&self, query: &mut SelectStatement) {
        let order = if self.descending {
            Order::Desc
        } else {
            Order::Asc
        };
        query
            .order_by((self.column.table, self.column.column), order.clone())
            .order_by((self.column.table, "id"), order);
    }

    /// Like [`Sort::apply`], but keeps the database from walking the sort index. With a search,
    /// the matches of a common term (a surname) cluster in name order, and a planner that walks
    /// the name index hoping to meet them evenly reads most of the table first (seconds on
    /// PostgreSQL with a million contacts); sorting the matches found by the search index is
    /// bounded by their number instead.
    pub fn apply_without_index(&self, query: &mut SelectStatement) {
        if self.column.kind != SortValue::Text {
            return self.apply(query);
        }
        let order = if self.descending {
            Order::Desc
        } else {
            Order::Asc
        };
        let unindexed = Expr::cust(format!(
            "({}.{} || '')",
            self.column.table, self.column.column
        ));
        query
            .order_by_expr(unindexed, order.clone())
            .order_by((self.column.table, "id"), order);
    }

    /// Restricts `query` to rows after `cursor` in this order.
    pub fn after(&self, query: &mut SelectStatement, cursor: &Cursor) {
        let column = Expr::col((self.column.table, self.column.column));
        let id = Expr::col((self.column.table, "id"));
        let value: sea_query::Value = match self.column.kind {
            SortValue::Text => cursor.value.clone().into(),
            SortValue::Time => DateTime::parse_from_rfc3339(&cursor.value)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default()
                .into(),
        };
        let condition = if self.descending {
            Cond::any()
                .add(column.clone().lt(value.clone()))
                .add(Cond::all().add(column.eq(value)).add(id.lt(cursor.id)))
        } else {
            Cond::any()
                .add(column.clone().gt(value.clone()))
                .add(Cond::all().add(column.eq(value)).add(id.gt(cursor.id)))
        };
        query.cond_where(condition);
    }
}

/// Where the next API page starts: the sort it belongs to, and the last row's value and id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub sort: String,
    pub value: String,
    pub id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Reads a cursor back, refusing one made for a different sort.
    pub fn decode(input: &str, sort: &Sort) -> Result<Self, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(input.trim())
            .map_err(|_| "is not a cursor this API issued".to_owned())?;
        let cursor: Cursor = serde_json::from_slice(&bytes)
            .map_err(|_| "is not a cursor this API issued".to_owned())?;
        if sort.column.kind == SortValue::Time
            && DateTime::parse_from_rfc3339(&cursor.value).is_err()
        {
            return Err("is not a cursor this API issued".to_owned());
        }
        if cursor.sort != sort.param() {
            return Err(format!(
                "was issued for sort \"{}\", not \"{}\"",
                cursor.sort,
                sort.param()
            ));
        }
        Ok(cursor)
    }

    /// Renders a timestamp sort value the way [`Sort::after`] reads it.
    pub fn time_value(time: DateTime<Utc>) -> String {
        time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }
}

/// Which slice of a list to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    /// Numbered pages for the web UI, starting at 1.
    Numbered { page: u64, per_page: u64 },
    /// Keyset pages for the API.
    After { cursor: Option<Cursor>, limit: u64 },
}

impl Paging {
    pub fn limit(&self) -> u64 {
        match self {
            Paging::Numbered { per_page, .. } => (*per_page).clamp(1, MAX_PAGE_SIZE),
            Paging::After { limit, .. } => (*limit).clamp(1, MAX_PAGE_SIZE),
        }
    }

    /// Applies the limit, and the offset or the keyset condition.
    pub fn apply(&self, sort: &Sort, query: &mut SelectStatement) {
        // One row more than asked tells whether another page follows.
        query.limit(self.limit() + 1);
        match self {
            Paging::Numbered { page, .. } => {
                // Far past the end is simply empty; keep the offset within what SQL can take.
                let offset = Ord::min(
                    page.saturating_sub(1).saturating_mul(self.limit()),
                    i64::MAX as u64,
                );
                query.offset(offset);
            }
            Paging::After {
                cursor: Some(cursor),
                ..
            } => sort.after(query, cursor),
            Paging::After { cursor: None, .. } => {}
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many rows match the filters, over all pages.
    pub total: i64,
    /// Whether a later page exists.
    pub has_more: bool,
}

impl<T> Page<T> {
    /// Trims the extra probe row fetched by [`Paging::apply`].
    pub fn from_probe(mut items: Vec<T>, limit: u64, total: i64) -> Self {
        let has_more = items.len() as u64 > limit;
        items.truncate(limit as usize);
        Self {
            items,
            total,
            has_more,
        }
    }
}
