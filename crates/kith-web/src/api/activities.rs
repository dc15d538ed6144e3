//! `/api/v1/activities`: the activity log, with the same filters as `/crm/activities`.
//!
//! "Due today", "overdue" and day ranges are the calling user's days, in their time zone. An
//! activity takes place at `occurred_at` (an instant, returned in UTC) or is due on `due_date`
//! (a date that never shifts); `status` says where it stands for the caller.

use super::{MergePatch, check_known, etag, expected_version, paging_from, parse_json};
use crate::AppState;
use crate::auth::{ApiUser, Identity};
use crate::error::ApiError;
use crate::params::Params;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use kith_domain::activity::{ActivityFields, ActivityInput, parse_date};
use kith_domain::picklist::{ListKind, PickLists};
use kith_domain::{ActivityId, Invalid};
use kith_store::activities::{self, Activity, FollowUp, Viewer};
use kith_store::{StoreError, picklists};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An activity as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActivityOut {
    pub id: i64,
    /// A label of the workspace's activity types.
    #[serde(rename = "type")]
    pub activity_type: String,
    pub subject: String,
    /// Markdown.
    pub notes: Option<String>,
    pub client: Option<i64>,
    pub client_name: Option<String>,
    pub contacts: Vec<i64>,
    pub deal: Option<i64>,
    pub owner: Option<i64>,
    /// When it took or takes place; `null` for work due on a day.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The day planned work is due; `null` for an activity at an instant.
    pub due_date: Option<NaiveDate>,
    /// Minutes.
    pub duration: Option<i32>,
    pub outcome: Option<String>,
    pub follow_up_date: Option<NaiveDate>,
    pub completed: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub completed_by: Option<i64>,
    /// The activity whose completion scheduled this one.
    pub follow_up_of: Option<i64>,
    /// open, completed, due_today, overdue or upcoming, for the calling user's today.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl ActivityOut {
    pub fn new(activity: Activity, lists: &PickLists, viewer: &Viewer) -> Self {
        let status = activity.status(viewer).as_str().to_owned();
        Self {
            id: activity.id,
            activity_type: lists
                .label(Some(activity.type_id))
                .unwrap_or_default()
                .to_owned(),
            subject: activity.subject,
            notes: activity.notes,
            client: activity.client_id,
            client_name: activity.client_name,
            contacts: activity.contact_ids,
            deal: activity.deal_id,
            owner: activity.owner_id,
            occurred_at: activity.occurred_at,
            due_date: activity.due_date,
            duration: activity.duration,
            outcome: activity.outcome,
            follow_up_date: activity.follow_up_date,
            completed: activity.completed_at.is_some(),
            completed_at: activity.completed_at,
            completed_by: activity.completed_by,
            follow_up_of: activity.follow_up_of,
            status,
            created_at: activity.created_at,
            updated_at: activity.updated_at,
            version: activity.version,
        }
    }

    /// The activity as an [`ActivityIn`], the base a merge patch applies to.
    fn as_input(&self) -> ActivityIn {
        ActivityIn {
            activity_type: self.activity_type.clone(),
            subject: self.subject.clone(),
            notes: self.notes.clone(),
            client: self.client,
            contacts: Some(self.contacts.clone()),
            deal: self.deal,
            owner: self.owner,
            occurred_at: self.occurred_at.map(|at| at.to_rfc3339()),
            due_date: self.due_date.map(|d| d.to_string()),
            duration: self.duration,
            outcome: self.outcome.clone(),
            follow_up_date: self.follow_up_date.map(|d| d.to_string()),
            completed: Some(self.completed),
            version: None,
        }
    }
}

/// An activity as sent to create it, or as a merge patch (RFC 7396) to change it.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityIn {
    /// A label of the workspace's activity types (Call, Meeting, Email, Follow-up…).
    #[serde(rename = "type", default)]
    pub activity_type: String,
    #[serde(default)]
    pub subject: String,
    pub notes: Option<String>,
    pub client: Option<i64>,
    /// Contact ids.
    pub contacts: Option<Vec<i64>>,
    pub deal: Option<i64>,
    /// A user id; you when left out of a new activity.
    pub owner: Option<i64>,
    /// RFC 3339 (`2025-05-18T10:00:00+02:00`), or a local `YYYY-MM-DDTHH:MM` in your time zone.
    /// With neither this nor `due_date`, the activity happens now.
    pub occurred_at: Option<String>,
    /// `YYYY-MM-DD`, for work planned on a day.
    pub due_date: Option<String>,
    /// Minutes, 0 to a week.
    pub duration: Option<i32>,
    pub outcome: Option<String>,
    /// `YYYY-MM-DD`.
    pub follow_up_date: Option<String>,
    /// Left out: done when it took place in the past, open otherwise.
    pub completed: Option<bool>,
    /// The version a change starts from, when no `If-Match` header is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

