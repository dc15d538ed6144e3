//! Settings → Stages: the pipeline's columns, their order, and deleting one that holds deals.
//!
//! Everyone signed in may look; only owners and admins may change stages. Every change goes
//! through the same store functions as `/api/v1/stages`, so the rules (one open stage remains,
//! deals move with the usual side effects) hold on both paths.

use super::{Errors, render, render_with, see_other};
use crate::AppState;
use crate::auth::{CurrentUser, Identity};
use crate::error::PageError;
use crate::params::Params;
use crate::views::Layout;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use kith_domain::pipeline::{StageFields, StageInput, StageKind, today_in};
use kith_domain::{FieldError, Invalid, StageId};
use kith_store::deals::{self, DealFilter};
use kith_store::stages::{self, Stage};
use kith_store::{Db, StoreError, Tx};
use std::collections::HashMap;

/// Where every form of the page goes back to.
const PAGE: &str = "/settings/stages";

/// How many of a stage's deals a refusal names before it only counts the rest.
const DEALS_NAMED: usize = 10;

#[derive(Template)]
#[template(path = "settings/stages.html")]
struct StagesPage {
    layout: Layout,
    rows: Vec<StageRow>,
    /// The problems of the last post, each a sentence naming its field.
    problems: Vec<String>,
    errors: Errors,
    /// What the "Add a stage" form shows: blank, or what was typed when adding failed.
    new_stage: Draft,
    /// Whether the problems belong to the "Add a stage" form.
    adding: bool,
}

/// One stage as the table shows it, with the values of its edit form.
struct StageRow {
    id: i64,
    name: String,
    color: String,
    probability: i32,
    kind: &'static str,
    version: i64,
    deals: i64,
    first: bool,
    last: bool,
    /// What the edit form shows: the stage, or what was typed when saving it failed.
    draft: Draft,
    /// The form the last post's problems belong to, opened so the user can fix them there.
    edit_open: bool,
    delete_open: bool,
}

impl StagesPage {
    /// The stages a stage's deals can move to: every other one.
    /// Where a stage's deals may go when it is deleted: the other stages of its kind, so that
    /// a deletion never closes or reopens a deal.
    fn targets(&self, id: &i64) -> Vec<&StageRow> {
        let kind = self.rows.iter().find(|r| r.id == *id).map(|r| r.kind);
        self.rows
            .iter()
            .filter(|r| r.id != *id && Some(r.kind) == kind)
            .collect()
    }

    fn kinds(&self) -> [(&'static str, &'static str); 3] {
        [("open", "Open"), ("won", "Won"), ("lost", "Lost")]
    }
}

/// A stage's fields as the forms send them, before any checks.
#[derive(Debug, Clone)]
struct Draft {
    name: String,
    color: String,
    probability: String,
    /// `open`, `won` or `lost`.
    kind: String,
}

impl Default for Draft {
    fn default() -> Self {
        Self {
            name: String::new(),
            color: kith_domain::pipeline::DEFAULT_COLOR.to_owned(),
            probability: String::new(),
            kind: "open".to_owned(),
        }
    }
}

impl Draft {
    fn read(form: &Params) -> Self {
        Self {
            name: form.raw("name").unwrap_or_default().to_owned(),
            color: form.raw("color").unwrap_or_default().to_owned(),
            probability: form.raw("probability").unwrap_or_default().to_owned(),
            kind: form.get("kind").unwrap_or("open").to_owned(),
        }
    }

    fn of(stage: &Stage) -> Self {
        Self {
            name: stage.name.clone(),
            color: stage.color.clone(),
            probability: stage.probability.to_string(),
            kind: kind_value(stage.kind()),
        }
    }

