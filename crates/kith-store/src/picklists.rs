//! Pick-list values per tenant.

use crate::{Db, Result, Tx};
use kith_domain::TenantId;
use kith_domain::picklist::{ListKind, ListValue, PickLists};
use kith_domain::search::fold;
use sea_query::{Expr, ExprTrait, Order, Query};

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    list: String,
    label: String,
    sort_order: i32,
}

/// Gives a new tenant the default lists.
pub async fn create_defaults(tx: &mut Tx, tenant: TenantId) -> Result<()> {
    for kind in ListKind::ALL {
        for (position, label) in kind.defaults().iter().enumerate() {
            add(tx, tenant, kind, label, position as i32).await?;
        }
    }
    Ok(())
}

/// Appends a value to a list.
pub async fn add(tx: &mut Tx, tenant: TenantId, kind: ListKind, label: &str, sort_order: i32) -> Result<i64> {
    let insert = Query::insert()
        .into_table("list_values")
        .columns(["tenant_id", "list", "label", "label_folded", "sort_order"])
        .values_panic([
            tenant.0.into(),
            kind.as_str().into(),
            label.trim().into(),
            fold(label).into(),
            sort_order.into(),
        ])
        .returning_col("id")
        .to_owned();
    tx.scalar(&insert).await
}

/// Loads all of a tenant's lists.
pub async fn load(db: &Db, tenant: TenantId) -> Result<PickLists> {
    let query = Query::select()
        .columns(["id", "list", "label", "sort_order"])
        .from("list_values")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .order_by("list", Order::Asc)
        .order_by("sort_order", Order::Asc)
        .order_by("id", Order::Asc)
        .to_owned();
    let rows: Vec<Row> = db.fetch_all(&query).await?;
    let values = rows
        .into_iter()
        .filter_map(|r| {
            let kind = ListKind::parse(&r.list)?;
            Some(ListValue { id: r.id, kind, label: r.label, sort_order: r.sort_order })
        })
        .collect();
    Ok(PickLists { values })
}

/// Adds a value to a list unless an equal one (ignoring case and accents) exists, and returns
/// its id either way. Used by importers that meet a new industry.
pub async fn ensure(tx: &mut Tx, tenant: TenantId, kind: ListKind, label: &str) -> Result<i64> {
    let existing = Query::select()
        .column("id")
        .from("list_values")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("list").eq(kind.as_str()))
        .and_where(Expr::col("label_folded").eq(fold(label)))
        .to_owned();
    if let Some((id,)) = tx.fetch_optional::<(i64,), _>(&existing).await? {
        return Ok(id);
    }
    let last = Query::select()
        .expr(Expr::col("sort_order").max())
        .from("list_values")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("list").eq(kind.as_str()))
        .to_owned();
    let last: Option<i32> = tx.scalar(&last).await?;
    add(tx, tenant, kind, label, last.map_or(0, |n| n + 1)).await
}
