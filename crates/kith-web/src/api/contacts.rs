//! `/api/v1/contacts`.

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
use kith_domain::ContactId;
use kith_domain::contact::{ConsentSource, ContactFields, ContactInput, PhoneInput};
use kith_store::contacts::{self, Actor, Contact, ContactPhone};
use kith_store::{StoreError, tenants};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A phone number of a contact.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneOut {
    /// work, mobile, home…
    pub label: String,
    /// As entered.
    pub number: String,
    /// The E.164 form, when recognised with the workspace's default country.
    #[serde(default, skip_deserializing)]
    pub e164: Option<String>,
}

/// The opt-out state of one channel and its last change.
#[derive(Debug, Serialize, ToSchema)]
pub struct OptOutOut {
    pub opted_out: bool,
    pub changed_at: Option<DateTime<Utc>>,
    /// user, unsubscribe_link, import, bounce or api.
    pub source: Option<String>,
}

/// Opt-outs per channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct OptOutsOut {
    pub email: OptOutOut,
    pub phone: OptOutOut,
    pub sms: OptOutOut,
}

/// A contact as the API returns it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactOut {
    pub id: i64,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// First and last name together.
    pub name: String,
    pub title: Option<String>,
    pub client: Option<i64>,
    pub client_name: Option<String>,
    /// The primary email, unique in the workspace.
    pub email: Option<String>,
    pub other_emails: Vec<String>,
    pub phones: Vec<PhoneOut>,
    /// primary, billing, technical, decision-maker, c-suite.
    pub types: Vec<String>,
    /// email, phone, sms or none.
    pub preferred_channel: String,
    pub opt_out: OptOutsOut,
    pub tags: Vec<String>,
    pub owner: Option<i64>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl ContactOut {
    fn new(contact: Contact, phones: Vec<ContactPhone>, tags: Vec<String>) -> Self {
        Self {
            id: contact.id,
            name: contact.display_name(),
            other_emails: contact
                .other_email_list()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            types: contact.type_list().into_iter().map(str::to_owned).collect(),
            phones: phones
                .into_iter()
                .map(|p| PhoneOut {
                    label: p.label,
                    number: p.raw,
                    e164: p.e164,
                })
                .collect(),
            opt_out: OptOutsOut {
                email: OptOutOut {
                    opted_out: contact.email_opt_out,
                    changed_at: contact.email_opt_out_at,
                    source: contact.email_opt_out_source.clone(),
                },
                phone: OptOutOut {
                    opted_out: contact.phone_opt_out,
                    changed_at: contact.phone_opt_out_at,
                    source: contact.phone_opt_out_source.clone(),
                },
                sms: OptOutOut {
                    opted_out: contact.sms_opt_out,
                    changed_at: contact.sms_opt_out_at,
                    source: contact.sms_opt_out_source.clone(),
                },
            },
            first_name: contact.first_name,
            last_name: contact.last_name,
            title: contact.title,
            client: contact.client_id,
            client_name: contact.client_name,
            email: contact.email,
            preferred_channel: contact.preferred_channel,
            tags,
            owner: contact.owner_id,
            notes: contact.notes,
            created_at: contact.created_at,
            updated_at: contact.updated_at,
            version: contact.version,
        }
    }

    fn as_input(&self) -> ContactIn {
        ContactIn {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            title: self.title.clone(),
            client: self.client,
            email: self.email.clone(),
            other_emails: Some(self.other_emails.clone()),
            phones: Some(
                self.phones
                    .iter()
                    .map(|p| PhoneIn {
                        label: p.label.clone(),
                        number: p.number.clone(),
                    })
                    .collect(),
            ),
            types: Some(self.types.clone()),
            preferred_channel: Some(self.preferred_channel.clone()),
            opt_out: Some(OptOutsIn {
                email: Some(self.opt_out.email.opted_out),
                phone: Some(self.opt_out.phone.opted_out),
                sms: Some(self.opt_out.sms.opted_out),
            }),
            tags: Some(self.tags.clone()),
            owner: self.owner,
            notes: self.notes.clone(),
            version: None,
        }
    }
}

