//! The global search page: one box, results grouped by record type.

use super::render;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::params::Params;
use crate::views::{Layout, url_with};
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    query: String,
    results: crate::api::search::Results,
    all_clients: String,
    all_contacts: String,
    all_activities: String,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let params = Params::from_query(raw.as_deref());
    let query = params
        .get("q")
        .or_else(|| params.get("search"))
        .unwrap_or_default()
        .to_owned();
    let results = crate::api::search::run(
        &state,
        me.tenant(),
        &super::activities::viewer(&me),
        &query,
        10,
    )
    .await?;
    let page = SearchPage {
        layout: Layout::new(&me, "search"),
        all_clients: url_with("/crm/clients", &[("search", query.clone())]),
        all_contacts: url_with("/crm/contacts", &[("search", query.clone())]),
        all_activities: url_with("/crm/activities", &[("search", query.clone())]),
        query,
        results,
    };
    render(&page)
}
