//! Pipeline stages: the board's columns, in the tenant's order.
//!
//! Won and lost come from each stage's flags, never from its name. A stage that holds deals is
//! deleted only by moving its deals elsewhere first, through the same stage change as any move.

use crate::{Db, Result, StoreError, Tx, deals, now};
use chrono::NaiveDate;
use kith_domain::pipeline::{StageFields, StageKind, StagePosition, check_open_stage_remains};
use kith_domain::search::fold;
use kith_domain::{Invalid, StageId, TenantId, UserId};
use sea_query::{Expr, ExprTrait, Order, Query, SelectStatement};

/// A stored stage.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Stage {
    pub id: i64,
    pub name: String,
    pub sort_order: i32,
    pub color: String,
    pub probability: i32,
    pub is_won: bool,
    pub is_lost: bool,
    pub version: i64,
}

impl Stage {
    pub fn kind(&self) -> StageKind {
        StageKind::from_flags(self.is_won, self.is_lost)
    }

    /// What a deal entering this stage takes from it.
    pub fn position(&self) -> StagePosition {
        StagePosition {
            stage_id: self.id,
            kind: self.kind(),
            probability: self.probability.clamp(0, 100) as u8,
        }
    }
}

const COLUMNS: [&str; 8] = [
    "id",
    "name",
    "sort_order",
    "color",
    "probability",
    "is_won",
    "is_lost",
    "version",
];

fn scoped(tenant: TenantId) -> SelectStatement {
    Query::select()
        .columns(COLUMNS)
        .from("stages")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .order_by("sort_order", Order::Asc)
        .order_by("id", Order::Asc)
        .to_owned()
}

/// The tenant's stages in board order.
pub async fn list(db: &Db, tenant: TenantId) -> Result<Vec<Stage>> {
    db.fetch_all(&scoped(tenant)).await
}

/// The tenant's stages in board order, inside a transaction.
pub async fn list_in(tx: &mut Tx, tenant: TenantId) -> Result<Vec<Stage>> {
    tx.fetch_all(&scoped(tenant)).await
}

/// One stage of `tenant`; another tenant's stage is [`StoreError::NotFound`].
pub async fn get(db: &Db, tenant: TenantId, id: StageId) -> Result<Stage> {
    let query = scoped(tenant)
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    db.fetch_optional(&query).await?.ok_or(StoreError::NotFound)
}

/// One stage of `tenant`, inside a transaction.
pub async fn get_in(tx: &mut Tx, tenant: TenantId, id: StageId) -> Result<Stage> {
    let query = scoped(tenant)
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    tx.fetch_optional(&query).await?.ok_or(StoreError::NotFound)
}

/// Gives a new tenant the default stages.
pub async fn create_defaults(tx: &mut Tx, tenant: TenantId) -> Result<()> {
    for (name, probability, is_won, is_lost, color) in kith_domain::pipeline::DEFAULT_STAGES {
        let fields = StageFields {
            name: name.to_owned(),
            color: color.to_owned(),
            probability,
            is_won,
            is_lost,
        };
        create(tx, tenant, &fields).await?;
    }
    Ok(())
}

/// Adds a stage at the end of the board.
pub async fn create(tx: &mut Tx, tenant: TenantId, fields: &StageFields) -> Result<StageId> {
    // Two stages added at once would both find the name free and take the same position.
    tx.serialize_tenant_writes(tenant).await?;
    let stages = list_in(tx, tenant).await?;
    check_name_is_free(&stages, &fields.name, None)?;

    let last = Query::select()
        .expr(Expr::cust("COALESCE(MAX(sort_order), 0)"))
        .from("stages")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .to_owned();
    let last: i32 = tx.scalar(&last).await?;

    let stamp = now();
    let insert = Query::insert()
        .into_table("stages")
        .columns([
            "tenant_id",
            "name",
            "sort_order",
            "color",
            "probability",
            "is_won",
            "is_lost",
            "created_at",
            "updated_at",
            "version",
        ])
        .values_panic([
            tenant.0.into(),
            fields.name.clone().into(),
            (last + 1).into(),
            fields.color.clone().into(),
            i32::from(fields.probability).into(),
            fields.is_won.into(),
            fields.is_lost.into(),
            stamp.into(),
            stamp.into(),
            1i64.into(),
        ])
        .returning_col("id")
        .to_owned();
    Ok(StageId(tx.scalar(&insert).await?))
}

