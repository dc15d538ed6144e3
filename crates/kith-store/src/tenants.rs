//! Tenants: the MSPs that use Kith.

use crate::{Db, Record, Result, Tx, now};
use chrono::{DateTime, Utc};
use kith_domain::TenantId;
use kith_domain::picklist::ListKind;
use kith_domain::tenant::NewTenant;
use sea_query::{Expr, ExprTrait, Query};

/// A stored tenant.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Tenant {
    pub id: i64,
    pub name: String,
    pub currency: String,
    pub default_country: String,
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: [&str; 6] = [
    "id",
    "name",
    "currency",
    "default_country",
    "time_zone",
    "created_at",
];

/// Creates a tenant with the default pick lists. Names are unique, ignoring case and accents,
/// since the CLI picks workspaces by name.
pub async fn create(tx: &mut Tx, tenant: &NewTenant) -> Result<TenantId> {
    let names = Query::select().column("name").from("tenants").to_owned();
    let taken: Vec<(String,)> = tx.fetch_all(&names).await?;
    let wanted = kith_domain::search::fold(&tenant.name);
    if taken
        .iter()
        .any(|(name,)| kith_domain::search::fold(name) == wanted)
    {
        return Err(name_taken(&tenant.name));
    }

    let insert = Query::insert()
        .into_table("tenants")
        .columns([
            "name",
            "currency",
            "default_country",
            "time_zone",
            "created_at",
        ])
        .values_panic([
            tenant.name.clone().into(),
            tenant.currency.clone().into(),
            tenant.default_country.clone().into(),
            tenant.time_zone.clone().into(),
            now().into(),
        ])
        .returning_col("id")
        .to_owned();
    let id = TenantId(tx.scalar(&insert).await.map_err(|e| {
        if e.is_unique_violation() {
            name_taken(&tenant.name)
        } else {
            e
        }
    })?);

    crate::picklists::create_defaults(tx, id).await?;
    crate::stages::create_defaults(tx, id).await?;
    Ok(id)
}

/// Gives tenants created before a feature existed its defaults: pipeline stages, and pick lists
/// added since. Runs at every start and does nothing once every tenant has them.
pub async fn backfill_defaults(db: &Db) -> Result<()> {
    let has_stages = Query::select()
        .expr(Expr::val(1))
        .from("stages")
        .and_where(Expr::col(("stages", "tenant_id")).equals(("tenants", "id")))
        .to_owned();
    let without_stages = Query::select()
        .column("id")
        .from("tenants")
        .and_where(Expr::exists(has_stages).not())
        .to_owned();
    let tenants: Vec<(i64,)> = db.fetch_all(&without_stages).await?;
    for (tenant,) in tenants {
        let mut tx = db.begin().await?;
        let done = crate::stages::create_defaults(&mut tx, TenantId(tenant)).await;
        tx.finish(done).await?;
    }

    for kind in ListKind::ALL {
        let has_list = Query::select()
            .expr(Expr::val(1))
            .from("list_values")
            .and_where(Expr::col(("list_values", "tenant_id")).equals(("tenants", "id")))
            .and_where(Expr::col(("list_values", "list")).eq(kind.as_str()))
            .to_owned();
        let without_list = Query::select()
            .column("id")
            .from("tenants")
            .and_where(Expr::exists(has_list).not())
            .to_owned();
        let tenants: Vec<(i64,)> = db.fetch_all(&without_list).await?;
        for (tenant,) in tenants {
            let mut tx = db.begin().await?;
            let done = crate::picklists::add_defaults(&mut tx, TenantId(tenant), kind).await;
            tx.finish(done).await?;
        }
    }
    Ok(())
}

pub async fn get(db: &Db, id: TenantId) -> Result<Tenant> {
    let query = Query::select()
        .columns(COLUMNS)
        .from("tenants")
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    db.fetch_optional(&query)
        .await?
        .ok_or(crate::StoreError::NotFound)
}

pub async fn find_by_name(db: &Db, name: &str) -> Result<Option<Tenant>> {
    let query = Query::select()
        .columns(COLUMNS)
        .from("tenants")
        .and_where(Expr::col("name").eq(name.trim()))
        .order_by("id", sea_query::Order::Asc)
        .to_owned();
    first(db.fetch_all(&query).await?)
}

/// How many tenants exist; zero means Kith has not been set up yet.
pub async fn count(db: &Db) -> Result<i64> {
    let query = Query::select()
        .expr(Expr::col("id").count())
        .from("tenants")
        .to_owned();
    db.scalar(&query).await
}

fn first<T: Record>(rows: Vec<T>) -> Result<Option<T>> {
    Ok(rows.into_iter().next())
}

/// Every tenant, oldest first.
pub async fn list(db: &Db) -> Result<Vec<Tenant>> {
    let query = Query::select()
        .columns(COLUMNS)
        .from("tenants")
        .order_by("id", sea_query::Order::Asc)
        .to_owned();
    db.fetch_all(&query).await
}

fn name_taken(name: &str) -> crate::StoreError {
    kith_domain::Invalid::one(
        "name",
        format!("a workspace called \"{name}\" already exists"),
    )
    .into()
}

/// Marks first-run setup as done. A second setup, even a concurrent one, gets
/// [`crate::StoreError::InUse`].
pub async fn mark_set_up(tx: &mut Tx) -> Result<()> {
    let insert = Query::insert()
        .into_table("installation")
        .columns(["id", "set_up_at"])
        .values_panic([1i32.into(), now().into()])
        .to_owned();
    match tx.execute(&insert).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_unique_violation() => Err(crate::StoreError::InUse(
            "Kith is already set up. Sign in instead.".into(),
        )),
        Err(e) => Err(e),
    }
}
