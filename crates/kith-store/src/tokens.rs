//! Per-user API tokens. Only a SHA-256 of each token is stored; the token itself is shown once.

use crate::{Db, Result, StoreError, now};
use chrono::{DateTime, Utc};
use kith_domain::{TenantId, UserId};
use sea_query::{Expr, ExprTrait, Order, Query};

/// A stored token, without its hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub read_only: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: [&str; 7] = [
    "id",
    "user_id",
    "name",
    "read_only",
    "expires_at",
    "last_used_at",
    "created_at",
];

pub async fn create(
    db: &Db,
    tenant: TenantId,
    user: UserId,
    name: &str,
    token_hash: &str,
    read_only: bool,
    expires_at: Option<DateTime<Utc>>,
) -> Result<i64> {
    let insert = Query::insert()
        .into_table("api_tokens")
        .columns([
            "tenant_id",
            "user_id",
            "name",
            "token_hash",
            "read_only",
            "expires_at",
            "created_at",
        ])
        .values_panic([
            tenant.0.into(),
            user.0.into(),
            name.into(),
            token_hash.into(),
            read_only.into(),
            expires_at.into(),
            now().into(),
        ])
        .returning_col("id")
        .to_owned();
    db.scalar(&insert).await
}

/// The unexpired token with this hash, and records that it was used.
pub async fn authenticate(db: &Db, tenant: TenantId, token_hash: &str) -> Result<Option<ApiToken>> {
    let query = Query::select()
        .columns(COLUMNS)
        .from("api_tokens")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("token_hash").eq(token_hash))
        .to_owned();
    let Some(token) = db.fetch_optional::<ApiToken, _>(&query).await? else {
        return Ok(None);
    };
    if token.expires_at.is_some_and(|at| at <= now()) {
        return Ok(None);
    }

    // Recording every use would turn each API read into a write; a minute's precision is
    // plenty for "last used".
    let recently = token
        .last_used_at
        .is_some_and(|at| now() - at < chrono::Duration::seconds(60));
    if recently {
        return Ok(Some(token));
    }
    let touch = Query::update()
        .table("api_tokens")
        .value("last_used_at", now())
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(token.id))
        .to_owned();
    db.execute(&touch).await?;
    Ok(Some(token))
}

/// A user's tokens, newest first.
pub async fn list(db: &Db, tenant: TenantId, user: UserId) -> Result<Vec<ApiToken>> {
    let query = Query::select()
        .columns(COLUMNS)
        .from("api_tokens")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("user_id").eq(user.0))
        .order_by("created_at", Order::Desc)
        .order_by("id", Order::Desc)
        .to_owned();
    db.fetch_all(&query).await
}

/// Revokes one of a user's tokens.
pub async fn delete(db: &Db, tenant: TenantId, user: UserId, id: i64) -> Result<()> {
    let delete = Query::delete()
        .from_table("api_tokens")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("user_id").eq(user.0))
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    match db.execute(&delete).await? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}
