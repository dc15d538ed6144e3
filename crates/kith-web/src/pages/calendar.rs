//! The private iCalendar feed of a user's open activities, and making or revoking its address
//! under Settings. The feed is read by calendar apps without a session: its secret address is
//! the credential, and revoking it makes the address answer 404.

use super::{Errors, render, see_other};
use crate::AppState;
use crate::auth::{CurrentUser, Identity, hash_secret, random_secret};
use crate::error::PageError;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Duration, Utc};
use icalendar::{Calendar, Component, Event, EventLike};
use kith_domain::picklist::PickLists;
use kith_store::activities::{self, Activity};
use kith_store::{calendar_feeds, picklists};

/// How far back open work still shows: overdue items stay in view for a quarter.
const OVERDUE_DAYS: i64 = 90;
/// The most items a feed lists.
const FEED_LIMIT: u64 = 1000;
/// How long a timed activity without a duration lasts in the calendar.
const DEFAULT_MINUTES: i64 = 30;

/// `GET /calendar/{secret}.ics`: the owner's open activities, timed ones as events at their
/// instant and work due on a day as all-day events.
pub async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(secret) = file.strip_suffix(".ics") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match calendar(&state, secret).await {
        Ok(Some(ics)) => {
            let mut response = ics.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, "calendar feed failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn calendar(state: &AppState, secret: &str) -> kith_store::Result<Option<String>> {
    let Some((tenant, user)) = calendar_feeds::owner_of(&state.db, &hash_secret(secret)).await?
    else {
        return Ok(None);
    };
    let since = Utc::now() - Duration::days(OVERDUE_DAYS);
    let open = activities::open_for(&state.db, tenant, user, since, FEED_LIMIT).await?;
    let lists = picklists::load(&state.db, tenant).await?;

    let mut calendar = Calendar::new();
    calendar
        .properties
        .retain(|property| property.key() != "PRODID");
    calendar.append_property(("PRODID", "-//Kith//Kith CRM//EN"));
    calendar.name("Kith: my follow-ups");
    for activity in &open {
        calendar.push(event(activity, &lists, tenant.0));
    }
    Ok(Some(calendar.done().to_string()))
}

/// One activity as an event. Only the subject, type and client go out: notes stay in Kith.
fn event(activity: &Activity, lists: &PickLists, tenant: i64) -> Event {
    let kind = lists.label(Some(activity.type_id)).unwrap_or("Activity");
    // "Follow-up: Follow-up: …" says nothing more than once.
    let summary = if activity.subject.starts_with(&format!("{kind}:")) {
        activity.subject.clone()
    } else {
        format!("{kind}: {}", activity.subject)
    };
    let mut event = Event::new();
    event
        .uid(&format!("activity-{}-{}@kith", tenant, activity.id))
        .summary(&summary);
    if let Some(client) = &activity.client_name {
        event.description(&format!("Client: {client}"));
    }
    match (activity.occurred_at, activity.due_date) {
        (Some(at), _) => {
            let minutes = activity.duration.map_or(DEFAULT_MINUTES, i64::from);
            event.starts(at);
            // Four-digit years only: an end past 9999 is left out, as a start-only event.
            let end = at + Duration::minutes(minutes);
            if end.year() <= kith_domain::activity::YEAR_MAX {
                event.ends(end);
            }
        }
        (None, Some(day)) => {
            // An all-day event ends, exclusively, on the next day (RFC 5545 §3.6.1).
            event.starts(day);
            if let Some(next) = day.succ_opt() {
                event.ends(next);
            }
        }
        (None, None) => {}
    }
    event.done()
}

/// Makes a new feed address for the signed-in user, ending the old one, and shows it once.
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let secret = random_secret();
    let mut tx = state.db.begin().await?;
    let made =
        calendar_feeds::replace(&mut tx, me.tenant(), me.user_id(), &hash_secret(&secret)).await;
    tx.finish(made).await?;
    tracing::info!(
        tenant_id = me.tenant().0,
        user_id = me.user.id,
        "calendar feed made"
    );

    let mut page = super::settings::page(&state, &me, String::new(), Errors::default()).await?;
    page.new_feed_url = format!("{}/calendar/{secret}.ics", public_base(&state, &headers));
    render(&page)
}

/// Ends the signed-in user's feed.
pub async fn revoke(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> Result<Response, PageError> {
    let mut tx = state.db.begin().await?;
    let revoked = calendar_feeds::revoke(&mut tx, me.tenant(), me.user_id()).await;
    tx.finish(revoked).await?;
    tracing::info!(
        tenant_id = me.tenant().0,
        user_id = me.user.id,
        "calendar feed revoked"
    );
    Ok(see_other("/settings"))
}

/// Where users reach Kith: the configured public URL, or the host this request came to.
fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(base) = &state.config.base_url {
        return base.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    format!("http://{host}")
}

/// When the user's feed was made, for the settings page.
pub async fn made_at(state: &AppState, me: &Identity) -> Result<Option<String>, PageError> {
    let layout = crate::views::Layout::new(me, "settings");
    Ok(
        calendar_feeds::created_at(&state.db, me.tenant(), me.user_id())
            .await?
            .map(|at| layout.time(&at)),
    )
}
