//! The HTML pages. Each module holds the handlers of one area; templates live in `templates/`.

pub mod activities;
pub mod calendar;
pub mod clients;
pub mod contacts;
pub mod deal_filters;
pub mod deal_form;
pub mod forecast;
pub mod home;
pub mod login;
pub mod ops;
pub mod pipeline;
pub mod quotes;
pub mod search;
pub mod settings;
pub mod setup;
pub mod stages;
pub mod timeline;

use crate::error::PageError;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

/// Renders a template with status 200.
pub fn render<T: Template>(template: &T) -> Result<Response, PageError> {
    Ok(Html(template.render()?).into_response())
}

/// Renders a template with another status, e.g. 422 for a form with errors.
pub fn render_with<T: Template>(status: StatusCode, template: &T) -> Result<Response, PageError> {
    Ok((status, Html(template.render()?)).into_response())
}

/// After a successful form post: go to `to` with a GET (303).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Form field errors, looked up by field name in templates.
#[derive(Debug, Default, Clone)]
pub struct Errors(pub Vec<kith_domain::FieldError>);

impl Errors {
    pub fn get(&self, field: &str) -> &str {
        self.0
            .iter()
            .find(|e| e.field == field || e.field.starts_with(&format!("{field}[")))
            .map(|e| e.message.as_str())
            .unwrap_or_default()
    }

    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

impl From<kith_domain::Invalid> for Errors {
    fn from(invalid: kith_domain::Invalid) -> Self {
        Errors(invalid.0)
    }
}
