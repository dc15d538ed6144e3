//! Searching a list: the one place with backend-specific SQL for finding records.

use crate::page::{Paging, SEARCH_COUNT_CAP, Sort, SortColumn, SortValue, Total};
use crate::{Backend, Db, Record, Result};
use kith_domain::search::needle;
use sea_query::{Alias, Asterisk, Expr, ExprTrait, LikeExpr, Query, SelectStatement};

/// Tables with a `search_text` column and a search index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Searchable {
    Clients,
    Contacts,
    Deals,
    Activities,
}

impl Searchable {
    fn table(self) -> &'static str {
        match self {
            Searchable::Clients => "clients",
            Searchable::Contacts => "contacts",
            Searchable::Deals => "deals",
            Searchable::Activities => "activities",
        }
    }

    /// Its FTS5 table on SQLite, whose rowid is the row's id.
    fn fts(self) -> &'static str {
        match self {
            Searchable::Clients => "clients_fts",
            Searchable::Contacts => "contacts_fts",
            Searchable::Deals => "deals_fts",
            Searchable::Activities => "activities_fts",
        }
    }

    /// Whether `sort` walks this table in time order through an index, so that the matches of a
    /// common term lie spread through its newest rows: an activity log by when.
    fn in_time_order(self, sort: &Sort) -> bool {
        self == Searchable::Activities && sort.column.column == "sort_at"
    }
}

/// The shortest query the trigram indexes can answer; shorter ones match name prefixes.
const TRIGRAM: usize = 3;

/// What a search looks for, once the query is folded.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    /// Typed, but nothing searchable (only apostrophes, say): nothing matches.
    Nothing,
    /// One or two characters: the start of the sort name.
    Prefix(String),
    /// Three or more: anywhere in the search text, through the trigram index.
    Substring(String),
}

/// A search of one list: what to match, and how the backend's index finds it.
#[derive(Debug, Clone)]
pub struct Search {
    backend: Backend,
    table: Searchable,
    term: Term,
}

impl Search {
    /// The search for `query`, or `None` when it is blank. `%`, `_` and `\` in the query
    /// match themselves.
    pub fn new(backend: Backend, table: Searchable, query: Option<&str>) -> Option<Self> {
        let query = query.filter(|q| !q.trim().is_empty())?;
        let needle = needle(query);
        let term = if needle.is_empty() {
            Term::Nothing
        } else if needle.chars().count() < TRIGRAM {
            Term::Prefix(needle)
        } else {
            Term::Substring(needle)
        };
        Some(Self {
            backend,
            table,
            term,
        })
    }

    /// Restricts `query`, which selects from the searched table, to the matches.
    pub fn restrict(&self, query: &mut SelectStatement) {
        let name = self.table.table();
        match &self.term {
            Term::Nothing => {
                query.and_where(Expr::cust("1 = 0"));
            }
            Term::Prefix(needle) => {
                query.and_where(name_prefix(name, needle));
            }
            Term::Substring(needle) if self.backend == Backend::Sqlite => {
                // A join rather than `id IN (…)`: FTS5 then hands matches over in rowid order
                // and can stop once a page is full (see `page`). Under the trigram tokenizer
                // a phrase matches a substring; quoting makes every character literal.
                let fts = self.table.fts();
                let phrase = format!("\"{}\"", needle.replace('"', "\"\""));
                query
                    .inner_join(fts, Expr::col((fts, "rowid")).equals((name, "id")))
                    .and_where(Expr::cust_with_values(format!("{fts} MATCH ?"), [phrase]));
            }
            Term::Substring(needle) => {
                // PostgreSQL's trigram GIN index serves this LIKE directly.
                query.and_where(Expr::col((name, "search_text")).like(substring_pattern(needle)));
            }
        }
    }

    /// Finds how many rows match, up to [`SEARCH_COUNT_CAP`], and which ones when they are
    /// few enough: one pass over the search index serves both the count and the page.
    /// `matching` selects from the searched table with the other filters applied, without
    /// columns.
    pub async fn find(&self, db: &Db, matching: &SelectStatement) -> Result<Found> {
        let name = self.table.table();
        let known_limit = self.known_limit();
        let mut first = matching.clone();
        self.restrict(&mut first);
        first.column((name, "id")).limit(known_limit + 1);
        let ids: Vec<i64> = db
            .fetch_all::<(i64,), _>(&first)
            .await?
            .into_iter()
            .map(|(id,)| id)
            .collect();

        let matches = ids.len() as u64;
        let total = Total {
            count: Ord::min(matches, SEARCH_COUNT_CAP) as i64,
            capped: matches > SEARCH_COUNT_CAP,
        };
        Ok(Found {
            total,
            ids: (matches <= known_limit).then_some(ids),
        })
    }