    /// Checks every field, with the same parser as the API.
    fn fields(&self) -> Result<StageFields, Invalid> {
        let (is_won, is_lost, kind_error) = match self.kind.as_str() {
            "open" => (false, false, None),
            "won" => (true, false, None),
            "lost" => (false, true, None),
            _ => (false, false, Some("must be Open, Won or Lost")),
        };
        let input = StageInput {
            name: self.name.clone(),
            color: Some(self.color.clone()),
            probability: Some(self.probability.clone()),
            is_won,
            is_lost,
        };
        let parsed = StageFields::parse(&input);
        match (parsed, kind_error) {
            (Ok(fields), None) => Ok(fields),
            (Ok(_), Some(message)) => Err(Invalid::one("kind", message)),
            (Err(invalid), None) => Err(invalid),
            (Err(mut invalid), Some(message)) => {
                invalid.0.push(FieldError::new("kind", message));
                Err(invalid)
            }
        }
    }
}

fn kind_value(kind: StageKind) -> String {
    match kind {
        StageKind::Open => "open",
        StageKind::Won => "won",
        StageKind::Lost => "lost",
    }
    .to_owned()
}

fn kind_label(kind: StageKind) -> &'static str {
    match kind {
        StageKind::Open => "Open",
        StageKind::Won => "Won",
        StageKind::Lost => "Lost",
    }
}

/// Which form a failed post came from, so the page can open it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Create,
    Edit(i64),
    Move,
    Delete(i64),
}

/// A post that failed: where it came from, what was typed (kept when the input was at fault)
/// and what was wrong.
struct Failure {
    origin: Origin,
    draft: Option<Draft>,
    errors: Invalid,
}

async fn deal_counts(db: &Db, me: &Identity) -> Result<HashMap<i64, i64>, StoreError> {
    let mut counts = HashMap::new();
    for (stage, _currency, count, _value, _weighted) in
        deals::stage_totals(db, me.tenant(), &DealFilter::default()).await?
    {
        *counts.entry(stage).or_insert(0) += count;
    }
    Ok(counts)
}

async fn page(
    state: &AppState,
    me: &Identity,
    failure: Option<Failure>,
) -> Result<StagesPage, PageError> {
    let stages = stages::list(&state.db, me.tenant()).await?;
    let counts = deal_counts(&state.db, me).await?;
    let origin = failure.as_ref().map(|f| f.origin);
    let mut typed = failure.as_ref().and_then(|f| f.draft.clone());

    let last = stages.len().saturating_sub(1);
    let rows = stages
        .iter()
        .enumerate()
        .map(|(at, stage)| {
            let edit_open = origin == Some(Origin::Edit(stage.id));
            let draft = match typed.take_if(|_| edit_open) {
                Some(draft) => draft,
                None => Draft::of(stage),
            };
            StageRow {
                id: stage.id,
                name: stage.name.clone(),
                color: stage.color.clone(),
                probability: stage.probability,
                kind: kind_label(stage.kind()),
                version: stage.version,
                deals: counts.get(&stage.id).copied().unwrap_or_default(),
                first: at == 0,
                last: at == last,
                draft,
                edit_open,
                delete_open: origin == Some(Origin::Delete(stage.id)),
            }
        })
        .collect();

    let adding = origin == Some(Origin::Create);
    let new_stage = match typed {
        Some(draft) if adding => draft,
        _ => Draft::default(),
    };
    let (problems, errors) = match failure {
        Some(failure) => (
            failure
                .errors
                .0
                .iter()
                .map(|e| sentence(&e.field, &e.message))
                .collect(),
            failure.errors.into(),
        ),
        None => (Vec::new(), Errors::default()),
    };
    Ok(StagesPage {
        layout: Layout::new(me, "settings"),
        rows,
        problems,
        errors,
        new_stage,
        adding,
    })
}

/// A field's problem as a sentence that names the field, e.g. "Probability must be a whole
/// number from 0 to 100". Messages that are already sentences are shown as they are.
fn sentence(field: &str, message: &str) -> String {
    if message.starts_with(|c: char| c.is_uppercase()) {
        return message.to_owned();
    }
    let label = match field {
        "name" => "Name",
        "color" => "Colour",
        "probability" => "Probability",
        "kind" => "Kind",
        "move_to" => "The stage to move the deals to",
        "order" => "The new order",
        // The rules across stages ("at least one open stage must remain") read on their own.
        _ => {
            let mut chars = message.chars();
            return match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            };
        }
    };
    if ["is ", "must ", "cannot "]
        .iter()
        .any(|verb| message.starts_with(verb))
    {
        format!("{label} {message}")
    } else {
        format!("{label}: {message}")
    }
}

