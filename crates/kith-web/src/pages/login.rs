//! Signing in and out.

use super::render_with;
use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::error::PageError;
use crate::params::Params;
use askama::Template;
use axum::extract::{ConnectInfo, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kith_store::users;
use std::net::SocketAddr;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    email: String,
    next: String,
    error: String,
}

pub async fn form(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    if users::count_all(&state.db).await? == 0 {
        return Ok(Redirect::to("/setup").into_response());
    }
    let params = Params::from_query(query.as_deref());
    let next = safe_next(params.get("next"));
    render_with(
        StatusCode::OK,
        &LoginPage {
            email: String::new(),
            next,
            error: String::new(),
        },
    )
}

pub async fn submit(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, PageError> {
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    let body = axum::body::to_bytes(request.into_body(), 64 * 1024)
        .await
        .map_err(|_| PageError::BadRequest("The form is too large.".into()))?;
    let form = Params::parse(&body);
    let email = form.get("email").unwrap_or_default().to_owned();
    let password = form.raw("password").unwrap_or_default();
    let next = safe_next(form.get("next"));

    if let Err(wait) = state.login_limiter.attempt(&email, address.as_deref()) {
        return Err(PageError::TooManyRequests {
            message: format!("Too many sign-in attempts. Wait {wait} seconds, then try again."),
            retry_after: wait,
        });
    }

    let user = match users::find_for_login(&state.db, &email).await? {
        Some((user, hash)) if auth::password::verify(password, &hash) => Some(user),
        Some(_) => None,
        None => {
            // Same work for an unknown email as for a wrong password.
            auth::password::verify(password, auth::password::decoy_hash());
            None
        }
    };
    let Some(user) = user else {
        let page = LoginPage {
            email,
            next,
            error: "That email and password do not match an account.".into(),
        };
        return render_with(StatusCode::UNAUTHORIZED, &page);
    };

    let cookie = auth::start_session(&state, &user).await?;
    tracing::info!(tenant_id = user.tenant_id, user_id = user.id, "signed in");
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response())
}

pub async fn logout(
    State(state): State<AppState>,
    CurrentUser(identity): CurrentUser,
) -> Result<Response, PageError> {
    let cookie = auth::end_session(&state, &identity).await?;
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}

/// Only local paths are followed after sign-in, so a crafted link cannot send the user away.
/// Browsers drop tabs and new lines from URLs (`/\t/evil.example` becomes `//evil.example`),
/// so any whitespace or control character disqualifies the path.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(
            safe_next(Some("/crm/clients?industry=Retail")),
            "/crm/clients?industry=Retail"
        );
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/");
        assert_eq!(safe_next(Some("/ /evil.example")), "/");
    }
}
