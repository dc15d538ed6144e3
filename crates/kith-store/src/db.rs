//! Connections and the statement runner shared by both backends.

use crate::Result;
use chrono::{DateTime, SubsecRound, Utc};
use kith_domain::TenantId;
use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
use sea_query_sqlx::SqlxBinder;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, FromRow, Postgres, Sqlite};
use std::str::FromStr;
use std::time::Duration;

/// Which database engine is behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A pool of connections to Kith's database.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open transaction. Dropped without [`Tx::commit`], it rolls back.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

/// A row type that both backends can decode.
pub trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}
impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin
{
}

/// The current time, cut to microseconds so that it reads back from either backend unchanged.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// How long a writer waits for SQLite's lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

impl Db {
    /// Connects to `url`: `sqlite://PATH` (created when missing) or `postgres://…`.
    ///
    /// SQLite runs in WAL mode with a busy timeout and foreign keys on, so readers never block
    /// the writer and a short write burst waits instead of failing.
    pub async fn connect(url: &str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            Self::connect_postgres(options).await
        } else {
            let options = SqliteConnectOptions::from_str(url)?;
            Self::connect_sqlite(options).await
        }
    }

    pub async fn connect_postgres(options: PgConnectOptions) -> Result<Self> {
        // Statements are prepared once per connection, and after five runs PostgreSQL may keep
        // one generic plan for them. A search's best plan depends on its term: a common one
        // is found fastest by reading the table until enough match, a rare one through the
        // trigram index. The generic plan always took the index (136 ms instead of 7 for a
        // third of two million activities), so every statement is planned for its values.
        let options = options.options([("plan_cache_mode", "force_custom_plan")]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Db::Postgres(pool))
    }

    pub async fn connect_sqlite(options: SqliteConnectOptions) -> Result<Self> {
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("cache_size", "-65536");
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite(pool))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Starts a transaction. SQLite's is `BEGIN IMMEDIATE`, so two writers queue on the busy
    /// timeout instead of one failing half-way when it upgrades its read lock.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Whether the database answers; used by `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        match self {
            Db::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await?,
            Db::Postgres(pool) => {
                sqlx::query("SELECT 1").execute(pool).await?;
                return Ok(());
            }
        };
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    /// Commits when `result` is Ok and passes it on; otherwise rolls back (by dropping the
    /// transaction) and passes the error on.
    pub async fn finish<T>(self, result: Result<T>) -> Result<T> {
        let value = result?;
        self.commit().await?;
        Ok(value)
    }

    pub fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }
}

/// A borrowed connection of either backend: the one place where statements are built and run.
enum Conn<'a> {
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
}

/// Binds and runs `$stmt` on `$conn` with the sqlx call `$call`, building the SQL for the
/// connection's own backend.
macro_rules! run {
    ($conn:expr, $stmt:expr, $make:ident, $call:ident) => {
        match $conn {
            Conn::Sqlite(c) => {
                let (sql, values) = $stmt.build_sqlx(SqliteQueryBuilder);
                sqlx::$make::<Sqlite, _, _>(AssertSqlSafe(sql), values)
                    .$call(&mut *c)
                    .await?
            }
            Conn::Postgres(c) => {
                let (sql, values) = $stmt.build_sqlx(PostgresQueryBuilder);
                sqlx::$make::<Postgres, _, _>(AssertSqlSafe(sql), values)
                    .$call(&mut *c)
                    .await?
            }
        }
    };
}

impl Conn<'_> {
    async fn fetch_all<T: Record, S: SqlxBinder>(self, stmt: &S) -> Result<Vec<T>> {
        Ok(run!(self, stmt, query_as_with, fetch_all))
    }

    async fn fetch_optional<T: Record, S: SqlxBinder>(self, stmt: &S) -> Result<Option<T>> {
        Ok(run!(self, stmt, query_as_with, fetch_optional))
    }

    async fn scalar<T: Scalar, S: SqlxBinder>(self, stmt: &S) -> Result<T> {
        Ok(run!(self, stmt, query_scalar_with, fetch_one))
    }

    async fn execute<S: SqlxBinder>(self, stmt: &S) -> Result<u64> {
        let rows = match self {
            Conn::Sqlite(c) => {
                let (sql, values) = stmt.build_sqlx(SqliteQueryBuilder);
                sqlx::query_with(AssertSqlSafe(sql), values)
                    .execute(&mut *c)
                    .await?
                    .rows_affected()
            }
            Conn::Postgres(c) => {
                let (sql, values) = stmt.build_sqlx(PostgresQueryBuilder);
                sqlx::query_with(AssertSqlSafe(sql), values)
                    .execute(&mut *c)
                    .await?
                    .rows_affected()
            }
        };
        Ok(rows)
    }
}