impl ActivityIn {
    fn into_input(self) -> ActivityInput {
        ActivityInput {
            activity_type: self.activity_type,
            subject: self.subject,
            notes: self.notes,
            client_id: self.client,
            contact_ids: self.contacts.unwrap_or_default(),
            deal_id: self.deal,
            owner_id: self.owner,
            occurred_at: self.occurred_at,
            due_date: self.due_date,
            duration: self.duration.map(|d| d.to_string()),
            outcome: self.outcome,
            follow_up_date: self.follow_up_date,
            completed: self.completed,
        }
    }
}

/// Completing an activity, and the follow-up to schedule with it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteIn {
    /// The version the change starts from, when no `If-Match` header is sent.
    pub version: Option<i64>,
    pub follow_up: Option<FollowUpIn>,
}

/// A follow-up scheduled by completing an activity: due that day, for you, on the same
/// client, deal and contacts.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpIn {
    /// `YYYY-MM-DD`.
    pub due_date: String,
    /// Blank: "Follow-up: " and the completed activity's subject.
    pub subject: Option<String>,
    /// An activity type label; Follow-up when left out.
    #[serde(rename = "type")]
    pub activity_type: Option<String>,
}

/// Reopening a completed activity.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenIn {
    pub version: Option<i64>,
}

/// What completing did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Completed {
    pub activity: ActivityOut,
    pub follow_up: Option<ActivityOut>,
}

/// One page of activities.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityList {
    pub items: Vec<ActivityOut>,
    /// How many activities match the filters in all; with a search, counting stops past 1000.
    pub total: i64,
    pub total_capped: bool,
    pub next_cursor: Option<String>,
}

/// Filters of the activity list. Filters combine with AND.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the query parameters; they are read with Params"
)]
pub struct ActivityListQuery {
    /// Substring of the subject, notes or outcome; ignores case, accents and apostrophes.
    search: Option<String>,
    /// An activity type label.
    r#type: Option<String>,
    /// A user id.
    owner: Option<i64>,
    /// A client: its id, `#id`, a picker's `Name (#id)`, or its exact name.
    client: Option<String>,
    /// A contact: its id, `#id` or `Name (#id)`.
    contact: Option<String>,
    /// A deal: its id, `#id` or `Title (#id)`.
    deal: Option<String>,
    /// open, completed, due_today, overdue or upcoming: your days, in your time zone.
    status: Option<String>,
    /// On or after this day of yours (`YYYY-MM-DD`).
    from: Option<String>,
    /// On or before this day of yours (`YYYY-MM-DD`).
    to: Option<String>,
    /// `when`, `created` or `updated`; prefix `-` for descending (default `-when`).
    sort: Option<String>,
    /// Page size, 1–200 (default 50).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The filter parameters, shared with `/crm/activities` so that a view's URL means the same
/// in both.
pub const FILTER_PARAMS: [&str; 9] = [
    "search", "type", "owner", "client", "contact", "deal", "status", "from", "to",
];

/// The signed-in user as a viewer of the log: their zone and their today.
pub fn viewer(me: &Identity) -> Viewer {
    Viewer::at(zone(me), Utc::now())
}

fn zone(me: &Identity) -> Tz {
    me.user.time_zone.parse().unwrap_or(Tz::UTC)
}

fn respond(status: StatusCode, activity: ActivityOut) -> Response {
    let location = format!("/api/v1/activities/{}", activity.id);
    let mut response = (
        status,
        [(header::ETAG, etag(activity.version))],
        Json(activity),
    )
        .into_response();
    if status == StatusCode::CREATED
        && let Ok(value) = location.parse()
    {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

async fn load(state: &AppState, me: &Identity, id: i64) -> Result<ActivityOut, StoreError> {
    let activity = activities::get(&state.db, me.tenant(), ActivityId(id)).await?;
    let lists = picklists::load(&state.db, me.tenant()).await?;
    Ok(ActivityOut::new(activity, &lists, &viewer(me)))
}

async fn check(
    state: &AppState,
    me: &Identity,
    body: ActivityIn,
) -> Result<ActivityFields, ApiError> {
    let lists = picklists::load(&state.db, me.tenant()).await?;
    ActivityFields::parse(&body.into_input(), &lists, zone(me), Utc::now())
        .map_err(ApiError::invalid)
}

#[utoipa::path(get, path = "/api/v1/activities", tag = "activities", params(ActivityListQuery),
    responses((status = 200, body = ActivityList), (status = 400, description = "A parameter is wrong; the problem names it")))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    RawQuery(query): RawQuery,
) -> Result<Json<ActivityList>, ApiError> {
    let params = Params::from_query(query.as_deref());
    let mut known = FILTER_PARAMS.to_vec();
    known.extend(["sort", "limit", "cursor"]);
    check_known(&params, &known)?;
    let lists = picklists::load(&state.db, me.tenant()).await?;
    let filter = crate::filters::activities_named(&state, &me, &params, &lists)
        .await
        .map_err(|e| ApiError::bad_field(&e.field, e.message))?;
    let (sort, paging) = paging_from(
        &params,
        &activities::SORTS,
        Some(activities::default_sort()),
    )?;

    let viewer = viewer(&me);
    let found = activities::list(&state.db, me.tenant(), &filter, &viewer, &sort, &paging).await?;
    Ok(Json(ActivityList {
        items: found
            .page
            .items
            .into_iter()
            .map(|a| ActivityOut::new(a, &lists, &viewer))
            .collect(),
        total: found.page.total.count,
        total_capped: found.page.total.capped,
        next_cursor: found.next_cursor,
    }))
}

#[utoipa::path(get, path = "/api/v1/activities/{id}", tag = "activities", params(("id" = i64, Path, description = "Activity id")),
    responses((status = 200, body = ActivityOut, headers(("ETag" = String))), (status = 404, description = "No such activity")))]
