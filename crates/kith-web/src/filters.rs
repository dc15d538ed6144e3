//! List filters read from a URL query, shared by the pages and the API so that both accept the
//! same parameters with the same meaning.

use crate::AppState;
use crate::auth::Identity;
use crate::params::{Params, record_id_in};
use kith_domain::activity::Status;
use kith_domain::contact::{Channel, ContactType};
use kith_domain::picklist::{ListKind, PickLists};
use kith_domain::{FieldError, TenantId};
use kith_store::activities::ActivityFilter;
use kith_store::clients::ClientFilter;
use kith_store::contacts::ContactFilter;
use kith_store::{Db, tags, users};

/// Reads the client filters: `search`, `lifecycle`, `industry`, `type` (labels), `owner` (user
/// id or email) and `tag` (repeatable or comma-separated; any of them).
pub async fn clients(
    db: &Db,
    tenant: TenantId,
    lists: &PickLists,
    params: &Params,
) -> Result<ClientFilter, FieldError> {
    Ok(ClientFilter {
        search: params.get("search").map(str::to_owned),
        lifecycle_id: label(lists, ListKind::Lifecycle, "lifecycle", params)?,
        industry_id: label(lists, ListKind::Industry, "industry", params)?,
        type_id: label(lists, ListKind::ClientType, "type", params)?,
        owner_id: owner(db, tenant, params).await?,
        tag_ids: tag_ids(db, tenant, params).await?,
    })
}

/// Reads the contact filters: `search`, `client` (id), `type` (contact type), `owner`, `tag`
/// and `opted_out` (email, phone or sms).
pub async fn contacts(
    db: &Db,
    tenant: TenantId,
    params: &Params,
) -> Result<ContactFilter, FieldError> {
    let client_id = params
        .id("client")
        .map_err(|m| FieldError::new("client", m))?;
    let contact_type = match params.get("type") {
        None => None,
        Some(raw) => Some(
            ContactType::parse(raw)
                .map_err(|m| FieldError::new("type", m))?
                .as_str()
                .to_owned(),
        ),
    };
    let opted_out = match params.get("opted_out") {
        None => None,
        Some(raw) => Some(Channel::parse(raw).ok_or_else(|| {
            FieldError::new(
                "opted_out",
                format!("\"{raw}\" is not a channel; use email, phone or sms"),
            )
        })?),
    };
    Ok(ContactFilter {
        search: params.get("search").map(str::to_owned),
        client_id,
        contact_type,
        owner_id: owner(db, tenant, params).await?,
        tag_ids: tag_ids(db, tenant, params).await?,
        opted_out,
    })
}

fn label(
    lists: &PickLists,
    kind: ListKind,
    field: &str,
    params: &Params,
) -> Result<Option<i64>, FieldError> {
    match params.get(field) {
        None => Ok(None),
        Some(raw) => lists
            .resolve(kind, raw)
            .map(Some)
            .map_err(|m| FieldError::new(field, m)),
    }
}

async fn owner(db: &Db, tenant: TenantId, params: &Params) -> Result<Option<i64>, FieldError> {
    let Some(raw) = params.get("owner") else {
        return Ok(None);
    };
    if let Ok(id) = raw.parse::<i64>() {
        return Ok(Some(id));
    }
    match users::find_by_email(db, tenant, raw).await {
        Ok(Some(user)) => Ok(Some(user.id)),
        Ok(None) => Err(FieldError::new(
            "owner",
            format!("no user has the email \"{raw}\""),
        )),
        Err(e) => Err(FieldError::new(
            "owner",
            format!("could not be looked up: {e}"),
        )),
    }
}

async fn tag_ids(
    db: &Db,
    tenant: TenantId,
    params: &Params,
) -> Result<Option<Vec<i64>>, FieldError> {
    let names = params.all("tag");
    if names.is_empty() {
        return Ok(None);
    }
    tags::find(db, tenant, &names)
        .await
        .map(Some)
        .map_err(|e| FieldError::new("tag", format!("could not be looked up: {e}")))
}

/// The activity filters, with the client also given by its exact name, as the client boxes of
/// the forms take it ("Harbor Dental" as well as "Harbor Dental (#12)").
pub async fn activities_named(
    state: &AppState,
    me: &Identity,
    params: &Params,
    lists: &PickLists,
) -> Result<ActivityFilter, FieldError> {
    let typed = params
        .get("client")
        .filter(|typed| record_id_in(typed).is_none())
        .map(str::to_owned);
    let Some(typed) = typed else {
        return activities(params, lists);
    };
    let id = crate::pages::clients::resolve_client(state, me, &typed)
        .await
        .map_err(|message| FieldError::new("client", message))?;
    let mut params = params.clone();
    params.set("client", id.map(|id| id.to_string()).unwrap_or_default());
    activities(&params, lists)
}

/// Reads the activity filters: `search`, `type` (label), `owner` (id), `client`, `contact` and
/// `deal` (`12`, `#12` or a picker's "Name (#12)"), `status` (open, completed, due_today,
/// overdue, upcoming) and the day range `from`–`to` (`YYYY-MM-DD`, the viewer's days).
pub fn activities(params: &Params, lists: &PickLists) -> Result<ActivityFilter, FieldError> {
    let given = |name: &str| params.get(name).map(str::trim).filter(|v| !v.is_empty());
    let id = |name: &str| params.id(name).map_err(|m| FieldError::new(name, m));
    let record = |name: &str| params.record_id(name).map_err(|m| FieldError::new(name, m));
    let date = |name: &str| {
        kith_domain::activity::parse_date(given(name)).map_err(|m| FieldError::new(name, m))
    };
    let status = match given("status") {
        None => None,
        Some(raw) => Some(Status::parse(raw).map_err(|m| FieldError::new("status", m))?),
    };
    let (from, to) = (date("from")?, date("to")?);
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(FieldError::new(
            "to",
            format!("{to} is before from ({from})"),
        ));
    }
    Ok(ActivityFilter {
        search: given("search").map(str::to_owned),
        type_id: label(lists, ListKind::ActivityType, "type", params)?,
        owner_id: id("owner")?,
        client_id: record("client")?,
        contact_id: record("contact")?,
        deal_id: record("deal")?,
        status,
        from,
        to,
    })
}
