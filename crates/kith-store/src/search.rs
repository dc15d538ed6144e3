//! The search condition: the one place with backend-specific SQL for finding records.

use crate::Backend;
use kith_domain::search::fold;
use sea_query::{Expr, ExprTrait, LikeExpr};

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

/// The shortest query the trigram indexes can answer; shorter ones scan.
const TRIGRAM: usize = 3;

/// A condition matching rows whose folded search text contains the folded `query`, or `None`
/// when the query is blank. `%`, `_` and `\` in the query match themselves.
pub fn condition(backend: Backend, table: Searchable, query: &str) -> Option<Expr> {
    if query.trim().is_empty() {
        return None;
    }
    let needle = fold(query);
    if needle.is_empty() {
        // Typed, but nothing searchable (only apostrophes, say): nothing matches.
        return Some(Expr::cust("1 = 0"));
    }
    let name = table.table();

    if backend == Backend::Sqlite && needle.chars().count() >= TRIGRAM {
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
    fn wildcards_are_escaped() {
        assert_eq!(escape_like(r"50%_\"), r"50\%\_\\");
    }
}
