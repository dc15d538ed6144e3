//! Users: the people who sign in to a tenant.

use crate::{Db, Result, StoreError, Tx, now};
use kith_domain::{Email, Invalid, Role, TenantId, UserId};
use sea_query::{Expr, ExprTrait, Order, Query};

/// A stored user, without the password hash.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub tenant_id: i64,
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub time_zone: String,
}

impl User {
    /// The user's role; an unknown stored value reads as the least powerful role.
    pub fn role(&self) -> Role {
        self.role.parse().unwrap_or(Role::Viewer)
    }
}

/// What is needed to create a user. The password arrives already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub time_zone: String,
}

const COLUMNS: [&str; 6] = ["tenant_id", "id", "email", "name", "role", "time_zone"];

/// Creates a user. Login emails are unique across all tenants, since sign-in starts from the
/// email alone.
pub async fn create(tx: &mut Tx, tenant: TenantId, user: &NewUser) -> Result<UserId> {
    let email_normalized = user.email.normalized();
    let taken = Query::select()
        .column("user_id")
        .from("login_emails")
        .and_where(Expr::col("email_normalized").eq(email_normalized.clone()))
        .to_owned();
    if tx.fetch_optional::<(i64,), _>(&taken).await?.is_some() {
        return Err(Invalid::one("email", "is already used by another user").into());
    }

    let stamp = now();
    let insert = Query::insert()
        .into_table("users")
        .columns([
            "tenant_id",
            "email",
            "email_normalized",
            "name",
            "password_hash",
            "role",
            "time_zone",
            "created_at",
            "updated_at",
        ])
        .values_panic([
            tenant.0.into(),
            user.email.as_str().into(),
            email_normalized.clone().into(),
            user.name.clone().into(),
            user.password_hash.clone().into(),
            user.role.as_str().into(),
            user.time_zone.clone().into(),
            stamp.into(),
            stamp.into(),
        ])
        .returning_col("id")
        .to_owned();
    let id: i64 = tx.scalar(&insert).await?;

    let directory = Query::insert()
        .into_table("login_emails")
        .columns(["email_normalized", "tenant_id", "user_id"])
        .values_panic([email_normalized.into(), tenant.0.into(), id.into()])
        .to_owned();
    tx.execute(&directory).await.map_err(|e| {
        if e.is_unique_violation() {
            Invalid::one("email", "is already used by another user").into()
        } else {
            e
        }
    })?;
    Ok(UserId(id))
}

/// Finds the user who signs in with `email`, with their password hash.
pub async fn find_for_login(db: &Db, email: &str) -> Result<Option<(User, String)>> {
    let query = Query::select()
        .columns(COLUMNS.map(|c| ("users", c)))
        .column(("users", "password_hash"))
        .from("login_emails")
        .inner_join(
            "users",
            Expr::col(("users", "tenant_id"))
                .equals(("login_emails", "tenant_id"))
                .and(Expr::col(("users", "id")).equals(("login_emails", "user_id"))),
        )
        .and_where(Expr::col(("login_emails", "email_normalized")).eq(email.trim().to_lowercase()))
        .to_owned();
    let row: Option<LoginRow> = db.fetch_optional(&query).await?;
    Ok(row.map(|r| {
        let user = User {
            tenant_id: r.tenant_id,
            id: r.id,
            email: r.email,
            name: r.name,
            role: r.role,
            time_zone: r.time_zone,
        };
        (user, r.password_hash)
    }))
}

#[derive(sqlx::FromRow)]
struct LoginRow {
    tenant_id: i64,
    id: i64,
    email: String,
    name: String,
    role: String,
    time_zone: String,
    password_hash: String,
}

pub async fn get(db: &Db, tenant: TenantId, id: UserId) -> Result<User> {
    let query = Query::select()
        .columns(COLUMNS)
        .from("users")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    db.fetch_optional(&query).await?.ok_or(StoreError::NotFound)
}

/// Finds a user of `tenant` by email.
pub async fn find_by_email(db: &Db, tenant: TenantId, email: &str) -> Result<Option<User>> {
    let query = Query::select()
        .columns(COLUMNS)
        .from("users")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("email_normalized").eq(email.trim().to_lowercase()))
        .to_owned();
    db.fetch_optional(&query).await
}

/// Every user of a tenant, by name.
pub async fn list(db: &Db, tenant: TenantId) -> Result<Vec<User>> {
    let query = Query::select()
        .columns(COLUMNS)
        .from("users")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .order_by("name", Order::Asc)
        .order_by("id", Order::Asc)
        .to_owned();
    db.fetch_all(&query).await
}

