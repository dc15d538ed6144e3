//! List filters read from a URL query, shared by the pages and the API so that both accept the
//! same parameters with the same meaning.

use crate::params::Params;
use kith_domain::contact::{Channel, ContactType};
use kith_domain::picklist::{ListKind, PickLists};
use kith_domain::{FieldError, TenantId};
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
