//! Kith's web layer: the HTML pages, the JSON API under `/api/v1`, and the plumbing they share
//! (sign-in, CSRF protection, errors, assets).
//!
//! Handlers stay small: they parse input, call one domain or storage function, and render.

pub mod api;
mod assets;
pub mod auth;
mod chart;
mod error;
mod filters;
mod markdown;
mod pages;
mod params;
mod routes;
mod views;

use kith_store::Db;
use std::sync::Arc;

pub use auth::password;
pub use error::{ApiError, PageError};
pub use routes::{RouteInfo, app, route_table};

/// Settings the web layer needs from the configuration.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The public URL (scheme and host) users reach Kith at, when known. Cookies are marked
    /// Secure when it is https, and it is an accepted origin for form posts.
    pub base_url: Option<String>,
    /// How long a sign-in lasts.
    pub session_days: i64,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            session_days: 14,
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<WebConfig>,
    pub login_limiter: Arc<auth::limit::LoginLimiter>,
}

impl AppState {
    pub fn new(db: Db, config: WebConfig) -> Self {
        Self {
            db,
            config: Arc::new(config),
            login_limiter: Arc::new(auth::limit::LoginLimiter::new()),
        }
    }
}
