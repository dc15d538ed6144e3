//! The home page: a short overview of the workspace.

use super::render;
use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::views::Layout;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use kith_store::clients::{self, ClientFilter};
use kith_store::contacts::{self, ContactFilter};
use kith_store::page::{Paging, Sort};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    client_total: i64,
    contact_total: i64,
    recent_clients: Vec<(i64, String, String)>,
    recent_contacts: Vec<(i64, String, String)>,
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

    // TODO(#4): "My follow-ups" (overdue, today, next 7 days) belongs here once activities exist.
    // TODO(#3): the pipeline summary belongs here once deals exist.
    let page = HomePage {
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
