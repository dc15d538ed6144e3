//! Each user's private calendar feed. Only a SHA-256 of the feed's secret is kept, so the
//! address is shown once; making a new one or revoking deletes the old.

use crate::{Db, Result, Tx, now};
use chrono::{DateTime, Utc};
use kith_domain::{TenantId, UserId};
use sea_query::{Expr, ExprTrait, Query};

/// Gives `user` a feed with the secret hashed as `token_hash`, replacing any earlier one.
pub async fn replace(tx: &mut Tx, tenant: TenantId, user: UserId, token_hash: &str) -> Result<()> {
    revoke(tx, tenant, user).await?;
    let insert = Query::insert()
        .into_table("calendar_feeds")
        .columns(["tenant_id", "user_id", "token_hash", "created_at"])
        .values_panic([
            tenant.0.into(),
            user.0.into(),
            token_hash.into(),
            now().into(),
        ])
        .to_owned();
    tx.execute(&insert).await?;
    Ok(())
}

/// Ends `user`'s feed: its address answers 404 from now on.
pub async fn revoke(tx: &mut Tx, tenant: TenantId, user: UserId) -> Result<()> {
    let delete = Query::delete()
        .from_table("calendar_feeds")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("user_id").eq(user.0))
        .to_owned();
    tx.execute(&delete).await?;
    Ok(())
}

/// When `user`'s current feed was made, if they have one.
pub async fn created_at(db: &Db, tenant: TenantId, user: UserId) -> Result<Option<DateTime<Utc>>> {
    let query = Query::select()
        .column("created_at")
        .from("calendar_feeds")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("user_id").eq(user.0))
        .to_owned();
    Ok(db
        .fetch_optional::<(DateTime<Utc>,), _>(&query)
        .await?
        .map(|(at,)| at))
}

/// Whose feed a secret's hash opens.
pub async fn owner_of(db: &Db, token_hash: &str) -> Result<Option<(TenantId, UserId)>> {
    let query = Query::select()
        .columns(["tenant_id", "user_id"])
        .from("calendar_feeds")
        .and_where(Expr::col("token_hash").eq(token_hash))
        .to_owned();
    Ok(db
        .fetch_optional::<(i64, i64), _>(&query)
        .await?
        .map(|(tenant, user)| (TenantId(tenant), UserId(user))))
}
