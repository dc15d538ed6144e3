//! Who is asking: sessions (cookie) for the web pages, API tokens (bearer) for scripts, and the
//! CSRF checks that every state-changing request passes.

pub mod limit;
pub mod password;
mod secret;

use crate::AppState;
use crate::error::{ApiError, PageError};
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use kith_domain::{Role, TenantId, UserId};
use kith_store::users::User;
use kith_store::{now, sessions, tokens, users};

pub use secret::{hash_secret, random_secret};

/// The session cookie's name. Its value is `<tenant id>.<secret>`.
pub const SESSION_COOKIE: &str = "kith_session";
/// The form field and header that carry the CSRF token.
pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The largest form body read for its CSRF token.
const FORM_LIMIT: usize = 2 * 1024 * 1024;

/// How a request was authenticated.
#[derive(Debug, Clone)]
pub enum Via {
    Session {
        token_hash: String,
        csrf_token: String,
    },
    Token {
        read_only: bool,
    },
}

/// The signed-in user behind a request.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user: User,
    pub via: Via,
}

impl Identity {
    pub fn tenant(&self) -> TenantId {
        TenantId(self.user.tenant_id)
    }

    pub fn user_id(&self) -> UserId {
        UserId(self.user.id)
    }

    pub fn role(&self) -> Role {
        self.user.role()
    }

    /// The CSRF token to embed in forms (empty for token-authenticated requests).
    pub fn csrf_token(&self) -> &str {
        match &self.via {
            Via::Session { csrf_token, .. } => csrf_token,
            Via::Token { .. } => "",
        }
    }

    /// Refuses viewers and read-only tokens.
    pub fn may_write(&self) -> Result<(), String> {
        if let Via::Token { read_only: true } = self.via {
            return Err("This API token is read-only.".into());
        }
        if !self.role().can_write() {
            return Err(
                "Viewers can look but not change records. Ask an admin for the member role.".into(),
            );
        }
        Ok(())
    }

    /// Refuses everyone but owners and admins.
    pub fn may_administer(&self) -> Result<(), String> {
        self.may_write()?;
        if !self.role().can_administer() {
            return Err("Only owners and admins can change workspace settings and users.".into());
        }
        Ok(())
    }
}

/// The signed-in user of a web page; anyone else is sent to the sign-in page.
pub struct CurrentUser(pub Identity);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Identity>() {
            Some(identity) => Ok(CurrentUser(identity.clone())),
            None => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/")
                    .to_owned();
                Err(PageError::Unauthenticated { next })
            }
        }
    }
}

/// The signed-in user of an API request.
pub struct ApiUser(pub Identity);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Identity>()
            .cloned()
            .map(ApiUser)
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// Middleware: works out who is asking, and refuses state-changing requests that come from
/// another site or, when made with the session cookie, lack the session's CSRF token.
pub async fn identify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    // Public, read-only paths need no identity; skip the session lookup.
    let path = request.uri().path();
    if request.method() == Method::GET
        && (path.starts_with("/assets/") || path == "/healthz" || path == "/readyz")
    {
        return next.run(request).await;
    }
    let is_api = request.uri().path().starts_with("/api/");
    let identity = match resolve(&state, request.headers(), is_api).await {
        Ok(identity) => identity,
        Err(error) => return error.respond(is_api),
    };

    if !is_safe(request.method()) {
        if let Err(error) = check_origin(&state, request.headers()) {
            return error.respond(is_api);
        }
        if let Some(Identity {
            via: Via::Session { csrf_token, .. },
            ..
        }) = &identity
        {
            request = match check_csrf_token(request, csrf_token).await {
                Ok(request) => request,
                Err(error) => return error.respond(is_api),
            };
        }
    }

    if let Some(identity) = identity {
        request.extensions_mut().insert(identity);
    }
    next.run(request).await
}

/// Why a request was turned away before reaching its handler.
enum Refusal {
    BadToken,
    CrossSite,
    MissingCsrf,
    TooLarge,
    Internal(String),
}