/// The refusal to delete a stage that holds deals, naming them.
fn holds_deals(deals: &[(i64, String)]) -> String {
    let mut named = deals
        .iter()
        .take(DEALS_NAMED)
        .map(|(_, title)| title.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if deals.len() > DEALS_NAMED {
        named = format!("{named} and {} more", deals.len() - DEALS_NAMED);
    }
    match deals.len() {
        1 => format!("This stage holds 1 deal: {named}. Choose a stage to move it to."),
        n => format!("This stage holds {n} deals: {named}. Choose a stage to move them to."),
    }
}

/// Goes back to the page after a change, or shows it again with what went wrong.
async fn finish(
    state: &AppState,
    me: &Identity,
    origin: Origin,
    draft: Option<Draft>,
    result: Result<(), StoreError>,
) -> Result<Response, PageError> {
    let (status, errors, draft) = match result {
        Ok(()) => return Ok(see_other(PAGE)),
        Err(StoreError::Invalid(invalid)) => (StatusCode::UNPROCESSABLE_ENTITY, invalid, draft),
        // The form shows the stage as saved now; what this user typed is not kept over it.
        Err(StoreError::Stale { .. }) => (
            StatusCode::CONFLICT,
            Invalid::one(
                "version",
                "Someone else changed this stage while you were editing it. The table shows it \
                 as saved now; nothing of yours was saved.",
            ),
            None,
        ),
        Err(StoreError::HoldsDeals(deals)) => (
            StatusCode::CONFLICT,
            Invalid::one("move_to", holds_deals(&deals)),
            None,
        ),
        Err(other) => return Err(other.into()),
    };
    let failure = Failure {
        origin,
        draft,
        errors,
    };
    render_with(status, &page(state, me, Some(failure)).await?)
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> Result<Response, PageError> {
    render(&page(&state, &me, None).await?)
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    body: Bytes,
) -> Result<Response, PageError> {
    me.may_administer().map_err(PageError::Forbidden)?;
    let draft = Draft::read(&Params::parse(&body));

    let result = match draft.fields() {
        Ok(fields) => {
            let mut tx = state.db.begin().await?;
            let created = stages::create(&mut tx, me.tenant(), &fields).await;
            tx.finish(created).await.map(|id| {
                tracing::info!(tenant_id = me.tenant().0, stage_id = id.0, "stage added");
            })
        }
        Err(invalid) => Err(invalid.into()),
    };
    finish(&state, &me, Origin::Create, Some(draft), result).await
}

pub async fn update(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    me.may_administer().map_err(PageError::Forbidden)?;
    // Another tenant's stage is a 404 before anything is checked.
    let stage = stages::get(&state.db, me.tenant(), StageId(id)).await?;
    let form = Params::parse(&body);
    let draft = Draft::read(&form);
    // A missing version can match no stage, so it is refused as stale.
    let version = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);

    let result = match draft.fields() {
        Ok(fields) => {
            let mut tx = state.db.begin().await?;
            let saved = stages::update(&mut tx, me.tenant(), StageId(stage.id), version, &fields)
                .await
                .map(|_| ());
            tx.finish(saved).await
        }
        Err(invalid) => Err(invalid.into()),
    };
    finish(&state, &me, Origin::Edit(stage.id), Some(draft), result).await
}

pub async fn move_stage(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    me.may_administer().map_err(PageError::Forbidden)?;
    let stage = stages::get(&state.db, me.tenant(), StageId(id)).await?;
    let up = match Params::parse(&body).get("direction") {
        Some("up") => true,
        Some("down") => false,
        _ => {
            return Err(PageError::BadRequest(
                "Choose whether to move the stage up or down.".into(),
            ));
        }
    };

    let mut tx = state.db.begin().await?;
    let moved = move_one_step(&mut tx, &me, stage.id, up).await;
    let result = tx.finish(moved).await;
    finish(&state, &me, Origin::Move, None, result).await
}

/// Swaps a stage with its neighbour above or below; at either end nothing changes.
async fn move_one_step(tx: &mut Tx, me: &Identity, id: i64, up: bool) -> Result<(), StoreError> {
    let order: Vec<i64> = stages::list_in(tx, me.tenant())
        .await?
        .iter()
        .map(|s| s.id)
        .collect();
    match one_step(&order, id, up) {
        Some(order) => stages::reorder(tx, me.tenant(), &order).await,
        None => Ok(()),
    }
}

/// `order` with `id` moved one place up or down, or `None` when it cannot move that way.
fn one_step(order: &[i64], id: i64, up: bool) -> Option<Vec<i64>> {
    let at = order.iter().position(|s| *s == id)?;
    let to = if up { at.checked_sub(1)? } else { at + 1 };
    if to >= order.len() {
        return None;
    }
    let mut moved = order.to_vec();
    moved.swap(at, to);
    Some(moved)
}

pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    me.may_administer().map_err(PageError::Forbidden)?;
    let stage = stages::get(&state.db, me.tenant(), StageId(id)).await?;
    let origin = Origin::Delete(stage.id);
    let move_to = match Params::parse(&body).id("move_to") {
        Ok(move_to) => move_to.map(StageId),
        Err(message) => {
            let invalid = Invalid::one("move_to", message);
            return finish(&state, &me, origin, None, Err(invalid.into())).await;
        }
    };
    let today = today_in(&me.user.time_zone, Utc::now());

    let mut tx = state.db.begin().await?;
    let deleted = stages::delete(
        &mut tx,
        me.tenant(),
        StageId(stage.id),
        move_to,
        Some(me.user_id()),
        today,
    )
    .await;
    let result = tx.finish(deleted).await;
    if result.is_ok() {
        tracing::info!(
            tenant_id = me.tenant().0,
            stage_id = stage.id,
            moved_to = move_to.map(|s| s.0),
            "stage deleted"
        );
    }
    finish(&state, &me, origin, None, result).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_moves_one_place_and_stops_at_the_ends() {
        let order = [4, 7, 9];
        assert_eq!(one_step(&order, 7, true), Some(vec![7, 4, 9]));
        assert_eq!(one_step(&order, 7, false), Some(vec![4, 9, 7]));
        assert_eq!(one_step(&order, 4, true), None);
        assert_eq!(one_step(&order, 9, false), None);
        assert_eq!(one_step(&order, 5, false), None);
    }

    #[test]
    fn problems_name_their_field() {
        assert_eq!(
            sentence("probability", "must be a whole number from 0 to 100"),
            "Probability must be a whole number from 0 to 100"
        );
        assert_eq!(
            sentence("is_won", "at least one open stage must remain"),
            "At least one open stage must remain"
        );
        assert_eq!(
            sentence("color", "\"red\" is not a color like #94a3b8"),
            "Colour: \"red\" is not a color like #94a3b8"
        );
        assert_eq!(
            sentence("version", "Someone else changed this stage."),
            "Someone else changed this stage."
        );
    }

    #[test]
    fn a_refusal_names_the_deals_it_holds() {
        let deals = vec![(1, "E1".to_owned()), (2, "E2".to_owned())];
        assert_eq!(
            holds_deals(&deals),
            "This stage holds 2 deals: E1, E2. Choose a stage to move them to."
        );
        assert_eq!(
            holds_deals(&deals[..1]),
            "This stage holds 1 deal: E1. Choose a stage to move it to."
        );
        let many: Vec<(i64, String)> = (1..=12).map(|n| (n, format!("D{n}"))).collect();
        assert_eq!(
            holds_deals(&many),
            "This stage holds 12 deals: D1, D2, D3, D4, D5, D6, D7, D8, D9, D10 and 2 more. \
             Choose a stage to move them to."
        );
    }
}
