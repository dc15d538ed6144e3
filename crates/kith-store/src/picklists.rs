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
        add_defaults(tx, tenant, kind).await?;
    }
    Ok(())
}

/// Fills one list with its default values.
pub async fn add_defaults(tx: &mut Tx, tenant: TenantId, kind: ListKind) -> Result<()> {
    for (position, label) in kind.defaults().iter().enumerate() {
        add(tx, tenant, kind, label, position as i32).await?;
    }
    Ok(())
}

/// Appends a value to a list.
pub async fn add(
    tx: &mut Tx,
    tenant: TenantId,
    kind: ListKind,
    label: &str,
    sort_order: i32,
) -> Result<i64> {
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
    Ok(into_lists(db.fetch_all(&load_query(tenant)).await?))
}

/// Loads all of a tenant's lists inside a transaction, seeing values it added.
pub async fn load_in(tx: &mut Tx, tenant: TenantId) -> Result<PickLists> {
    Ok(into_lists(tx.fetch_all(&load_query(tenant)).await?))
}

fn load_query(tenant: TenantId) -> sea_query::SelectStatement {
    Query::select()
        .columns(["id", "list", "label", "sort_order"])
        .from("list_values")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .order_by("list", Order::Asc)
        .order_by("sort_order", Order::Asc)
        .order_by("id", Order::Asc)
        .to_owned()
}

fn into_lists(rows: Vec<Row>) -> PickLists {
    let values = rows
        .into_iter()
        .filter_map(|r| {
            let kind = ListKind::parse(&r.list)?;
            Some(ListValue {
                id: r.id,
                kind,
                label: r.label,
                sort_order: r.sort_order,
            })
        })
        .collect();
    PickLists { values }
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

/// Renames a list value. Records keep pointing at it, so they show the new label.
pub async fn rename(tx: &mut Tx, tenant: TenantId, id: i64, label: &str) -> Result<()> {
    let kind = kind_of(tx, tenant, id).await?;
    let clash = Query::select()
        .column("id")
        .from("list_values")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("list").eq(kind))
        .and_where(Expr::col("label_folded").eq(fold(label)))
        .and_where(Expr::col("id").ne(id))
        .to_owned();
    if tx.fetch_optional::<(i64,), _>(&clash).await?.is_some() {
        return Err(kith_domain::Invalid::one(
            "label",
            format!("\"{}\" is already in this list", label.trim()),
        )
        .into());
    }
    let update = Query::update()
        .table("list_values")
        .value("label", label.trim())
        .value("label_folded", fold(label))
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    tx.execute(&update).await?;
    Ok(())
}

/// Removes a list value that no client or deal uses; one still in use is refused with the count.
pub async fn delete(tx: &mut Tx, tenant: TenantId, id: i64) -> Result<()> {
    let kind = kind_of(tx, tenant, id).await?;
    let (table, column, records) = match ListKind::parse(&kind) {
        Some(ListKind::ClientType) => ("clients", "type_id", "client(s)"),
        Some(ListKind::Lifecycle) => ("clients", "lifecycle_id", "client(s)"),
        Some(ListKind::DealSource) => ("deals", "source_id", "deal(s)"),
        Some(ListKind::ActivityType) => ("activities", "type_id", "activities"),
        _ => ("clients", "industry_id", "client(s)"),
    };
    let used = Query::select()
        .expr(Expr::col("id").count())
        .from(table)
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col(column).eq(id))
        .to_owned();
    let used: i64 = tx.scalar(&used).await?;
    if used > 0 {
        return Err(crate::StoreError::InUse(format!(
            "{used} {records} still use this value. Change them first, or rename the value instead."
        )));
    }
    let delete = Query::delete()
        .from_table("list_values")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    tx.execute(&delete).await?;
    Ok(())
}

async fn kind_of(tx: &mut Tx, tenant: TenantId, id: i64) -> Result<String> {
    let query = Query::select()
        .column("list")
        .from("list_values")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    tx.fetch_optional::<(String,), _>(&query)
        .await?
        .map(|(k,)| k)
        .ok_or(crate::StoreError::NotFound)
}
