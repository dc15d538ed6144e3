//! `/api/v1/stages`: the pipeline's stages, their order, and deleting one that holds deals.

use super::{MergePatch, etag, parse_json};
use crate::AppState;
use crate::auth::{ApiUser, Identity};
use crate::error::ApiError;
use crate::params::Params;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use kith_domain::StageId;
use kith_domain::pipeline::{StageFields, StageInput, today_in};
use kith_store::StoreError;
use kith_store::stages::{self, Stage};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A stage as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageOut {
    pub id: i64,
    pub name: String,
    /// Position on the board, from 1.
    pub sort_order: i32,
    /// `#rrggbb`.
    pub color: String,
    /// Win probability 0–100 that deals take on entering the stage.
    pub probability: i32,
    pub is_won: bool,
    pub is_lost: bool,
    pub version: i64,
}

impl From<Stage> for StageOut {
    fn from(s: Stage) -> Self {
        Self {
            id: s.id,
            name: s.name,
            sort_order: s.sort_order,
            color: s.color,
            probability: s.probability,
            is_won: s.is_won,
            is_lost: s.is_lost,
            version: s.version,
        }
    }
}

/// A stage to create, or the fields of a merge patch.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageIn {
    pub name: String,
    /// `#rrggbb`; a grey when left out.
    #[serde(default)]
    pub color: Option<String>,
    /// 0–100.
    pub probability: u8,
    #[serde(default)]
    pub is_won: bool,
    #[serde(default)]
    pub is_lost: bool,
    /// The version a PATCH starts from, when no If-Match header is sent.
    #[serde(default, skip_serializing)]
    pub version: Option<i64>,
}

impl StageIn {
    fn fields(&self) -> Result<StageFields, ApiError> {
        let input = StageInput {
            name: self.name.clone(),
            color: self.color.clone(),
            probability: Some(self.probability.to_string()),
            is_won: self.is_won,
            is_lost: self.is_lost,
        };
        StageFields::parse(&input).map_err(ApiError::invalid)
    }
}

/// The stages in board order.
#[derive(Debug, Serialize, ToSchema)]
pub struct StageList {
    pub items: Vec<StageOut>,
    pub total: i64,
    pub next_cursor: Option<String>,
}

/// The new board order: every stage id once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageOrder {
    pub order: Vec<i64>,
}

fn respond(status: StatusCode, stage: StageOut) -> Response {
    let tag = etag(stage.version);
    (status, [(header::ETAG, tag)], Json(stage)).into_response()
}

async fn load(state: &AppState, me: &Identity, id: i64) -> Result<StageOut, StoreError> {
    Ok(stages::get(&state.db, me.tenant(), StageId(id))
        .await?
        .into())
}

#[utoipa::path(get, path = "/api/v1/stages", tag = "stages",
    responses((status = 200, body = StageList)))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    RawQuery(query): RawQuery,
) -> Result<Json<StageList>, ApiError> {
    let params = Params::from_query(query.as_deref());
    super::check_known(&params, &[])?;
    let items: Vec<StageOut> = stages::list(&state.db, me.tenant())
        .await?
        .into_iter()
        .map(StageOut::from)
        .collect();
    Ok(Json(StageList {
        total: items.len() as i64,
        items,
        next_cursor: None,
    }))
}

#[utoipa::path(get, path = "/api/v1/stages/{id}", tag = "stages",
    params(("id" = i64, Path, description = "Stage id")),
    responses((status = 200, body = StageOut), (status = 404, description = "No such stage")))]
pub async fn get(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(respond(StatusCode::OK, load(&state, &me, id).await?))
}

#[utoipa::path(post, path = "/api/v1/stages", tag = "stages", request_body = StageIn,
    responses((status = 201, body = StageOut), (status = 422, description = "Invalid fields")))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    body: Bytes,
) -> Result<Response, ApiError> {
    me.may_administer().map_err(ApiError::forbidden)?;
    let input: StageIn = parse_json(&body)?;
    let fields = input.fields()?;

    let mut tx = state.db.begin().await?;
    let created = stages::create(&mut tx, me.tenant(), &fields).await;
    let id = tx.finish(created).await?;
    Ok(respond(StatusCode::CREATED, load(&state, &me, id.0).await?))
}

#[utoipa::path(patch, path = "/api/v1/stages/{id}", tag = "stages", request_body = StageIn,
    params(("id" = i64, Path, description = "Stage id"), ("If-Match" = Option<String>, Header, description = "The ETag the change starts from")),
    responses((status = 200, body = StageOut), (status = 409, description = "Stale version"),
        (status = 428, description = "No If-Match and no version"), (status = 422, description = "Invalid fields, or no open stage would remain")))]
pub async fn update(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    me.may_administer().map_err(ApiError::forbidden)?;
    let current = load(&state, &me, id).await?;
    let patch = MergePatch::read(&headers, &body, &current, current.version)?;
    let version = patch.version;

    let input: StageIn = patch.apply(serde_json::json!({
        "name": current.name,
        "color": current.color,
        "probability": current.probability,
        "is_won": current.is_won,
        "is_lost": current.is_lost,
    }))?;
    let fields = input.fields()?;

    let mut tx = state.db.begin().await?;
    let result = stages::update(&mut tx, me.tenant(), StageId(id), version, &fields).await;
    super::commit_or_stale(tx, result, async || load(&state, &me, id).await).await?;
    Ok(respond(StatusCode::OK, load(&state, &me, id).await?))
}

#[utoipa::path(put, path = "/api/v1/stages/order", tag = "stages", request_body = StageOrder,
    responses((status = 200, body = StageList), (status = 422, description = "The order does not list every stage once")))]
pub async fn reorder(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    body: Bytes,
) -> Result<Json<StageList>, ApiError> {
    me.may_administer().map_err(ApiError::forbidden)?;
    let order: StageOrder = parse_json(&body)?;

    let mut tx = state.db.begin().await?;
    let result = stages::reorder(&mut tx, me.tenant(), &order.order).await;
    tx.finish(result).await?;
    list(State(state), ApiUser(me), RawQuery(None)).await
}

#[utoipa::path(delete, path = "/api/v1/stages/{id}", tag = "stages",
    params(("id" = i64, Path, description = "Stage id"), ("move_to" = Option<i64>, Query, description = "Move the stage's deals to this stage first")),
    responses((status = 204, description = "Deleted"), (status = 409, description = "The stage holds deals (listed in `deals`) and no move_to was given"),
        (status = 422, description = "No open stage would remain, or move_to is not a stage")))]
pub async fn delete(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    me.may_administer().map_err(ApiError::forbidden)?;
    let params = Params::from_query(query.as_deref());
    super::check_known(&params, &["move_to"])?;
    let move_to = match params.get("move_to") {
        None => None,
        Some(raw) => {
            Some(StageId(raw.trim().parse::<i64>().map_err(|_| {
                ApiError::bad_field("move_to", "must be a stage id")
            })?))
        }
    };
    let today = today_in(&me.user.time_zone, Utc::now());

    let mut tx = state.db.begin().await?;
    let result = stages::delete(
        &mut tx,
        me.tenant(),
        StageId(id),
        move_to,
        Some(me.user_id()),
        today,
    )
    .await;
    tx.finish(result).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