/// A single value both backends can decode, such as a count or an id.
pub trait Scalar:
    for<'r> sqlx::Decode<'r, Sqlite>
    + sqlx::Type<Sqlite>
    + for<'r> sqlx::Decode<'r, Postgres>
    + sqlx::Type<Postgres>
    + Send
    + Unpin
{
}
impl<T> Scalar for T where
    T: for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Sqlite>
        + for<'r> sqlx::Decode<'r, Postgres>
        + sqlx::Type<Postgres>
        + Send
        + Unpin
{
}

/// Stamps the statement runner onto [`Db`] (one pooled connection per statement) and [`Tx`]
/// (inside the transaction), so both read the same way at call sites.
macro_rules! runner_methods {
    ($recv:ty, $conn:ident, $get:expr) => {
        /// Runs a query and decodes every row.
        pub async fn fetch_all<T: Record, S: SqlxBinder>(self: $recv, stmt: &S) -> Result<Vec<T>> {
            let $conn = self;
            $get.fetch_all(stmt).await
        }

        /// Runs a query and decodes its first row, if any.
        pub async fn fetch_optional<T: Record, S: SqlxBinder>(
            self: $recv,
            stmt: &S,
        ) -> Result<Option<T>> {
            let $conn = self;
            $get.fetch_optional(stmt).await
        }

        /// Runs a query that yields one value, such as `COUNT(*)` or `RETURNING id`.
        pub async fn scalar<T: Scalar, S: SqlxBinder>(self: $recv, stmt: &S) -> Result<T> {
            let $conn = self;
            $get.scalar(stmt).await
        }

        /// Runs a statement and returns how many rows it changed.
        pub async fn execute<S: SqlxBinder>(self: $recv, stmt: &S) -> Result<u64> {
            let $conn = self;
            $get.execute(stmt).await
        }
    };
}

/// A connection taken from the pool for one statement.
enum Pooled {
    Sqlite(sqlx::pool::PoolConnection<Sqlite>),
    Postgres(sqlx::pool::PoolConnection<Postgres>),
}

impl Pooled {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Sqlite(c) => Conn::Sqlite(&mut *c),
            Pooled::Postgres(c) => Conn::Postgres(&mut *c),
        }
    }
}

impl Db {
    async fn acquire(&self) -> Result<Pooled> {
        Ok(match self {
            Db::Sqlite(pool) => Pooled::Sqlite(pool.acquire().await?),
            Db::Postgres(pool) => Pooled::Postgres(pool.acquire().await?),
        })
    }

    runner_methods!(&Self, db, db.acquire().await?.conn());

    /// Runs SQL text that takes no parameters (schema set-up, backend-specific maintenance).
    pub async fn execute_script(&self, sql: &str) -> Result<()> {
        match self {
            Db::Sqlite(pool) => {
                sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                    .execute(pool)
                    .await?
            }
            Db::Postgres(pool) => {
                sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
                    .execute(pool)
                    .await?;
                return Ok(());
            }
        };
        Ok(())
    }
}

impl Tx {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(tx) => Conn::Sqlite(&mut *tx),
            Tx::Postgres(tx) => Conn::Postgres(&mut *tx),
        }
    }

    runner_methods!(&mut Self, tx, tx.conn());

    /// Makes the tenant's other writers of one kind (quote numbers, stage names and positions)
    /// wait for this transaction, where they would otherwise read the same "next" value. On
    /// PostgreSQL it locks the tenant's row until commit; SQLite already has a single writer.
    pub(crate) async fn serialize_tenant_writes(&mut self, tenant: TenantId) -> Result<()> {
        if let Tx::Postgres(tx) = self {
            sqlx::query("SELECT id FROM tenants WHERE id = $1 FOR UPDATE")
                .bind(tenant.0)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Runs fixed SQL text that takes no parameters, such as `SAVEPOINT name`.
    pub(crate) async fn execute_fixed(&mut self, sql: &'static str) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => {
                sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut **tx).await?;
            }
            Tx::Postgres(tx) => {
                sqlx::raw_sql(AssertSqlSafe(sql)).execute(&mut **tx).await?;
            }
        }
        Ok(())
    }
}