impl Refusal {
    fn respond(self, is_api: bool) -> Response {
        let message = match &self {
            Refusal::BadToken => return ApiError::unauthenticated().into_response(),
            Refusal::CrossSite => "This request came from another site, so Kith refused it.",
            Refusal::MissingCsrf => {
                "The form's security token is missing or out of date. Reload the page and try again."
            }
            Refusal::TooLarge => "The form is larger than 2 MB.",
            Refusal::Internal(detail) => {
                tracing::error!(error = %detail, "could not identify the request");
                "Kith could not check who you are. Please try again."
            }
        };
        match (is_api, self) {
            (true, Refusal::Internal(_)) => ApiError::internal("identify".into()).into_response(),
            (true, _) => ApiError::forbidden(message).into_response(),
            (false, Refusal::Internal(d)) => PageError::Internal(d).into_response(),
            (false, _) => PageError::Forbidden(message.into()).into_response(),
        }
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Finds the identity from a bearer token (preferred) or the session cookie.
async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
    is_api: bool,
) -> Result<Option<Identity>, Refusal> {
    // API tokens are for the API only: on the pages (settings included) a token is no sign-in,
    // so a read-only token can never revoke tokens or change a profile there.
    if let Some(value) = headers.get(header::AUTHORIZATION)
        && is_api
    {
        let text = value.to_str().map_err(|_| Refusal::BadToken)?;
        let (scheme, token) = text.split_once(' ').ok_or(Refusal::BadToken)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(Refusal::BadToken);
        }
        return resolve_token(state, token.trim()).await.map(Some);
    }
    let Some(cookie) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some((tenant, secret)) = split_credential(&cookie, '.') else {
        return Ok(None);
    };
    let token_hash = hash_secret(secret);
    let session = sessions::find(&state.db, tenant, &token_hash)
        .await
        .map_err(|e| Refusal::Internal(e.to_string()))?;
    let Some(session) = session else {
        return Ok(None);
    };
    let user = match users::get(&state.db, tenant, UserId(session.user_id)).await {
        Ok(user) => user,
        Err(kith_store::StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(Refusal::Internal(e.to_string())),
    };
    Ok(Some(Identity {
        user,
        via: Via::Session {
            token_hash,
            csrf_token: session.csrf_token,
        },
    }))
}

/// API tokens look like `kith_<tenant id>_<secret>`.
async fn resolve_token(state: &AppState, token: &str) -> Result<Identity, Refusal> {
    let rest = token.strip_prefix("kith_").ok_or(Refusal::BadToken)?;
    let (tenant, secret) = split_credential(rest, '_').ok_or(Refusal::BadToken)?;
    let stored = tokens::authenticate(&state.db, tenant, &hash_secret(secret))
        .await
        .map_err(|e| Refusal::Internal(e.to_string()))?
        .ok_or(Refusal::BadToken)?;
    let user = users::get(&state.db, tenant, UserId(stored.user_id))
        .await
        .map_err(|_| Refusal::BadToken)?;
    Ok(Identity {
        user,
        via: Via::Token {
            read_only: stored.read_only,
        },
    })
}

fn split_credential(value: &str, separator: char) -> Option<(TenantId, &str)> {
    let (tenant, secret) = value.split_once(separator)?;
    let tenant = tenant.parse::<i64>().ok()?;
    (!secret.is_empty()).then_some((TenantId(tenant), secret))
}

/// The value of cookie `name`, if the request sent it.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Refuses a request whose Origin (or, without one, Sec-Fetch-Site) says it came from another
/// site. Clients that send neither (scripts, curl) pass; they still need the CSRF token when
/// they use a session cookie.
fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), Refusal> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let from_base = state
            .config
            .base_url
            .as_deref()
            .map(|b| b.trim_end_matches('/'));
        let same_host = !host.is_empty()
            && (origin == format!("http://{host}") || origin == format!("https://{host}"));
        if same_host || from_base == Some(origin) {
            return Ok(());
        }
        return Err(Refusal::CrossSite);
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("cross-site" | "same-site") => Err(Refusal::CrossSite),
        _ => Ok(()),
    }
}

/// Checks the CSRF token in the `X-CSRF-Token` header or, for urlencoded forms, the
/// `csrf_token` field. The body is read and put back for the handler.
async fn check_csrf_token(request: Request, expected: &str) -> Result<Request, Refusal> {
    if let Some(sent) = request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
    {
        return if same_secret(sent, expected) {
            Ok(request)
        } else {
            Err(Refusal::MissingCsrf)
        };
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(Refusal::MissingCsrf);
    }

    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| Refusal::TooLarge)?;
    let sent = crate::params::Params::parse(&bytes)
        .raw(CSRF_FIELD)
        .map(str::to_owned);
    match sent {
        Some(sent) if same_secret(&sent, expected) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(Refusal::MissingCsrf),
    }
}

fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Starts a session for `user` and returns the `Set-Cookie` value.
pub async fn start_session(state: &AppState, user: &User) -> kith_store::Result<String> {
    let secret = random_secret();
    let csrf_token = random_secret();
    let tenant = TenantId(user.tenant_id);
    let expires_at = now() + Duration::days(state.config.session_days);
    sessions::create(
        &state.db,
        tenant,
        UserId(user.id),
        &hash_secret(&secret),
        &csrf_token,
        expires_at,
    )
    .await?;

    let max_age = state.config.session_days * 24 * 3600;
    Ok(format!(
        "{SESSION_COOKIE}={}.{secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        tenant.0,
        secure(state)
    ))
}

/// Ends the session behind `identity` and returns the `Set-Cookie` value that clears it.
pub async fn end_session(state: &AppState, identity: &Identity) -> kith_store::Result<String> {
    if let Via::Session { token_hash, .. } = &identity.via {
        sessions::delete(&state.db, identity.tenant(), token_hash).await?;
    }
    Ok(format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        secure(state)
    ))
}

fn secure(state: &AppState) -> &'static str {
    match &state.config.base_url {
        Some(url) if url.starts_with("https://") => "; Secure",
        _ => "",
    }
}

/// Creates an API token for `user` and returns it; only its hash is kept.
pub async fn create_api_token(
    db: &kith_store::Db,
    user: &User,
    name: &str,
    read_only: bool,
) -> kith_store::Result<String> {
    let secret = random_secret();
    let tenant = TenantId(user.tenant_id);
    tokens::create(
        db,
        tenant,
        UserId(user.id),
        name,
        &hash_secret(&secret),
        read_only,
        None,
    )
    .await?;
    Ok(format!("kith_{}_{secret}", tenant.0))
}
