//! The JSON API under `/api/v1`. Lists return `{"items", "total", "next_cursor"}`; errors are
//! RFC 9457 problem details naming the field; updates name the version they started from.

pub mod activities;
pub mod clients;
pub mod contacts;
pub mod deals;
pub mod forecast;
pub mod openapi;
pub mod quotes;
pub mod search;
pub mod stages;

use crate::error::ApiError;
use crate::params::Params;
use axum::http::{HeaderMap, HeaderValue, header};
use kith_store::page::{Cursor, MAX_PAGE_SIZE, Paging, Sort, SortColumn};
use serde::de::DeserializeOwned;

/// The default page size of API lists.
const DEFAULT_LIMIT: u64 = 50;

/// The `ETag` of a record at `version`.
pub fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// The version an update or delete starts from: `If-Match` wins over `version` in the body.
/// `None` when neither was sent.
pub fn expected_version(
    headers: &HeaderMap,
    body_version: Option<i64>,
) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(body_version);
    };
    let text = value.to_str().unwrap_or_default().trim();
    let text = text.strip_prefix("W/").unwrap_or(text);
    text.trim_matches('"')
        .parse::<i64>()
        .map(Some)
        .map_err(|_| {
            ApiError::bad_field(
                "If-Match",
                format!("{text} is not an ETag this API issued, such as \"3\""),
            )
        })
}

/// Reads a JSON body, naming the field that is wrong (`name`, `phones[1].number`).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| field_error(e.path().to_string(), e.inner()))?;
    deserializer
        .end()
        .map_err(|e| field_error(".".into(), &e))?;
    Ok(value)
}

/// Converts an already-parsed JSON value, naming the field that is wrong.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value)
        .map_err(|e| field_error(e.path().to_string(), e.inner()))
}

fn field_error(path: String, error: &serde_json::Error) -> ApiError {
    let message = error.to_string();
    // An unknown or missing field is named in the message, not the path.
    let named = message
        .split('`')
        .nth(1)
        .filter(|_| message.contains(" field "));
    let field = match (named, path.as_str()) {
        (Some(name), _) => name.to_owned(),
        (None, "." | "") => "body".to_owned(),
        (None, path) => path.to_owned(),
    };
    ApiError::bad_field(&field, message)
}

/// The version named in a PATCH body, if any; a version that is not a whole number is an error.
fn body_version(patch: &serde_json::Value) -> Result<Option<i64>, ApiError> {
    match patch.get("version") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => value.as_i64().map(Some).ok_or_else(|| {
            ApiError::bad_field(
                "version",
                "must be the record's version, a whole number such as 3",
            )
        }),
    }
}

/// A body sent with a type other than JSON (curl's `-d` sends a form unless told otherwise).
fn wrong_body_type(request: &axum::extract::Request) -> Option<ApiError> {
    let writes = matches!(
        *request.method(),
        axum::http::Method::POST | axum::http::Method::PATCH | axum::http::Method::PUT
    );
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)?
        .to_str()
        .unwrap_or_default();
    let is_json = content_type.starts_with("application/json")
        || content_type.starts_with("application/merge-patch+json");
    (writes && !is_json).then(|| {
        ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            format!("The body was sent as {content_type}; send JSON with \"Content-Type: application/json\"."),
        )
    })
}

/// Middleware: errors raised before a handler runs (a body over the size limit, an id that is
/// not a number, a wrong method) come from the framework as plain text; on the API they are
/// turned into problem details like every other error.
pub async fn problems(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;

    let is_api = request.uri().path().starts_with("/api/");
    if is_api && let Some(refusal) = wrong_body_type(&request) {
        return refusal.into_response();
    }
    let response = next.run(request).await;
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/problem+json") || v.starts_with("application/json")
        });
    if !is_api || is_problem || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let detail = String::from_utf8_lossy(&bytes).trim().to_owned();
    let title = status.canonical_reason().unwrap_or("Error");
    ApiError::new(
        status,
        title,
        if detail.is_empty() {
            title.to_owned()
        } else {
            detail
        },
    )
    .into_response()
}

/// Reads `sort`, `limit` and `cursor`.
pub fn paging(params: &Params, sorts: &[SortColumn]) -> Result<(Sort, Paging), ApiError> {
    paging_from(params, sorts, None)
}

/// Like [`paging`], for a list whose order without `sort` is `default` rather than its first
/// column ascending.
pub fn paging_from(
    params: &Params,
    sorts: &[SortColumn],
    default: Option<Sort>,
) -> Result<(Sort, Paging), ApiError> {
    let searching = params.get("search").is_some_and(|s| !s.trim().is_empty());
    let chosen = params.get("sort").filter(|s| !s.trim().is_empty());
    let sort = match (chosen, default) {
        (None, Some(default)) => default,
        _ => Sort::parse(chosen, sorts, searching).map_err(|m| ApiError::bad_field("sort", m))?,
    };
    let limit = match params.get("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_field(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_PAGE_SIZE}"),
                ));
            }
        },
    };
    let cursor = match params.get("cursor") {
        None => None,
        Some(raw) => {
            Some(Cursor::decode(raw, &sort).map_err(|m| ApiError::bad_field("cursor", m))?)
        }
    };
    Ok((sort, Paging::After { cursor, limit }))
}

