//! Tags, shared by clients and contacts of one tenant.

use crate::{Db, Result, Tx};
use kith_domain::TenantId;
use kith_domain::search::fold;
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};
use std::collections::HashMap;

/// Which kind of record a tag is attached to.
#[derive(Debug, Clone, Copy)]
pub enum Tagged {
    Client,
    Contact,
}

impl Tagged {
    fn table(self) -> &'static str {
        match self {
            Tagged::Client => "client_tags",
            Tagged::Contact => "contact_tags",
        }
    }

    fn column(self) -> &'static str {
        match self {
            Tagged::Client => "client_id",
            Tagged::Contact => "contact_id",
        }
    }
}

/// The id of each tag name, creating the tags that do not exist yet.
pub async fn ensure(tx: &mut Tx, tenant: TenantId, names: &[String]) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(names.len());
    for name in names {
        // Two requests may add the same new tag at once: insert if missing, then read.
        let insert = Query::insert()
            .into_table("tags")
            .columns(["tenant_id", "name", "name_folded"])
            .values_panic([tenant.0.into(), name.clone().into(), fold(name).into()])
            .on_conflict(
                OnConflict::columns(["tenant_id", "name_folded"])
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        tx.execute(&insert).await?;
        let find = Query::select()
            .column("id")
            .from("tags")
            .and_where(Expr::col("tenant_id").eq(tenant.0))
            .and_where(Expr::col("name_folded").eq(fold(name)))
            .to_owned();
        ids.push(tx.scalar(&find).await?);
    }
    Ok(ids)
}

/// Replaces the tags of one record.
pub async fn set(
    tx: &mut Tx,
    tenant: TenantId,
    kind: Tagged,
    record: i64,
    names: &[String],
) -> Result<()> {
    let ids = ensure(tx, tenant, names).await?;
    let clear = Query::delete()
        .from_table(kind.table())
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col(kind.column()).eq(record))
        .to_owned();
    tx.execute(&clear).await?;

    if ids.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert
        .into_table(kind.table())
        .columns(["tenant_id", kind.column(), "tag_id"]);
    for id in ids {
        insert.values_panic([tenant.0.into(), record.into(), id.into()]);
    }
    tx.execute(&insert).await?;
    Ok(())
}

/// The tag names of each of `records`, in alphabetical order.
pub async fn of(
    db: &Db,
    tenant: TenantId,
    kind: Tagged,
    records: &[i64],
) -> Result<HashMap<i64, Vec<String>>> {
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    if records.is_empty() {
        return Ok(tags);
    }
    let query = Query::select()
        .column((kind.table(), kind.column()))
        .column(("tags", "name"))
        .from(kind.table())
        .inner_join(
            "tags",
            Expr::col(("tags", "tenant_id"))
                .equals((kind.table(), "tenant_id"))
                .and(Expr::col(("tags", "id")).equals((kind.table(), "tag_id"))),
        )
        .and_where(Expr::col((kind.table(), "tenant_id")).eq(tenant.0))
        .and_where(Expr::col((kind.table(), kind.column())).is_in(records.iter().copied()))
        .order_by(("tags", "name_folded"), Order::Asc)
        .to_owned();
    let rows: Vec<(i64, String)> = db.fetch_all(&query).await?;
    for (record, name) in rows {
        tags.entry(record).or_default().push(name);
    }
    Ok(tags)
}

/// Every tag name of the tenant, for filter menus.
pub async fn all(db: &Db, tenant: TenantId) -> Result<Vec<(i64, String)>> {
    let query = Query::select()
        .columns(["id", "name"])
        .from("tags")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .order_by("name_folded", Order::Asc)
        .to_owned();
    db.fetch_all(&query).await
}

/// Resolves tag names typed in a filter to ids; unknown names resolve to nothing.
pub async fn find(db: &Db, tenant: TenantId, names: &[String]) -> Result<Vec<i64>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let folded: Vec<String> = names.iter().map(|n| fold(n)).collect();
    let query = Query::select()
        .column("id")
        .from("tags")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("name_folded").is_in(folded))
        .to_owned();
    let rows: Vec<(i64,)> = db.fetch_all(&query).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