/// A phone as sent.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneIn {
    #[serde(default)]
    pub label: String,
    pub number: String,
}

/// Opt-out wishes; a channel left out keeps its state.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptOutsIn {
    pub email: Option<bool>,
    pub phone: Option<bool>,
    pub sms: Option<bool>,
}

/// A contact as sent to create it, or as a merge patch (RFC 7396) to change it.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactIn {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub title: Option<String>,
    pub client: Option<i64>,
    pub email: Option<String>,
    pub other_emails: Option<Vec<String>>,
    pub phones: Option<Vec<PhoneIn>>,
    pub types: Option<Vec<String>>,
    pub preferred_channel: Option<String>,
    pub opt_out: Option<OptOutsIn>,
    pub tags: Option<Vec<String>>,
    pub owner: Option<i64>,
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
}

impl ContactIn {
    fn into_input(self) -> ContactInput {
        ContactInput {
            first_name: self.first_name,
            last_name: self.last_name,
            title: self.title,
            client_id: self.client,
            email: self.email,
            other_emails: self.other_emails.unwrap_or_default(),
            phones: self
                .phones
                .unwrap_or_default()
                .into_iter()
                .map(|p| PhoneInput {
                    label: p.label,
                    number: p.number,
                })
                .collect(),
            types: self.types.unwrap_or_default(),
            preferred_channel: self.preferred_channel,
            opt_out: {
                let wishes = self.opt_out.unwrap_or_default();
                [wishes.email, wishes.phone, wishes.sms]
            },
            tags: self.tags.unwrap_or_default(),
            owner_id: self.owner,
            notes: self.notes,
        }
    }
}

/// One page of contacts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactList {
    pub items: Vec<ContactOut>,
    /// How many contacts match the filters in all; with a search, counting stops past 1000.
    pub total: i64,
    /// Counting stopped at 1000 matches of a search: at least `total` match.
    pub total_capped: bool,
    pub next_cursor: Option<String>,
}

/// Filters and paging of the contact list. Filters combine with AND.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[expect(
    dead_code,
    reason = "documents the query parameters; they are read with Params"
)]
pub struct ContactListQuery {
    /// Substring of name, title, email or phone; ignores case, accents and apostrophes.
    search: Option<String>,
    /// A client id.
    client: Option<i64>,
    /// A contact type: primary, billing, technical, decision-maker or c-suite.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    contact_type: Option<String>,
    /// A user id or email.
    owner: Option<String>,
    /// A tag; repeat or comma-separate for any of several.
    tag: Option<String>,
    /// Only contacts opted out of this channel: email, phone or sms.
    opted_out: Option<String>,
    /// `name`, `created` or `updated`; prefix `-` for descending. `id` breaks ties.
    sort: Option<String>,
    /// Page size, 1–200 (default 50).
    limit: Option<u64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

const LIST_PARAMS: [&str; 9] = [
    "search",
    "client",
    "type",
    "owner",
    "tag",
    "opted_out",
    "sort",
    "limit",
    "cursor",
];

#[utoipa::path(get, path = "/api/v1/contacts", tag = "contacts", params(ContactListQuery),
    responses((status = 200, body = ContactList), (status = 400, description = "A parameter is wrong; the problem names it")))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    RawQuery(query): RawQuery,
) -> Result<Json<ContactList>, ApiError> {
    let params = Params::from_query(query.as_deref());
    check_known(&params, &LIST_PARAMS)?;
    let filter = filters::contacts(&state.db, me.tenant(), &params)
        .await
        .map_err(|e| ApiError::bad_field(&e.field, e.message))?;
    let (sort, paging) = paging(&params, &contacts::SORTS)?;

    let mut found = contacts::list(&state.db, me.tenant(), &filter, &sort, &paging).await?;
    let items = found
        .page
        .items
        .into_iter()
        .map(|c| {
            let phones = found.phones.remove(&c.id).unwrap_or_default();
            let tags = found.tags.remove(&c.id).unwrap_or_default();
            ContactOut::new(c, phones, tags)
        })
        .collect();
    Ok(Json(ContactList {
        items,
        total: found.page.total.count,
        total_capped: found.page.total.capped,
        next_cursor: found.next_cursor,
    }))
}