/// A `PATCH` body: an RFC 7396 merge patch and the version of the record it starts from.
pub struct MergePatch {
    /// The patch as sent.
    pub body: serde_json::Value,
    /// The version it starts from, which is the record's current one.
    pub version: i64,
}

impl MergePatch {
    /// Reads a patch of `current`, which is at `current_version`. The version comes from
    /// `If-Match`, else from `version` in the body: 428 without either, 409 with `current`
    /// when it is not the current one.
    pub fn read<R: serde::Serialize>(
        headers: &HeaderMap,
        body: &[u8],
        current: &R,
        current_version: i64,
    ) -> Result<Self, ApiError> {
        let body: serde_json::Value = parse_json(body)?;
        let version = expected_version(headers, body_version(&body)?)?
            .ok_or_else(ApiError::precondition_required)?;
        if version != current_version {
            return Err(ApiError::stale(
                serde_json::to_value(current).unwrap_or_default(),
            ));
        }
        Ok(Self { body, version })
    }

    /// `base`, the record as the input type, with the patch applied: keys sent replace,
    /// `null` clears. A field at fault is named.
    pub fn apply<T: DeserializeOwned>(&self, base: impl serde::Serialize) -> Result<T, ApiError> {
        let mut merged = serde_json::to_value(base).unwrap_or_default();
        merge_patch(&mut merged, &self.body);
        from_value(merged)
    }
}

/// Commits a write's transaction, or answers a stale version with 409 and the record as
/// `current` reads it now. Any other failure rolls back.
pub async fn commit_or_stale<T, R: serde::Serialize>(
    tx: kith_store::Tx,
    result: Result<T, kith_store::StoreError>,
    current: impl AsyncFnOnce() -> Result<R, kith_store::StoreError>,
) -> Result<T, ApiError> {
    match result {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(kith_store::StoreError::Stale { .. }) => {
            drop(tx);
            let record = current().await?;
            Err(ApiError::stale(
                serde_json::to_value(record).unwrap_or_default(),
            ))
        }
        Err(other) => Err(other.into()),
    }
}

/// Merges an RFC 7396 JSON merge patch into `target`: keys in the patch replace, `null` clears.
fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    let serde_json::Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = serde_json::Value::Object(Default::default());
    }
    if let serde_json::Value::Object(target_map) = target {
        for (key, value) in patch_map {
            if value.is_null() {
                target_map.insert(key.clone(), serde_json::Value::Null);
            } else {
                merge_patch(
                    target_map
                        .entry(key.clone())
                        .or_insert(serde_json::Value::Null),
                    value,
                );
            }
        }
    }
}

/// Refuses filter or paging parameters the list does not know, so a typo is not silently
/// ignored.
pub fn check_known(params: &Params, known: &[&str]) -> Result<(), ApiError> {
    for key in params.keys() {
        if !known.contains(&key) {
            return Err(ApiError::bad_field(
                key,
                format!("is not a parameter of this list; use {}", known.join(", ")),
            ));
        }
    }
    Ok(())
}

/// The currency a merge patch sets, if it names one: `null` or blank clears it to the
/// workspace's. A value of another type is left for the field checks to refuse.
pub(crate) fn new_currency<'a>(
    patch: &'a serde_json::Value,
    tenant_currency: &'a str,
) -> Option<&'a str> {
    match patch.get("currency")? {
        serde_json::Value::Null => Some(tenant_currency),
        serde_json::Value::String(code) if code.trim().is_empty() => Some(tenant_currency),
        serde_json::Value::String(code) => Some(code.trim()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_replaces_and_clears() {
        let mut target = json!({"name": "Acme", "website": "https://acme.example", "tags": ["a"]});
        merge_patch(&mut target, &json!({"website": null, "tags": ["b", "c"]}));
        assert_eq!(
            target,
            json!({"name": "Acme", "website": null, "tags": ["b", "c"]})
        );
    }

    #[test]
    fn if_match_wins_over_the_body() {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_MATCH, HeaderValue::from_static("W/\"7\""));
        assert_eq!(expected_version(&headers, Some(3)).ok().flatten(), Some(7));
        assert_eq!(
            expected_version(&HeaderMap::new(), Some(3)).ok().flatten(),
            Some(3)
        );
        assert!(
            expected_version(&HeaderMap::new(), None)
                .ok()
                .flatten()
                .is_none()
        );
    }
}
