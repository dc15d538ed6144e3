//! `/api/v1/search`: one query over clients, contacts, deals and activities, grouped by type.

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;
use crate::params::Params;
use axum::Json;
use axum::extract::{RawQuery, State};
use kith_domain::TenantId;
use kith_domain::activity::Schedule;
use kith_domain::money::format_money;
use kith_store::activities::{self, ActivityFilter, Viewer};
use kith_store::clients::{self, ClientFilter};
use kith_store::contacts::{self, ContactFilter};
use kith_store::deals::{self, DealFilter};
use kith_store::page::{Paging, Sort};
use serde::Serialize;
use utoipa::ToSchema;

/// One record found.
#[derive(Debug, Serialize, ToSchema)]
pub struct Hit {
    pub id: i64,
    pub name: String,
    /// A second line: a contact's client and email, a client's domains.
    pub detail: String,
}

/// Search results grouped by record type, each with its total.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Results {
    pub clients: Vec<Hit>,
    pub client_total: i64,
    /// Counting stopped at 1000 matches: at least `client_total` match.
    pub client_total_capped: bool,
    pub contacts: Vec<Hit>,
    pub contact_total: i64,
    /// Counting stopped at 1000 matches: at least `contact_total` match.
    pub contact_total_capped: bool,
    pub deals: Vec<Hit>,
    pub deal_total: i64,
    /// Counting stopped at 1000 matches: at least `deal_total` match.
    pub deal_total_capped: bool,
    /// Activities whose subject, notes or outcome match, newest first.
    pub activities: Vec<Hit>,
    pub activity_total: i64,
    /// Counting stopped at 1000 matches: at least `activity_total` match.
    pub activity_total_capped: bool,
}

/// Runs one search over every searchable record type.
pub async fn run(
    state: &AppState,
    tenant: TenantId,
    viewer: &Viewer,
    query: &str,
    per_type: u64,
) -> kith_store::Result<Results> {
    if query.trim().is_empty() {
        return Ok(Results::default());
    }
    let paging = Paging::Numbered {
        page: 1,
        per_page: per_type,
    };

    let filter = ClientFilter {
        search: Some(query.to_owned()),
        ..Default::default()
    };
    let sort = Sort::default_for(&clients::SORTS, true);
    let found_clients = clients::list(&state.db, tenant, &filter, &sort, &paging).await?;

    let filter = ContactFilter {
        search: Some(query.to_owned()),
        ..Default::default()
    };
    let sort = Sort::default_for(&contacts::SORTS, true);
    let found_contacts = contacts::list(&state.db, tenant, &filter, &sort, &paging).await?;

    let filter = DealFilter {
        search: Some(query.to_owned()),
        ..Default::default()
    };
    let sort = Sort::default_for(&deals::SORTS, true);
    let found_deals = deals::list(&state.db, tenant, &filter, &sort, &paging).await?;

    let filter = ActivityFilter {
        search: Some(query.to_owned()),
        ..Default::default()
    };
    let sort = activities::default_sort();
    let found_activities =
        activities::list(&state.db, tenant, &filter, viewer, &sort, &paging).await?;

    Ok(Results {
        clients: found_clients
            .page
            .items
            .iter()
            .map(|c| Hit {
                id: c.id,
                name: c.name.clone(),
                detail: c.domain_list().join(", "),
            })
            .collect(),
        client_total: found_clients.page.total.count,
        client_total_capped: found_clients.page.total.capped,
        contacts: found_contacts
            .page
            .items
            .iter()
            .map(|c| {
                let parts: Vec<&str> = [c.client_name.as_deref(), c.email.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                Hit {
                    id: c.id,
                    name: c.display_name(),
                    detail: parts.join(" · "),
                }
            })
            .collect(),
        contact_total: found_contacts.page.total.count,
        contact_total_capped: found_contacts.page.total.capped,
        deals: found_deals
            .page
            .items
            .iter()
            .map(|d| Hit {
                id: d.id,
                name: d.title.clone(),
                detail: [
                    d.client_name.clone().unwrap_or_default(),
                    format_money(d.value, &d.currency),
                ]
                .into_iter()
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(" · "),
            })
            .collect(),
        deal_total: found_deals.page.total.count,
        deal_total_capped: found_deals.page.total.capped,
        activities: found_activities
            .page
            .items
            .iter()
            .map(|a| Hit {
                id: a.id,
                name: a.subject.clone(),
                detail: activity_detail(a, viewer),
            })
            .collect(),
        activity_total: found_activities.page.total.count,
        activity_total_capped: found_activities.page.total.capped,
    })
}

/// An activity's client and its day in the viewer's zone.
fn activity_detail(activity: &activities::Activity, viewer: &Viewer) -> String {
    let day = match activity.schedule() {
        Schedule::At(at) => at.with_timezone(&viewer.zone).date_naive(),
        Schedule::Due(date) => date,
    };
    [
        activity.client_name.clone(),
        Some(day.format("%-d %b %Y").to_string()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ")
}

#[utoipa::path(get, path = "/api/v1/search", tag = "search",
    params(("q" = String, Query, description = "Substring to find; ignores case, accents and apostrophes"),
        ("limit" = Option<u64>, Query, description = "Hits per type, 1–50 (default 10)")),
    responses((status = 200, body = Results)))]
pub async fn search(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    RawQuery(query): RawQuery,
) -> Result<Json<Results>, ApiError> {
    let params = Params::from_query(query.as_deref());
    super::check_known(&params, &["q", "limit"])?;
    let q = params
        .get("q")
        .ok_or_else(|| ApiError::bad_field("q", "is required"))?;
    let limit = match params.get("limit") {
        None => 10,
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=50).contains(n))
            .ok_or_else(|| ApiError::bad_field("limit", "must be a whole number from 1 to 50"))?,
    };
    let viewer = super::activities::viewer(&me);
    Ok(Json(run(&state, me.tenant(), &viewer, q, limit).await?))
}
