//! The home page: a short overview of the workspace.

use super::activities::ActivityRow;
use super::render;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::views::{Layout, url_with};
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Days;
use kith_domain::activity::Status;
use kith_domain::money::{CurrencyTotals, format_money};
use kith_store::activities::{self, ActivityFilter};
use kith_store::clients::{self, ClientFilter};
use kith_store::contacts::{self, ContactFilter};
use kith_store::deals::{self, DealFilter};
use kith_store::page::{Paging, Sort, Total};
use kith_store::{picklists, stages, users};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    client_total: i64,
    contact_total: i64,
    recent_clients: Vec<(i64, String, String)>,
    recent_contacts: Vec<(i64, String, String)>,
    /// My open deals per currency: code, count, total, weighted total.
    my_pipeline: Vec<(String, i64, String, String)>,
    my_id: i64,
    follow_ups: Vec<FollowUps>,
}

/// One part of "My follow-ups": my open activities overdue, due today or in the next week.
struct FollowUps {
    title: &'static str,
    key: &'static str,
    rows: Vec<ActivityRow>,
    total: Total,
    /// The whole list, filtered the same way.
    link: String,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> Result<Response, PageError> {
    let tenant = me.tenant();
    let layout = Layout::new(&me, "home");
    let recent = Paging::Numbered {
        page: 1,
        per_page: 5,
    };

    let client_sort = Sort {
        column: clients::SORTS[2],
        descending: true,
    };
    let found_clients = clients::list(
        &state.db,
        tenant,
        &ClientFilter::default(),
        &client_sort,
        &recent,
    )
    .await?;
    let contact_sort = Sort {
        column: contacts::SORTS[2],
        descending: true,
    };
    let found_contacts = contacts::list(
        &state.db,
        tenant,
        &ContactFilter::default(),
        &contact_sort,
        &recent,
    )
    .await?;

    let my_pipeline = my_open_deals(&state, &me).await?;
    let follow_ups = my_follow_ups(&state, &me).await?;
    let page = HomePage {
        follow_ups,
        my_pipeline,
        my_id: me.user_id().0,
        client_total: found_clients.page.total.count,
        contact_total: found_contacts.page.total.count,
        recent_clients: found_clients
            .page
            .items
            .iter()
            .map(|c| (c.id, c.name.clone(), layout.time(&c.updated_at)))
            .collect(),
        recent_contacts: found_contacts
            .page
            .items
            .iter()
            .map(|c| (c.id, c.display_name(), layout.time(&c.updated_at)))
            .collect(),
        layout,
    };
    render(&page)
}

/// Shown per part of "My follow-ups"; the rest are one link away.
const FOLLOW_UPS_SHOWN: u64 = 10;

/// The signed-in user's open activities: overdue, due today, and due in the next 7 days, in
/// their own time zone.
async fn my_follow_ups(
    state: &AppState,
    me: &crate::auth::Identity,
) -> Result<Vec<FollowUps>, PageError> {
    let tenant = me.tenant();
    let viewer = super::activities::viewer(me);
    let lists = picklists::load(&state.db, tenant).await?;
    let people = users::list(&state.db, tenant).await?;
    let week = viewer.today.checked_add_days(Days::new(7));
    let parts = [
        ("Overdue", "overdue", Status::Overdue, None),
        ("Today", "due_today", Status::DueToday, None),
        ("Next 7 days", "upcoming", Status::Upcoming, week),
    ];

    let mut follow_ups = Vec::with_capacity(parts.len());
    for (title, key, status, to) in parts {
        let filter = ActivityFilter {
            owner_id: Some(me.user_id().0),
            status: Some(status),
            to,
            ..Default::default()
        };
        let found = activities::list(
            &state.db,
            tenant,
            &filter,
            &viewer,
            &Sort {
                column: activities::SORTS[0],
                descending: false,
            },
            &Paging::Numbered {
                page: 1,
                per_page: FOLLOW_UPS_SHOWN,
            },
        )
        .await?;
        let mut pairs = vec![
            ("owner", me.user_id().0.to_string()),
            ("status", key.to_owned()),
            ("sort", "when".to_owned()),
        ];
        if let Some(to) = to {
            pairs.push(("to", to.to_string()));
        }
        follow_ups.push(FollowUps {
            title,
            key,
            rows: found
                .page
                .items
                .iter()
                .map(|a| ActivityRow::new(a, &lists, &people, &viewer))
                .collect(),
            total: found.page.total,
            link: url_with("/crm/activities", &pairs),
        });
    }
    Ok(follow_ups)
}

/// The signed-in user's open deals per currency, summed from the board's own figures.
async fn my_open_deals(
    state: &AppState,
    me: &crate::auth::Identity,
) -> Result<Vec<(String, i64, String, String)>, PageError> {
    let open: Vec<i64> = stages::list(&state.db, me.tenant())
        .await?
        .into_iter()
        .filter(|s| !s.is_won && !s.is_lost)
        .map(|s| s.id)
        .collect();
    let filter = DealFilter {
        owner_id: Some(me.user_id().0),
        ..Default::default()
    };
    let mut totals = CurrencyTotals::default();
    for (stage, currency, count, value, weighted) in
        deals::stage_totals(&state.db, me.tenant(), &filter).await?
    {
        if open.contains(&stage) {
            totals.add_many(&currency, count, value, weighted);
        }
    }
    Ok(totals
        .iter()
        .map(|(code, t)| {
            (
                code.to_owned(),
                t.count,
                format_money(t.value, code),
                format_money(t.weighted, code),
            )
        })
        .collect())
}