/// Changes a stage's name, colour, probability or flags. Deals already in it keep their
/// probability and close date: a stage change applies when a deal enters a stage.
pub async fn update(
    tx: &mut Tx,
    tenant: TenantId,
    id: StageId,
    version: i64,
    fields: &StageFields,
) -> Result<i64> {
    tx.serialize_tenant_writes(tenant).await?;
    let stages = list_in(tx, tenant).await?;
    let current = stages
        .iter()
        .find(|s| s.id == id.0)
        .ok_or(StoreError::NotFound)?;
    if current.version != version {
        return Err(StoreError::Stale {
            current: current.version,
        });
    }
    let kinds = stages.iter().map(|s| {
        if s.id == id.0 {
            StageKind::from_flags(fields.is_won, fields.is_lost)
        } else {
            s.kind()
        }
    });
    let flag = if fields.is_lost { "is_lost" } else { "is_won" };
    check_open_stage_remains(kinds).map_err(|m| Invalid::one(flag, m))?;
    check_name_is_free(&stages, &fields.name, Some(id))?;

    // Won and lost decide deals' close dates as they enter a stage; turning a stage that holds
    // deals into another kind would leave them breaking that rule.
    let kind = StageKind::from_flags(fields.is_won, fields.is_lost);
    if kind != current.kind() {
        let held = deals::in_stage(tx, tenant, id).await?;
        if !held.is_empty() {
            return Err(Invalid::one(
                flag,
                format!(
                    "the stage holds {} deals; move them to another stage before making it {}",
                    held.len(),
                    match kind {
                        StageKind::Won => "a won stage",
                        StageKind::Lost => "a lost stage",
                        StageKind::Open => "an open stage",
                    }
                ),
            )
            .into());
        }
    }

    let update = Query::update()
        .table("stages")
        .value("name", fields.name.clone())
        .value("color", fields.color.clone())
        .value("probability", i32::from(fields.probability))
        .value("is_won", fields.is_won)
        .value("is_lost", fields.is_lost)
        .value("updated_at", now())
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .and_where(Expr::col("version").eq(version))
        .to_owned();
    if tx.execute(&update).await? == 0 {
        return Err(StoreError::Stale {
            current: version + 1,
        });
    }
    Ok(version + 1)
}

/// Puts the stages in the order given. `order` must name every stage of the tenant once;
/// only `sort_order` changes.
pub async fn reorder(tx: &mut Tx, tenant: TenantId, order: &[i64]) -> Result<()> {
    let stages = list_in(tx, tenant).await?;
    let mut given: Vec<i64> = order.to_vec();
    given.sort_unstable();
    let mut stored: Vec<i64> = stages.iter().map(|s| s.id).collect();
    stored.sort_unstable();
    if given != stored {
        return Err(Invalid::one("order", "must list every stage exactly once").into());
    }

    for (position, id) in order.iter().enumerate() {
        let update = Query::update()
            .table("stages")
            .value("sort_order", position as i32 + 1)
            .value("updated_at", now())
            .and_where(Expr::col("tenant_id").eq(tenant.0))
            .and_where(Expr::col("id").eq(*id))
            .to_owned();
        tx.execute(&update).await?;
    }
    Ok(())
}

/// Deletes a stage. One that holds deals is refused with the deals listed, unless `move_to`
/// names another stage: then its deals move there first, as any move would (probability,
/// close date, history). At least one open stage always remains.
pub async fn delete(
    tx: &mut Tx,
    tenant: TenantId,
    id: StageId,
    move_to: Option<StageId>,
    actor: Option<UserId>,
    today: NaiveDate,
) -> Result<()> {
    let stages = list_in(tx, tenant).await?;
    let deleted = stages
        .iter()
        .find(|s| s.id == id.0)
        .ok_or(StoreError::NotFound)?;
    let remaining = stages.iter().filter(|s| s.id != id.0).map(Stage::kind);
    check_open_stage_remains(remaining).map_err(|m| Invalid::one("stage", m))?;
    let target = match move_to {
        Some(target) => Some(move_target(&stages, deleted, target)?),
        None => None,
    };

    let held = deals::in_stage(tx, tenant, id).await?;
    if !held.is_empty() {
        let Some(target) = target else {
            return Err(StoreError::HoldsDeals(held));
        };
        for (deal, _) in &held {
            deals::change_stage(tx, tenant, kith_domain::DealId(*deal), target, actor, today)
                .await?;
        }
    }

    let delete = Query::delete()
        .from_table("stages")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    tx.execute(&delete).await?;

    // Close the gap, so positions stay 1, 2, 3… as the settings page numbers them.
    let order: Vec<i64> = stages.iter().map(|s| s.id).filter(|s| *s != id.0).collect();
    reorder(tx, tenant, &order).await
}

/// The stage a deleted stage's deals move to: another stage of the tenant, of the same kind,
/// so that deleting a stage never closes, reopens or flips a deal between won and lost.
fn move_target<'a>(stages: &'a [Stage], deleted: &Stage, target: StageId) -> Result<&'a Stage> {
    if target.0 == deleted.id {
        return Err(Invalid::one("move_to", "must be another stage").into());
    }
    let target = stages
        .iter()
        .find(|s| s.id == target.0)
        .ok_or_else(|| Invalid::one("move_to", "is not a stage of this workspace"))?;
    if target.kind() != deleted.kind() {
        let message = format!(
            "{} is {} and {} is {}: its deals may only move to another {} stage, so that \
             deleting a stage never closes or reopens a deal",
            target.name,
            kind_word(target.kind()),
            deleted.name,
            kind_word(deleted.kind()),
            kind_word(deleted.kind()),
        );
        return Err(Invalid::one("move_to", message).into());
    }
    Ok(target)
}

fn kind_word(kind: StageKind) -> &'static str {
    match kind {
        StageKind::Open => "open",
        StageKind::Won => "won",
        StageKind::Lost => "lost",
    }
}

/// Two stages of one name would make the board, imports and the API's stage names ambiguous;
/// names are compared without case, accents or surrounding space.
fn check_name_is_free(stages: &[Stage], name: &str, except: Option<StageId>) -> Result<()> {
    let wanted = fold(name.trim());
    let clash = stages
        .iter()
        .filter(|s| Some(StageId(s.id)) != except)
        .find(|s| fold(s.name.trim()) == wanted);
    match clash {
        Some(other) => {
            let message = format!("another stage is already called {}", other.name);
            Err(Invalid::one("name", message).into())
        }
        None => Ok(()),
    }
}
