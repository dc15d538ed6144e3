//! What every page shares: the layout's data, time display, URLs, and the request log span.

use crate::auth::Identity;
use askama::Template;
use axum::extract::MatchedPath;
use axum::http::Request;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use kith_store::page::Total;

/// Data for the page frame: navigation, the signed-in user and the CSRF token for forms.
pub struct Layout {
    pub user_name: String,
    pub csrf: String,
    /// Which navigation entry is current: "home", "clients", "contacts", "settings", "search".
    pub nav: &'static str,
    pub can_write: bool,
    pub can_admin: bool,
    pub time_zone: Tz,
    pub css: &'static str,
    pub js: &'static str,
}

impl Layout {
    pub fn new(identity: &Identity, nav: &'static str) -> Self {
        Self {
            user_name: identity.user.name.clone(),
            csrf: identity.csrf_token().to_owned(),
            nav,
            can_write: identity.may_write().is_ok(),
            can_admin: identity.may_administer().is_ok(),
            time_zone: identity.user.time_zone.parse().unwrap_or(Tz::UTC),
            css: crate::assets::CSS_PATH,
            js: crate::assets::HTMX_PATH,
        }
    }

    /// A timestamp in the user's time zone, with the zone in force at that instant.
    pub fn time(&self, at: &DateTime<Utc>) -> String {
        local_time(at, self.time_zone)
    }

    pub fn current(&self, nav: &str) -> &'static str {
        if self.nav == nav { "current" } else { "" }
    }
}

/// A timestamp shown in `zone`, e.g. `18 May 2025, 10:00 CEST`.
pub fn local_time(at: &DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .format("%-d %b %Y, %H:%M %Z")
        .to_string()
}

/// Percent-encodes a value for a URL query.
pub fn url_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Builds `path?key=value&…` from the non-empty pairs.
pub fn url_with(path: &str, pairs: &[(&str, String)]) -> String {
    let query: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url_encode(v)))
        .collect();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// Numbered-page navigation for a list.
pub struct Pager {
    /// What the list holds, e.g. "clients".
    pub noun: &'static str,
    pub first: u64,
    pub last: u64,
    pub total: Total,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `link(page)` gives the URL of a page with the current filters.
    pub fn new(
        noun: &'static str,
        page: u64,
        per_page: u64,
        shown: usize,
        total: Total,
        has_more: bool,
        link: impl Fn(u64) -> String,
    ) -> Self {
        let first = if shown == 0 {
            0
        } else {
            (page - 1) * per_page + 1
        };
        Self {
            noun,
            first,
            last: first + shown as u64 - u64::from(shown > 0),
            total,
            previous: (page > 1).then(|| link(page - 1)),
            next: has_more.then(|| link(page + 1)),
        }
    }
}

/// One entry of a list's sort menu.
pub struct SortChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// A list's sort menu from its orders (`sort` value, label). The default order comes first
/// under a blank value, so the menu sends no sort until the user picks one and a new search
/// gets the search's own default; the other orders follow.
pub fn sort_choices(
    orders: &[(&'static str, &'static str)],
    default: &str,
    chosen: &str,
) -> Vec<SortChoice> {
    let chosen = if chosen == default { "" } else { chosen };
    let default_label = orders
        .iter()
        .find(|(value, _)| *value == default)
        .map_or("Default", |(_, label)| *label);
    let first = SortChoice {
        value: "",
        label: default_label,
        selected: chosen.is_empty(),
    };
    let others = orders
        .iter()
        .filter(|(value, _)| *value != default)
        .map(|&(value, label)| SortChoice {
            value,
            label,
            selected: value == chosen,
        });
    std::iter::once(first).chain(others).collect()
}

/// The page shown for errors.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

/// The log span of one request: method, route pattern and request id. Never the query string
/// or the body, which can hold names and emails.
pub fn request_span<B>(request: &Request<B>) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!("request", method = %request.method(), route = %route, request_id = %request_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn c15_times_use_the_offset_of_their_own_instant() {
        let rome: Tz = "Europe/Rome".parse().expect("zone");
        let may = Utc
            .with_ymd_and_hms(2025, 5, 18, 8, 0, 0)
            .single()
            .expect("valid");
        let december = Utc
            .with_ymd_and_hms(2025, 12, 1, 9, 0, 0)
            .single()
            .expect("valid");
        assert_eq!(local_time(&may, rome), "18 May 2025, 10:00 CEST");
        assert_eq!(local_time(&december, rome), "1 Dec 2025, 10:00 CET");

        // UTC+11 in October: the next day, not the one after.
        let sydney: Tz = "Australia/Sydney".parse().expect("zone");
        let october = Utc
            .with_ymd_and_hms(2025, 10, 28, 15, 30, 0)
            .single()
            .expect("valid");
        assert_eq!(local_time(&october, sydney), "29 Oct 2025, 02:30 AEDT");
    }

    #[test]
    fn urls_keep_only_set_filters() {
        let url = url_with(
            "/crm/clients",
            &[("industry", "Retail & Co".into()), ("tag", String::new())],
        );
        assert_eq!(url, "/crm/clients?industry=Retail+%26+Co");
    }
}
