//! `/api/v1/clients`.

use super::{MergePatch, check_known, etag, expected_version, paging, parse_json};
use crate::auth::{ApiUser, Identity};
use crate::error::ApiError;
use crate::params::Params;
use crate::{AppState, filters};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use kith_domain::ClientId;
use kith_domain::client::{ClientFields, ClientInput};
use kith_domain::picklist::PickLists;
use kith_store::clients::{self, Client};
use kith_store::{StoreError, picklists, tenants};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A client as the API returns it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientOut {
    pub id: i64,
    pub name: String,
    pub domains: Vec<String>,
    pub website: Option<String>,
    /// As entered.
    pub phone: Option<String>,
    /// The E.164 form, when the number could be recognised.
    pub phone_e164: Option<String>,
    pub address: Option<String>,
    /// A label from the workspace's client-type list.
    #[serde(rename = "type")]
    pub client_type: Option<String>,
    pub lifecycle: Option<String>,
    pub industry: Option<String>,
    pub tags: Vec<String>,
    /// The owning user's id.
    pub owner: Option<i64>,
    /// The parent client's id.
    pub parent: Option<i64>,
    /// Markdown.
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl ClientOut {
    fn new(client: Client, tags: Vec<String>, lists: &PickLists) -> Self {
        let label = |id| lists.label(id).map(str::to_owned);
        Self {
            id: client.id,
            domains: client
                .domain_list()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            client_type: label(client.type_id),
            lifecycle: label(client.lifecycle_id),
            industry: label(client.industry_id),
            name: client.name,
            website: client.website,
            phone: client.phone,
            phone_e164: client.phone_e164,
            address: client.address,
            tags,
            owner: client.owner_id,
            parent: client.parent_id,
            notes: client.notes,
            created_at: client.created_at,
            updated_at: client.updated_at,
            version: client.version,
        }
    }

    /// The writable fields, as a PATCH starts from.
    fn as_input(&self) -> ClientIn {
        ClientIn {
            name: self.name.clone(),
            domains: Some(self.domains.clone()),
            website: self.website.clone(),
            phone: self.phone.clone(),
            address: self.address.clone(),
            client_type: self.client_type.clone(),
            lifecycle: self.lifecycle.clone(),
            industry: self.industry.clone(),
            tags: Some(self.tags.clone()),
            owner: self.owner,
            parent: self.parent,
            notes: self.notes.clone(),
            version: None,
        }
    }
}

/// A client as sent to create it, or as a merge patch (RFC 7396) to change it.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientIn {
    #[serde(default)]
    pub name: String,
    /// `null` or left out: none.
    pub domains: Option<Vec<String>>,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    #[serde(rename = "type")]
    pub client_type: Option<String>,
    pub lifecycle: Option<String>,
    pub industry: Option<String>,
    pub tags: Option<Vec<String>>,
    pub owner: Option<i64>,
    pub parent: Option<i64>,
    pub notes: Option<String>,
    /// The version a change starts from, when no `If-Match` header is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

impl ClientIn {
    fn into_input(self) -> ClientInput {
        ClientInput {
            name: self.name,
            domains: Some(self.domains.unwrap_or_default().join(" ")),
            website: self.website,
            phone: self.phone,
            address: self.address,
            client_type: self.client_type,
            lifecycle: self.lifecycle,
            industry: self.industry,
            tags: self.tags.unwrap_or_default(),
            owner_id: self.owner,
            parent_id: self.parent,
            notes: self.notes,
        }
    }
}

/// One page of clients.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientList {
    pub items: Vec<ClientOut>,
    /// How many clients match the filters in all; with a search, counting stops past 1000.
    pub total: i64,
    /// Counting stopped at 1000 matches of a search: at least `total` match.
    pub total_capped: bool,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of the client list. Filters combine with AND.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the query parameters; they are read with Params"
)]
pub struct ClientListQuery {
    /// Substring of name, domain, website or phone; ignores case, accents and apostrophes.
    search: Option<String>,
    /// A lifecycle label, e.g. `Customer`.
    lifecycle: Option<String>,
    /// An industry label.
    industry: Option<String>,
    /// A client-type label.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    client_type: Option<String>,
    /// A user id or email.
    owner: Option<String>,
    /// A tag; repeat or comma-separate for any of several.
    tag: Option<String>,
    /// `name`, `created` or `updated`; prefix `-` for descending. `id` breaks ties.
    sort: Option<String>,
    /// Page size, 1–200 (default 50).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

const LIST_PARAMS: [&str; 9] = [
    "search",
    "lifecycle",
    "industry",
    "type",
    "owner",
    "tag",
    "sort",
    "limit",
    "cursor",
];

#[utoipa::path(get, path = "/api/v1/clients", tag = "clients", params(ClientListQuery),
    responses((status = 200, body = ClientList), (status = 400, description = "A parameter is wrong; the problem names it")))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    RawQuery(query): RawQuery,
) -> Result<Json<ClientList>, ApiError> {
    let params = Params::from_query(query.as_deref());
    check_known(&params, &LIST_PARAMS)?;
    let lists = picklists::load(&state.db, me.tenant()).await?;
    let filter = filters::clients(&state.db, me.tenant(), &lists, &params)
        .await
        .map_err(|e| ApiError::bad_field(&e.field, e.message))?;
    let (sort, paging) = paging(&params, &clients::SORTS)?;

    let mut found = clients::list(&state.db, me.tenant(), &filter, &sort, &paging).await?;
    let items = found
        .page
        .items
        .into_iter()
        .map(|c| {
            let tags = found.tags.remove(&c.id).unwrap_or_default();
            ClientOut::new(c, tags, &lists)
        })
        .collect();
    Ok(Json(ClientList {
        items,
        total: found.page.total.count,
        total_capped: found.page.total.capped,
        next_cursor: found.next_cursor,
    }))
}