/// Whether `id` is a user of `tenant`.
pub async fn exists(tx: &mut Tx, tenant: TenantId, id: i64) -> Result<bool> {
    let query = Query::select()
        .column("id")
        .from("users")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id))
        .to_owned();
    Ok(tx.fetch_optional::<(i64,), _>(&query).await?.is_some())
}

/// How many users exist in all tenants; zero means first-run setup is open.
pub async fn count_all(db: &Db) -> Result<i64> {
    let query = Query::select()
        .expr(Expr::col("email_normalized").count())
        .from("login_emails")
        .to_owned();
    db.scalar(&query).await
}

/// Changes a user's display name and time zone.
pub async fn update_profile(
    db: &Db,
    tenant: TenantId,
    id: UserId,
    name: &str,
    time_zone: &str,
) -> Result<()> {
    let update = Query::update()
        .table("users")
        .value("name", name)
        .value("time_zone", time_zone)
        .value("updated_at", now())
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    match db.execute(&update).await? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// How many owners a tenant has.
async fn owner_count(tx: &mut Tx, tenant: TenantId) -> Result<i64> {
    let query = Query::select()
        .expr(Expr::col("id").count())
        .from("users")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("role").eq(Role::Owner.as_str()))
        .to_owned();
    tx.scalar(&query).await
}

async fn role_of(tx: &mut Tx, tenant: TenantId, id: UserId) -> Result<Role> {
    let query = Query::select()
        .column("role")
        .from("users")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    let (role,): (String,) = tx
        .fetch_optional(&query)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(role.parse().unwrap_or(Role::Viewer))
}

/// Changes a user's role. The last owner cannot stop being one: someone must be able to manage
/// the workspace.
pub async fn set_role(tx: &mut Tx, tenant: TenantId, id: UserId, role: Role) -> Result<()> {
    let current = role_of(tx, tenant, id).await?;
    if current == Role::Owner && role != Role::Owner && owner_count(tx, tenant).await? <= 1 {
        return Err(StoreError::InUse(
            "This is the workspace's only owner. Make someone else an owner first.".into(),
        ));
    }
    let update = Query::update()
        .table("users")
        .value("role", role.as_str())
        .value("updated_at", now())
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    tx.execute(&update).await?;
    Ok(())
}

/// Removes a user: their sessions and API tokens end with them, and the clients and contacts
/// they owned are left without an owner. The last owner cannot be removed.
pub async fn remove(tx: &mut Tx, tenant: TenantId, id: UserId) -> Result<()> {
    if role_of(tx, tenant, id).await? == Role::Owner && owner_count(tx, tenant).await? <= 1 {
        return Err(StoreError::InUse(
            "This is the workspace's only owner and cannot be removed.".into(),
        ));
    }
    // What they owned stays, with no owner.
    for table in ["clients", "contacts", "deals", "activities"] {
        let unown = Query::update()
            .table(table)
            .value("owner_id", Option::<i64>::None)
            .value("updated_at", now())
            .value("version", Expr::col("version").add(1))
            .and_where(Expr::col("tenant_id").eq(tenant.0))
            .and_where(Expr::col("owner_id").eq(id.0))
            .to_owned();
        tx.execute(&unown).await?;
    }
    // Who completed an activity is history, but the user is gone.
    let uncomplete = Query::update()
        .table("activities")
        .value("completed_by", Option::<i64>::None)
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("completed_by").eq(id.0))
        .to_owned();
    tx.execute(&uncomplete).await?;
    // Sessions, tokens, calendar feeds and the login directory entry go by ON DELETE CASCADE.
    let delete = Query::delete()
        .from_table("users")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    tx.execute(&delete).await?;
    Ok(())
}

/// The stored password hash of a user.
pub async fn password_hash(db: &Db, tenant: TenantId, id: UserId) -> Result<String> {
    let query = Query::select()
        .column("password_hash")
        .from("users")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    let (hash,): (String,) = db
        .fetch_optional(&query)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(hash)
}

/// Sets a new password hash and ends every session of the user except `keep` (the one that
/// made the change, if any).
pub async fn set_password(
    tx: &mut Tx,
    tenant: TenantId,
    id: UserId,
    hash: &str,
    keep: Option<&str>,
) -> Result<()> {
    let update = Query::update()
        .table("users")
        .value("password_hash", hash)
        .value("updated_at", now())
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    if tx.execute(&update).await? == 0 {
        return Err(StoreError::NotFound);
    }
    let mut end_sessions = Query::delete();
    end_sessions
        .from_table("sessions")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("user_id").eq(id.0));
    if let Some(keep) = keep {
        end_sessions.and_where(Expr::col("token_hash").ne(keep));
    }
    tx.execute(&end_sessions).await?;
    Ok(())
}