    /// How many matches the first pass collects, so that the page needs no second pass over
    /// the search index when there are no more.
    fn known_limit(&self) -> u64 {
        match self.backend {
            // Each match PostgreSQL's trigram index finds is read from the table to check it;
            // a second pass for the page would read them all again.
            Backend::Postgres => KNOWN_MATCHES,
            // A log in time order pages common terms from a window of its newest rows, which
            // holds a page only when one row in [`KNOWN_MATCHES`] matches or more.
            Backend::Sqlite if self.table == Searchable::Activities => KNOWN_MATCHES,
            Backend::Sqlite => SEARCH_COUNT_CAP,
        }
    }

    /// Fetches one page of the matches in `sort` order. `query` selects the searched table's
    /// columns with the other filters applied.
    pub async fn fetch_page<T: Record>(
        &self,
        db: &Db,
        found: &Found,
        sort: &Sort,
        paging: &Paging,
        query: SelectStatement,
    ) -> Result<Vec<T>> {
        // A short page may only mean the matches lie further back: a wider window, then the
        // index. The narrow window serves the commonest terms at a tenth of the wide one's cost.
        for window in RECENT_WINDOWS {
            let Some(recent) = self.recent_matches(found, sort, paging, &query, window) else {
                break;
            };
            let rows: Vec<T> = db.fetch_all(&recent).await?;
            if rows.len() as u64 > paging.limit() {
                return Ok(rows);
            }
        }

        let mut query = query;
        let order = self.page(found, sort, &mut query);
        paging.apply(&order, &mut query);
        db.fetch_all(&query).await
    }

    /// Restricts `query` to the matches and orders it by `sort`, the way this search finds a
    /// page fastest. Returns the order paging must use: a cursor condition must name the
    /// same column as the order.
    fn page(&self, found: &Found, sort: &Sort, query: &mut SelectStatement) -> Sort {
        let name = self.table.table();
        if let Some(ids) = &found.ids {
            // Every match is known: the key finds them, and sorting them is bounded by their
            // number. PostgreSQL's planner would rather walk a name or date index looking for
            // them (seconds for a few thousand ids among a million rows): keep it off.
            let known = if ids.is_empty() {
                Expr::cust("1 = 0")
            } else {
                Expr::col((name, "id")).is_in(ids.iter().copied())
            };
            query.and_where(known);
            if self.backend == Backend::Postgres && sort.column.kind != SortValue::Id {
                sort.apply_without_index(query);
            } else {
                sort.apply(query);
            }
            return *sort;
        }

        // Past what the first pass collects: matches are common.
        self.restrict(query);
        let substring = matches!(self.term, Term::Substring(_));
        let by_id = sort.column.kind == SortValue::Id;
        match self.backend {
            Backend::Sqlite if substring && by_id => {
                // The FTS table's rowid is the row's id: ordered by it, FTS5 reads the matches
                // newest first and stops after one page, however common the term.
                let by_rowid = Sort {
                    column: SortColumn {
                        table: self.table.fts(),
                        column: "rowid",
                        ..sort.column
                    },
                    descending: sort.descending,
                };
                by_rowid.apply(query);
                by_rowid
            }
            // A planner walking the name index hoping to meet matches soon reads most of the
            // table when they cluster elsewhere in name order (a surname): sort the matches
            // the search index found instead.
            // TODO(#2): past the first pass, an order by name still sorts every match (~200 ms
            // for the 68,000 of the commonest surname in a million); newest first is fast.
            Backend::Postgres if substring && !by_id => {
                sort.apply_without_index(query);
                *sort
            }
            _ => {
                sort.apply(query);
                *sort
            }
        }
    }