async fn load(state: &AppState, me: &Identity, id: i64) -> Result<ClientOut, StoreError> {
    let client = clients::get(&state.db, me.tenant(), ClientId(id)).await?;
    let tags = clients::tags_of(&state.db, me.tenant(), ClientId(id)).await?;
    let lists = picklists::load(&state.db, me.tenant()).await?;
    Ok(ClientOut::new(client, tags, &lists))
}

fn respond(status: StatusCode, client: ClientOut) -> Response {
    let location = format!("/api/v1/clients/{}", client.id);
    let mut response =
        (status, [(header::ETAG, etag(client.version))], Json(client)).into_response();
    if status == StatusCode::CREATED
        && let Ok(value) = location.parse()
    {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

#[utoipa::path(get, path = "/api/v1/clients/{id}", tag = "clients", params(("id" = i64, Path, description = "Client id")),
    responses((status = 200, body = ClientOut, headers(("ETag" = String))), (status = 404, description = "No such client")))]
pub async fn get(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(respond(StatusCode::OK, load(&state, &me, id).await?))
}

async fn check(state: &AppState, me: &Identity, body: ClientIn) -> Result<ClientFields, ApiError> {
    let lists = picklists::load(&state.db, me.tenant()).await?;
    let tenant = tenants::get(&state.db, me.tenant()).await?;
    ClientFields::parse(&body.into_input(), &lists, &tenant.default_country)
        .map_err(ApiError::invalid)
}

#[utoipa::path(post, path = "/api/v1/clients", tag = "clients", request_body = ClientIn,
    responses((status = 201, body = ClientOut), (status = 422, description = "Invalid fields, each named"), (status = 403, description = "Read-only user or token")))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    body: Bytes,
) -> Result<Response, ApiError> {
    me.may_write().map_err(ApiError::forbidden)?;
    let fields = check(&state, &me, parse_json(&body)?).await?;

    let mut tx = state.db.begin().await?;
    let id = clients::create(&mut tx, me.tenant(), &fields, Some(me.user_id())).await?;
    tx.commit().await?;
    Ok(respond(StatusCode::CREATED, load(&state, &me, id.0).await?))
}

#[utoipa::path(patch, path = "/api/v1/clients/{id}", tag = "clients", request_body = ClientIn,
    params(("id" = i64, Path, description = "Client id"), ("If-Match" = Option<String>, Header, description = "The ETag the change starts from")),
    responses((status = 200, body = ClientOut), (status = 409, description = "Stale version; `current` holds the record now"),
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

    let fields = check(&state, &me, patch.apply(current.as_input())?).await?;

    let mut tx = state.db.begin().await?;
    let result = clients::update(&mut tx, me.tenant(), ClientId(id), version, &fields).await;
    super::commit_or_stale(tx, result, async || load(&state, &me, id).await).await?;
    Ok(respond(StatusCode::OK, load(&state, &me, id).await?))
}

#[utoipa::path(delete, path = "/api/v1/clients/{id}", tag = "clients",
    params(("id" = i64, Path, description = "Client id"), ("If-Match" = Option<String>, Header, description = "Delete only at this version")),
    responses((status = 204, description = "Deleted; its contacts stay without a client"), (status = 409, description = "Stale version")))]
pub async fn delete(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    me.may_write().map_err(ApiError::forbidden)?;
    let version = expected_version(&headers, None)?;
    let mut tx = state.db.begin().await?;
    let result = clients::delete(&mut tx, me.tenant(), ClientId(id), version).await;
    super::commit_or_stale(tx, result, async || load(&state, &me, id).await).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
