//! Kith's storage layer.
//!
//! One query layer serves SQLite and PostgreSQL: statements are built with sea-query and run
//! through sqlx, so the same Rust code produces each backend's SQL. Only search, where a
//! backend's own index is the point (FTS5 trigrams on SQLite, `pg_trgm` on PostgreSQL), has
//! backend-specific SQL.
//!
//! Every function that touches tenant-owned rows takes a [`TenantId`](kith_domain::TenantId),
//! and every such query filters on it.

pub mod activities;
pub mod calendar_feeds;
pub mod clients;
pub mod contacts;
mod db;
pub mod deals;
mod error;
pub mod forecast;
pub mod migrations;
pub mod page;
pub mod picklists;
pub mod quotes;
pub mod search;
pub mod sessions;
pub mod stages;
pub mod tags;
pub mod tenants;
pub mod tokens;
pub mod users;

pub use db::{Backend, Db, Record, Tx, now};
pub use error::StoreError;

/// Shorthand for results of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