pub async fn get(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(respond(StatusCode::OK, load(&state, &me, id).await?))
}

#[utoipa::path(post, path = "/api/v1/activities", tag = "activities", request_body = ActivityIn,
    responses((status = 201, body = ActivityOut), (status = 422, description = "Invalid fields, each named")))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    body: Bytes,
) -> Result<Response, ApiError> {
    me.may_write().map_err(ApiError::forbidden)?;
    let mut body: ActivityIn = parse_json(&body)?;
    body.owner = body.owner.or(Some(me.user_id().0));
    let fields = check(&state, &me, body).await?;

    let mut tx = state.db.begin().await?;
    let created = activities::create(&mut tx, me.tenant(), &fields, Some(me.user_id())).await;
    let id = tx.finish(created).await?;
    Ok(respond(StatusCode::CREATED, load(&state, &me, id.0).await?))
}

#[utoipa::path(patch, path = "/api/v1/activities/{id}", tag = "activities", request_body = ActivityIn,
    params(("id" = i64, Path, description = "Activity id"), ("If-Match" = Option<String>, Header, description = "The ETag the change starts from")),
    responses((status = 200, body = ActivityOut), (status = 409, description = "Stale version; `current` holds the activity now"),
        (status = 428, description = "No If-Match and no version"), (status = 422, description = "Invalid fields")))]
pub async fn update(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    me.may_write().map_err(ApiError::forbidden)?;
    let current = load(&state, &me, id).await?;
    let patch = MergePatch::read(&headers, &body, &current, current.version)?;
    let version = patch.version;
    let input: ActivityIn = patch.apply(current.as_input())?;
    // Left without either, a new activity happens now; an existing one must keep a time.
    if input.occurred_at.is_none() && input.due_date.is_none() {
        return Err(ApiError::invalid(Invalid::one(
            "occurred_at",
            "cannot be cleared without a due_date: an activity takes place at a time or is \
             due on a day",
        )));
    }
    let fields = check(&state, &me, input).await?;

    let mut tx = state.db.begin().await?;
    let result = activities::update(
        &mut tx,
        me.tenant(),
        ActivityId(id),
        version,
        &fields,
        Some(me.user_id()),
    )
    .await;
    super::commit_or_stale(tx, result, async || load(&state, &me, id).await).await?;
    Ok(respond(StatusCode::OK, load(&state, &me, id).await?))
}