async fn load(state: &AppState, me: &Identity, id: i64) -> Result<ContactOut, StoreError> {
    let contact = contacts::get(&state.db, me.tenant(), ContactId(id)).await?;
    let phones = contacts::phones_of(&state.db, me.tenant(), &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    let tags = contacts::tags_of(&state.db, me.tenant(), ContactId(id)).await?;
    Ok(ContactOut::new(contact, phones, tags))
}

fn respond(status: StatusCode, contact: ContactOut) -> Response {
    let location = format!("/api/v1/contacts/{}", contact.id);
    let mut response = (
        status,
        [(header::ETAG, etag(contact.version))],
        Json(contact),
    )
        .into_response();
    if status == StatusCode::CREATED
        && let Ok(value) = location.parse()
    {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn actor(me: &Identity) -> Actor {
    Actor {
        user: Some(me.user_id()),
        source: ConsentSource::Api,
    }
}

async fn check(
    state: &AppState,
    me: &Identity,
    body: ContactIn,
) -> Result<ContactFields, ApiError> {
    let tenant = tenants::get(&state.db, me.tenant()).await?;
    ContactFields::parse(&body.into_input(), &tenant.default_country).map_err(ApiError::invalid)
}

#[utoipa::path(get, path = "/api/v1/contacts/{id}", tag = "contacts", params(("id" = i64, Path, description = "Contact id")),
    responses((status = 200, body = ContactOut, headers(("ETag" = String))), (status = 404, description = "No such contact")))]
pub async fn get(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    Ok(respond(StatusCode::OK, load(&state, &me, id).await?))
}

#[utoipa::path(post, path = "/api/v1/contacts", tag = "contacts", request_body = ContactIn,
    responses((status = 201, body = ContactOut), (status = 422, description = "Invalid fields, each named"), (status = 403, description = "Read-only user or token")))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    body: Bytes,
) -> Result<Response, ApiError> {
    me.may_write().map_err(ApiError::forbidden)?;
    let fields = check(&state, &me, parse_json(&body)?).await?;

    let mut tx = state.db.begin().await?;
    let id = contacts::create(&mut tx, me.tenant(), &fields, actor(&me)).await?;
    tx.commit().await?;
    Ok(respond(StatusCode::CREATED, load(&state, &me, id.0).await?))
}

#[utoipa::path(patch, path = "/api/v1/contacts/{id}", tag = "contacts", request_body = ContactIn,
    params(("id" = i64, Path, description = "Contact id"), ("If-Match" = Option<String>, Header, description = "The ETag the change starts from")),
    responses((status = 200, body = ContactOut), (status = 409, description = "Stale version; `current` holds the record now"),
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
    let result = contacts::update(
        &mut tx,
        me.tenant(),
        ContactId(id),
        version,
        &fields,
        actor(&me),
    )
    .await;
    super::commit_or_stale(tx, result, async || load(&state, &me, id).await).await?;
    Ok(respond(StatusCode::OK, load(&state, &me, id).await?))
}

#[utoipa::path(delete, path = "/api/v1/contacts/{id}", tag = "contacts",
    params(("id" = i64, Path, description = "Contact id"), ("If-Match" = Option<String>, Header, description = "Delete only at this version")),
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
    let result = contacts::delete(&mut tx, me.tenant(), ContactId(id), version).await;
    super::commit_or_stale(tx, result, async || load(&state, &me, id).await).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
