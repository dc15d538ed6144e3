//! Sorting and pagination shared by every list.
//!
//! Every order ends with `id`, so rows that tie on the sort column keep one order on every page
//! and every repeat. The web pages use numbered pages with a total count; the API uses cursors
//! that carry the last row's sort value and id (keyset pagination), which stays fast and exact
//! however deep the caller pages.

use crate::{Db, Result};
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
    /// The row's id itself: ids are handed out in creation order, so this is "order created".
    Id,
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
    /// Parses `sort` against the columns a list allows; blank gives [`Sort::default_for`].
    pub fn parse(
        input: Option<&str>,
        allowed: &[SortColumn],
        searching: bool,
    ) -> Result<Self, String> {
        let Some(input) = input.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(Self::default_for(allowed, searching));
        };
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

    /// The order of a list whose user picked none: its first column ascending, or newest first
    /// while searching. A broad search matches tens of thousands of rows; newest first lets the
    /// search index hand over one page and stop, where an order by name must sort every match.
    pub fn default_for(allowed: &[SortColumn], searching: bool) -> Self {
        let newest = allowed.iter().find(|c| c.kind == SortValue::Id);
        match newest {
            Some(column) if searching => Self {
                column: *column,
                descending: true,
            },
            _ => Self {
                column: allowed[0],
                descending: false,
            },
        }
    }

    /// The value for a `sort` parameter that gives this order.
    pub fn param(&self) -> String {
        if self.descending {
            format!("-{}", self.column.name)
        } else {
            self.column.name.to_owned()
        }
    }

    fn order(&self) -> Order {
        if self.descending {
            Order::Desc
        } else {
            Order::Asc
        }
    }

    /// Adds this order, then `id` in the same direction as the tie-breaker.
    pub fn apply(&self, query: &mut SelectStatement) {
        query.order_by((self.column.table, self.column.column), self.order());
        if self.column.kind != SortValue::Id {
            query.order_by((self.column.table, "id"), self.order());
        }
    }

    /// Like [`Sort::apply`], but keeps the database from walking the sort index, so that it
    /// sorts the rows the search index found instead. With a search, a planner that walks the
    /// sort index hoping to meet matches soon reads most of the table when they are rare or
    /// cluster elsewhere (a surname in name order): seconds on PostgreSQL with a million
    /// contacts, where sorting the matches is bounded by their number.
    /// Written for PostgreSQL, where the planner needs it.
    pub fn apply_without_index(&self, query: &mut SelectStatement) {
        let (table, column) = (self.column.table, self.column.column);
        let unindexed = match self.column.kind {
            SortValue::Text => format!("({table}.{column} || '')"),
            SortValue::Id => format!("({table}.{column} + 0)"),
            SortValue::Time => format!("({table}.{column} + INTERVAL '0 seconds')"),
        };
        query.order_by_expr(Expr::cust(unindexed), self.order());
        if self.column.kind != SortValue::Id {
            query.order_by((table, "id"), self.order());
        }
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
            SortValue::Id => {
                let after = if self.descending {
                    column.lt(cursor.id)
                } else {
                    column.gt(cursor.id)
                };
                query.and_where(after);
                return;
            }
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

/// How far a searched list counts its matches. Counting every match of a broad term (a common
/// surname in a million contacts) reads them all; past this many, "1,000+" says enough.
pub const SEARCH_COUNT_CAP: u64 = 1000;

/// How many rows a list holds over all its pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Total {
    pub count: i64,
    /// Counting stopped at [`SEARCH_COUNT_CAP`]: more than `count` rows match.
    pub capped: bool,
}

impl Total {
    /// Counts every row `matching` selects (a statement without columns or order).
    pub async fn count(db: &Db, matching: &SelectStatement) -> Result<Self> {
        let mut count = matching.clone();
        count.expr(Expr::cust("COUNT(*)"));
        let count: i64 = db.scalar(&count).await?;
        Ok(Self {
            count,
            capped: false,
        })
    }
}

impl std::fmt::Display for Total {
    /// "1000+" when counting stopped at the cap.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.count)?;
        if self.capped {
            f.write_str("+")?;
        }
        Ok(())
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many rows match the filters, over all pages.
    pub total: Total,
    /// Whether a later page exists.
    pub has_more: bool,
}

impl<T> Page<T> {
    /// Trims the extra probe row fetched by [`Paging::apply`].
    pub fn from_probe(mut items: Vec<T>, limit: u64, total: Total) -> Self {
        let has_more = items.len() as u64 > limit;
        items.truncate(limit as usize);
        Self {
            items,
            total,
            has_more,
        }
    }
}
