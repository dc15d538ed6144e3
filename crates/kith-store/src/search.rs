//! The search condition: the one place with backend-specific SQL for finding records.

use crate::Backend;
use kith_domain::search::needle;
use sea_query::{Alias, Expr, ExprTrait, LikeExpr};

/// Tables with a `search_text` column and a search index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Searchable {
    Clients,
    Contacts,
}

impl Searchable {
    fn table(self) -> &'static str {
        match self {
            Searchable::Clients => "clients",
            Searchable::Contacts => "contacts",
        }
    }
}

// TODO(#2): a term that matches tens of thousands of contacts (the commonest surname in a
// million) takes ~250 ms on SQLite: the exact count and the sort by name both read every
// matching row. Capping the count ("10,000+"), listing search results newest first unless a
// sort is chosen, and a covering (tenant_id, id, name_sort) index bring it near 50 ms.

/// The shortest query the trigram indexes can answer; shorter ones match name prefixes.
const TRIGRAM: usize = 3;

/// A condition matching rows whose folded search text contains the folded `query`, or `None`
/// when the query is blank. `%`, `_` and `\` in the query match themselves.
pub fn condition(backend: Backend, table: Searchable, query: &str) -> Option<Expr> {
    if query.trim().is_empty() {
        return None;
    }
    let needle = needle(query);
    if needle.is_empty() {
        // Typed, but nothing searchable (only apostrophes, say): nothing matches.
        return Some(Expr::cust("1 = 0"));
    }
    let name = table.table();

    if needle.chars().count() < TRIGRAM {
        return Some(name_prefix(name, &needle));
    }

    if backend == Backend::Sqlite {
        // An FTS5 phrase matches a substring under the trigram tokenizer; quoting makes every
        // character literal.
        let phrase = format!("\"{}\"", needle.replace('"', "\"\""));
        let sql = format!("{name}.id IN (SELECT rowid FROM {name}_fts WHERE {name}_fts MATCH ?)");
        return Some(Expr::cust_with_values(sql, [phrase]));
    }

    // PostgreSQL's trigram GIN index serves this LIKE directly.
    let pattern = format!("%{}%", escape_like(&needle));
    Some(Expr::col((name, "search_text")).like(LikeExpr::new(pattern).escape('\\')))
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
