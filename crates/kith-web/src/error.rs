//! The two error types at the HTTP edge: one renders an HTML page, the other an RFC 9457
//! `application/problem+json` body. Both hide internal failures behind a generic 500 and log
//! each one once.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kith_domain::{FieldError, Invalid};
use kith_store::StoreError;
use serde::Serialize;

/// A failure while serving an HTML page.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("not found")]
    NotFound,
    #[error("not signed in")]
    Unauthenticated { next: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for PageError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => PageError::NotFound,
            StoreError::Invalid(invalid) => PageError::BadRequest(invalid.to_string()),
            StoreError::Stale { .. } => PageError::Conflict(
                "Someone else changed this record while you were editing it.".into(),
            ),
            StoreError::InUse(message) => PageError::Conflict(message),
            StoreError::HoldsDeals(deals) => PageError::Conflict(format!(
                "The stage holds {} deals; choose a stage to move them to.",
                deals.len()
            )),
            other => PageError::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for PageError {
    fn from(err: askama::Error) -> Self {
        PageError::Internal(format!("template: {err}"))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match &self {
            PageError::Unauthenticated { next } => {
                return Redirect::to(&format!("/login?next={}", crate::views::url_encode(next)))
                    .into_response();
            }
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is no such page or record.".to_owned(),
            ),
            PageError::Forbidden(m) => (StatusCode::FORBIDDEN, "Not allowed", m.clone()),
            PageError::Conflict(m) => (StatusCode::CONFLICT, "Changed meanwhile", m.clone()),
            PageError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Cannot do that", m.clone()),
            PageError::TooManyRequests { message, .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "Slow down", message.clone())
            }
            PageError::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Kith could not finish this request. Nothing was changed; please try again."
                        .to_owned(),
                )
            }
        };
        let page = crate::views::ErrorPage {
            title,
            message: &message,
        };
        let body = askama::Template::render(&page).unwrap_or_else(|_| message.clone());
        let mut response = (status, Html(body)).into_response();
        if let PageError::TooManyRequests { retry_after, .. } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        response
    }
}

/// A failure while serving the JSON API, rendered as RFC 9457 problem details.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub title: &'static str,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// For 409 on a stale version: the record as it is now.
    pub current: Option<Box<serde_json::Value>>,
    /// For 409 on deleting a stage that holds deals: those deals, `{"id", "title"}` each.
    pub deals: Option<Box<serde_json::Value>>,
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<ProblemField<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    current: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deals: Option<&'a serde_json::Value>,
}

#[derive(Serialize)]
struct ProblemField<'a> {
    field: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            current: None,
            deals: None,
            retry_after: None,
        }
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is no such record.",
        )
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "Not signed in",
            "Send a valid API token as \"Authorization: Bearer <token>\".",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "Not allowed", detail)
    }

    pub fn invalid(invalid: Invalid) -> Self {
        let detail = match invalid.0.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!("{} fields are invalid", many.len()),
        };
        Self {
            errors: invalid.0,
            ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid input", detail)
        }
    }

    /// A malformed query parameter or body field, named.
    pub fn bad_field(field: &str, message: impl Into<String>) -> Self {
        let invalid = Invalid::one(field, message);
        Self {
            status: StatusCode::BAD_REQUEST,
            title: "Bad request",
            ..Self::invalid(invalid)
        }
    }

    pub fn precondition_required() -> Self {
        Self::new(
            StatusCode::PRECONDITION_REQUIRED,
            "Version required",
            "Send the version you started from: an If-Match header with the record's ETag, or \"version\" in the body.",
        )
    }

    pub fn stale(current: serde_json::Value) -> Self {
        Self {
            current: Some(Box::new(current)),
            ..Self::new(
                StatusCode::CONFLICT,
                "Changed meanwhile",
                "The record was changed since you read it; nothing was saved. \"current\" holds it as it is now.",
            )
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::Invalid(invalid) => ApiError::invalid(invalid),
            StoreError::Stale { current } => ApiError::new(
                StatusCode::CONFLICT,
                "Changed meanwhile",
                format!("The record is now at version {current}; nothing was saved."),
            ),
            StoreError::InUse(message) => ApiError::new(StatusCode::CONFLICT, "In use", message),
            StoreError::HoldsDeals(deals) => {
                let detail = format!(
                    "The stage holds {} deals; nothing was deleted. Send move_to with another stage's id to move them there first.",
                    deals.len()
                );
                let listed: Vec<serde_json::Value> = deals
                    .into_iter()
                    .map(|(id, title)| serde_json::json!({"id": id, "title": title}))
                    .collect();
                Self {
                    deals: Some(Box::new(serde_json::Value::Array(listed))),
                    ..ApiError::new(StatusCode::CONFLICT, "Stage holds deals", detail)
                }
            }
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl ApiError {
    /// "field: message" for the first named field, or the detail: for pages that reuse the
    /// API's parameter checks.
    pub fn field_message(&self) -> String {
        match self.errors.first() {
            Some(error) => format!("{}: {}", error.field, error.message),
            None => self.detail.clone(),
        }
    }

    pub fn internal(detail: String) -> Self {
        tracing::error!(error = %detail, "api request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal error",
            "Kith could not finish this request. Nothing was changed; please try again.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: "about:blank",
            title: self.title,
            status: self.status.as_u16(),
            detail: &self.detail,
            errors: self
                .errors
                .iter()
                .map(|e| ProblemField {
                    field: &e.field,
                    message: &e.message,
                })
                .collect(),
            current: self.current.as_deref(),
            deals: self.deals.as_deref(),
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