#[utoipa::path(post, path = "/api/v1/activities/{id}/complete", tag = "activities", request_body = CompleteIn,
    params(("id" = i64, Path, description = "Activity id"), ("If-Match" = Option<String>, Header, description = "The ETag the change starts from")),
    responses((status = 200, body = Completed), (status = 409, description = "Stale version"),
        (status = 428, description = "No If-Match and no version"), (status = 422, description = "Invalid follow-up")))]
pub async fn complete(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Completed>, ApiError> {
    me.may_write().map_err(ApiError::forbidden)?;
    // Another workspace's id is unknown here, whatever the body says.
    load(&state, &me, id).await?;
    let body: CompleteIn = if body.is_empty() {
        CompleteIn::default()
    } else {
        parse_json(&body)?
    };
    let version =
        expected_version(&headers, body.version)?.ok_or_else(ApiError::precondition_required)?;
    let lists = picklists::load(&state.db, me.tenant()).await?;
    let follow_up = match &body.follow_up {
        Some(follow_up) => Some(follow_up_of(follow_up, &lists)?),
        None => None,
    };

    let mut tx = state.db.begin().await?;
    let result = activities::complete(
        &mut tx,
        me.tenant(),
        ActivityId(id),
        version,
        me.user_id(),
        follow_up.as_ref(),
    )
    .await;
    let done = super::commit_or_stale(tx, result, async || load(&state, &me, id).await).await?;
    let follow_up = match done.follow_up {
        Some(next) => Some(load(&state, &me, next.0).await?),
        None => None,
    };
    Ok(Json(Completed {
        activity: load(&state, &me, id).await?,
        follow_up,
    }))
}

/// Reads a follow-up to schedule, naming the field at fault under `follow_up`.
pub fn follow_up_of(input: &FollowUpIn, lists: &PickLists) -> Result<FollowUp, ApiError> {
    let due = parse_date(Some(&input.due_date))
        .map_err(|m| ApiError::bad_field("follow_up.due_date", m))?
        .ok_or_else(|| ApiError::bad_field("follow_up.due_date", "is required"))?;
    let type_id = match input.activity_type.as_deref() {
        Some(label) => lists
            .resolve(ListKind::ActivityType, label)
            .map_err(|message| ApiError::bad_field("follow_up.type", message))?,
        None => kith_domain::activity::follow_up_type(lists).ok_or_else(|| {
            ApiError::bad_field("follow_up.type", "the workspace has no activity types")
        })?,
    };
    let subject = match kith_domain::text::optional_line(
        input.subject.as_deref(),
        kith_domain::activity::SUBJECT_MAX,
    ) {
        Ok(subject) => subject,
        Err(message) => return Err(ApiError::bad_field("follow_up.subject", message)),
    };
    Ok(FollowUp {
        due,
        type_id,
        subject,
    })
}

#[utoipa::path(post, path = "/api/v1/activities/{id}/reopen", tag = "activities", request_body = ReopenIn,
    params(("id" = i64, Path, description = "Activity id"), ("If-Match" = Option<String>, Header, description = "The ETag the change starts from")),
    responses((status = 200, body = ActivityOut), (status = 409, description = "Stale version"), (status = 428, description = "No If-Match and no version")))]
pub async fn reopen(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    me.may_write().map_err(ApiError::forbidden)?;
    // Another workspace's id is unknown here, whatever the body says.
    load(&state, &me, id).await?;
    let body: ReopenIn = if body.is_empty() {
        ReopenIn::default()
    } else {
        parse_json(&body)?
    };
    let version =
        expected_version(&headers, body.version)?.ok_or_else(ApiError::precondition_required)?;
    let mut tx = state.db.begin().await?;
    let result = activities::reopen(&mut tx, me.tenant(), ActivityId(id), version).await;
    super::commit_or_stale(tx, result, async || load(&state, &me, id).await).await?;
    Ok(respond(StatusCode::OK, load(&state, &me, id).await?))
}

#[utoipa::path(delete, path = "/api/v1/activities/{id}", tag = "activities",
    params(("id" = i64, Path, description = "Activity id"), ("If-Match" = Option<String>, Header, description = "Delete only at this version")),
    responses((status = 204, description = "Deleted"), (status = 409, description = "Stale version")))]
pub async fn delete(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    me.may_write().map_err(ApiError::forbidden)?;
    let version = expected_version(&headers, None)?;
    let mut tx = state.db.begin().await?;
    let result = activities::delete(&mut tx, me.tenant(), ActivityId(id), version).await;
    super::commit_or_stale(tx, result, async || load(&state, &me, id).await).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
