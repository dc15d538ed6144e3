//! Signed-in sessions, stored in the database so several app instances can share them.

use crate::{Db, Result, now};
use chrono::{DateTime, Utc};
use kith_domain::{TenantId, UserId};
use sea_query::{Expr, ExprTrait, Query};

/// A stored session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub user_id: i64,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn create(
    db: &Db,
    tenant: TenantId,
    user: UserId,
    token_hash: &str,
    csrf_token: &str,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    let insert = Query::insert()
        .into_table("sessions")
        .columns([
            "tenant_id",
            "token_hash",
            "user_id",
            "csrf_token",
            "created_at",
            "expires_at",
        ])
        .values_panic([
            tenant.0.into(),
            token_hash.into(),
            user.0.into(),
            csrf_token.into(),
            now().into(),
            expires_at.into(),
        ])
        .to_owned();
    db.execute(&insert).await?;
    Ok(())
}

/// The unexpired session with this token hash.
pub async fn find(db: &Db, tenant: TenantId, token_hash: &str) -> Result<Option<Session>> {
    let query = Query::select()
        .columns(["user_id", "csrf_token", "expires_at"])
        .from("sessions")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("token_hash").eq(token_hash))
        .and_where(Expr::col("expires_at").gt(now()))
        .to_owned();
    db.fetch_optional(&query).await
}

pub async fn delete(db: &Db, tenant: TenantId, token_hash: &str) -> Result<()> {
    let delete = Query::delete()
        .from_table("sessions")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("token_hash").eq(token_hash))
        .to_owned();
    db.execute(&delete).await?;
    Ok(())
}

/// Removes sessions that have expired, in every tenant. Returns how many went.
pub async fn delete_expired(db: &Db) -> Result<u64> {
    let delete = Query::delete()
        .from_table("sessions")
        .and_where(Expr::col("expires_at").lte(now()))
        .to_owned();
    db.execute(&delete).await
}