    /// The page of a term too common for the first pass to collect: the matches among the
    /// `rows` rows next in `sort` order, found by walking its index. Otherwise every
    /// match is read and sorted: on PostgreSQL the trigram index reads them from the table (70 ms
    /// for 9,000 of a million), and SQLite sorts the FTS5 matches of a log ordered by time (500
    /// ms for 650,000 of two million). One row in [`KNOWN_MATCHES`] matching or more,
    /// the window holds a page. `None` where another plan serves better: by id on SQLite, FTS5
    /// stops after a page by itself.
    // TODO(#4): on PostgreSQL, a term matching one activity in 100 to 400 of two million reads
    // ~25,000 rows here or through the trigram index: the activity search's p99 is 65 ms against
    // a 50 ms target. A narrower, adaptive window or a covering index would close the gap.
    fn recent_matches(
        &self,
        found: &Found,
        sort: &Sort,
        paging: &Paging,
        query: &SelectStatement,
        rows: u64,
    ) -> Option<SelectStatement> {
        let Term::Substring(needle) = &self.term else {
            return None;
        };
        let by_id = sort.column.kind == SortValue::Id;
        let walkable = match self.backend {
            Backend::Postgres => by_id || self.table.in_time_order(sort),
            Backend::Sqlite => self.table.in_time_order(sort),
        };
        if found.ids.is_some() || !walkable {
            return None;
        }
        let name = self.table.table();

        // The window: the rows after the cursor, in order, with their search text.
        let mut window = query.clone();
        window.expr_as(Expr::col((name, "search_text")), Alias::new(WINDOW_TEXT));
        if let Paging::After {
            cursor: Some(cursor),
            ..
        } = paging
        {
            sort.after(&mut window, cursor);
        }
        sort.apply(&mut window);
        window.limit(rows);

        let mut recent = Query::select();
        recent
            .column(Asterisk)
            .from_subquery(window, Alias::new(name))
            .and_where(Expr::col((name, WINDOW_TEXT)).like(substring_pattern(needle)));
        sort.apply(&mut recent);
        paging.apply(sort, &mut recent);
        Some(recent.to_owned())
    }
}

/// Up to this many matches, the first pass collects every id (PostgreSQL's always, SQLite's for
/// the activity log), and the page is found by key (about 5 µs a match on this machine's 2
/// cores). Past it, one row in 200 of a million matches (in 400 of two million), and walking
/// the newest rows meets a page of them within the wider of [`RECENT_WINDOWS`].
const KNOWN_MATCHES: u64 = 5000;

/// How many rows, in the list's order, a search walks for a page of a common term, first
/// narrow, then wide, before it asks the search index instead (1–6 µs a row).
const RECENT_WINDOWS: [u64; 2] = [2_000, 25_000];

/// The search text's name inside the window of [`Search::recent_matches`], apart from the
/// columns the list selects.
const WINDOW_TEXT: &str = "window_search_text";

/// What a search found before a page is listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub total: Total,
    /// Every matching id, when the first pass collected them all.
    ids: Option<Vec<i64>>,
}

/// One or two characters cannot use the trigram indexes, and as a substring they match most
/// of a large list anyway; they match the start of the sort name instead (a client's name, a
/// contact's last name), through the sort index. "wu" finds Wu and Wunsch.
fn name_prefix(table: &str, needle: &str) -> Expr {
    let column = Expr::col((Alias::new(table), Alias::new("name_sort")));
    column
        .clone()
        .gte(needle.to_owned())
        .and(column.lt(prefix_end(needle)))
}

/// The smallest string after every string that starts with `prefix`: its last character
/// moved up by one ("wu" → "wv"), which holds under binary and linguistic collations alike.
fn prefix_end(prefix: &str) -> String {
    let mut chars: Vec<char> = prefix.chars().collect();
    let last = chars.pop().unwrap_or_default();
    let next = (u32::from(last) + 1..=u32::from(char::MAX))
        .find_map(char::from_u32)
        .unwrap_or(char::MAX);
    chars.push(next);
    chars.into_iter().collect()
}

/// `needle` anywhere, its wildcards taken literally.
fn substring_pattern(needle: &str) -> LikeExpr {
    LikeExpr::new(format!("%{}%", escape_like(needle))).escape('\\')
}

/// Escapes LIKE's wildcards so they match literally.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ranges_end_after_the_prefix() {
        assert_eq!(prefix_end("wu"), "wv");
        assert_eq!(prefix_end("a"), "b");
        assert_eq!(prefix_end("z\u{D7FF}"), "z\u{E000}");
    }

    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(escape_like(r"50%_\"), r"50\%\_\\");
    }
}
