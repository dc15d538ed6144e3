//! The pipeline board (`/crm/pipeline`), moving deals between stages, and the deal page.
//!
//! A move, by drag and drop or by the keyboard-usable form on each card, posts the stage and
//! the version the user saw; the answer is the board again, so both columns' totals follow
//! without a full page load, and a stale move says so and changes nothing.

use super::deal_filters::DealFilterValues;
use super::{render, render_with, see_other};
use crate::api::deals::filter as deal_filter;
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::params::Params;
use crate::views::Layout;
use crate::{AppState, markdown};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use kith_domain::money::{CurrencyTotals, format_money};
use kith_domain::picklist::ListKind;
use kith_domain::pipeline::today_in;
use kith_domain::{DealId, StageId};
use kith_store::deals::{self, Deal};
use kith_store::stages::{self, Stage};
use kith_store::users::User;
use kith_store::{StoreError, picklists, users};
use std::fmt::Write;

/// Cards shown per column; the column's figures always cover every deal.
const CARDS_PER_STAGE: u64 = 25;

struct Card {
    id: i64,
    version: i64,
    stage: i64,
    title: String,
    client: String,
    value: String,
    owner: String,
    expected_close: Option<NaiveDate>,
    close_date: Option<NaiveDate>,
}

struct Column {
    id: i64,
    name: String,
    probability: i32,
    is_won: bool,
    is_lost: bool,
    count: i64,
    /// Per currency: code, total, weighted total, formatted.
    totals: Vec<(String, String, String)>,
    cards: Vec<Card>,
    more: i64,
}

#[derive(Template)]
#[template(path = "pipeline/board.html")]
struct BoardPage {
    layout: Layout,
    filters: DealFilterValues,
    users: Vec<User>,
    sources: Vec<String>,
    stages: Vec<Stage>,
    columns: Vec<Column>,
    query: String,
    notice: String,
    stage_css: String,
}

async fn board_page(
    state: &AppState,
    me: &crate::auth::Identity,
    params: &Params,
    notice: String,
) -> Result<BoardPage, PageError> {
    let tenant = me.tenant();
    let lists = picklists::load(&state.db, tenant).await?;
    let typed = DealFilterValues::read(params);
    let stages = stages::list(&state.db, tenant).await?;
    let users = users::list(&state.db, tenant).await?;
    let sources = lists
        .of(ListKind::DealSource)
        .map(|v| v.label.clone())
        .collect();

    let mut notice = notice;
    let filter = match deal_filter(params, &lists) {
        Ok(filter) => filter,
        Err(error) => {
            notice = error.field_message();
            Default::default()
        }
    };
    let totals = deals::stage_totals(&state.db, tenant, &filter).await?;
    let stage_ids: Vec<i64> = stages.iter().map(|s| s.id).collect();
    let cards = deals::for_board(&state.db, tenant, &filter, &stage_ids, CARDS_PER_STAGE).await?;
    let columns = stages
        .iter()
        .map(|stage| column(stage, &totals, &cards, &users))
        .collect();

    Ok(BoardPage {
        layout: Layout::new(me, "pipeline"),
        query: typed.query(),
        filters: typed,
        users,
        sources,
        stage_css: stage_css_path(&stages),
        stages,
        columns,
        notice,
    })
}

fn column(
    stage: &Stage,
    totals: &[(i64, String, i64, i64, i64)],
    cards: &[Deal],
    users: &[User],
) -> Column {
    let mut by_currency = CurrencyTotals::default();
    for (_, currency, n, value, weighted) in totals.iter().filter(|t| t.0 == stage.id) {
        by_currency.add_many(currency, *n, *value, *weighted);
    }
    let count: i64 = by_currency.iter().map(|(_, t)| t.count).sum();
    let cards: Vec<Card> = cards
        .iter()
        .filter(|d| d.stage_id == stage.id)
        .map(|d| Card {
            id: d.id,
            version: d.version,
            stage: d.stage_id,
            title: d.title.clone(),
            client: d.client_name.clone().unwrap_or_default(),
            value: format_money(d.value, &d.currency),
            owner: users
                .iter()
                .find(|u| Some(u.id) == d.owner_id)
                .map(|u| u.name.clone())
                .unwrap_or_default(),
            expected_close: d.expected_close,
            close_date: d.close_date,
        })
        .collect();
    Column {
        id: stage.id,
        name: stage.name.clone(),
        probability: stage.probability,
        is_won: stage.is_won,
        is_lost: stage.is_lost,
        count,
        totals: by_currency
            .iter()
            .map(|(code, t)| {
                (
                    code.to_owned(),
                    format_money(t.value, code),
                    format_money(t.weighted, code),
                )
            })
            .collect(),
        more: count - cards.len() as i64,
        cards,
    }
}

/// The stylesheet URL carrying the stages' colours; it changes when they do.
fn stage_css_path(stages: &[Stage]) -> String {
    let versions: i64 = stages.iter().map(|s| s.id * 31 + s.version).sum();
    format!("/crm/pipeline/stages.css?v={versions}")
}

pub async fn board(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = Params::from_query(query.as_deref());
    let page = board_page(&state, &me, &params, String::new()).await?;
    render(&page)
}

/// Each stage's colour as a class, so the board needs no inline styles (the CSP forbids them).
pub async fn stage_css(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> Result<Response, PageError> {
    let stages = stages::list(&state.db, me.tenant()).await?;
    let mut css = String::new();
    for stage in &stages {
        // Colours are stored as checked `#rrggbb`; nothing else can reach this text.
        let _ = writeln!(
            css,
            ".stage-{} {{ --stage-color: {}; }}",
            stage.id, stage.color
        );
    }
    let mut response = css.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400"),
    );
    Ok(response)
}

/// Moves a deal to the stage posted, from the version posted. Answers htmx with the board
/// (its columns' figures updated, or a conflict notice and nothing changed), and a plain form
/// post with a redirect back to the board.
pub async fn move_deal(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    me.may_write().map_err(PageError::Forbidden)?;
    let deal = deals::get(&state.db, me.tenant(), DealId(id)).await?;
    let form = Params::parse(&body);
    let back = form.get("return").unwrap_or_default().to_owned();
    let stage = form.get("stage").and_then(|v| v.parse::<i64>().ok());
    let version = form.get("version").and_then(|v| v.parse::<i64>().ok());
    let (Some(stage), Some(version)) = (stage, version) else {
        return Err(PageError::BadRequest(
            "Choose a stage to move the deal to.".into(),
        ));
    };

    let today = today_in(&me.user.time_zone, Utc::now());
    let mut tx = state.db.begin().await?;
    let moved = deals::move_to(
        &mut tx,
        me.tenant(),
        DealId(id),
        version,
        StageId(stage),
        Some(me.user_id()),
        today,
    )
    .await;
    let mut status = StatusCode::CONFLICT;
    let notice = match tx.finish(moved).await {
        Ok(_) => String::new(),
        Err(StoreError::Stale { .. }) => format!(
            "“{}” was changed by someone else meanwhile, so it was not moved. The board shows it as it is now.",
            deal.title
        ),
        Err(StoreError::Invalid(invalid)) => {
            status = StatusCode::UNPROCESSABLE_ENTITY;
            invalid.to_string()
        }
        Err(other) => return Err(other.into()),
    };

    if form.get("return_to") == Some("deal") {
        if notice.is_empty() {
            return Ok(see_other(&format!("/crm/deals/{id}")));
        }
        return Err(PageError::Conflict(notice));
    }
    if headers.get("hx-request").is_none() {
        if notice.is_empty() {
            return Ok(see_other(&format!("/crm/pipeline?{back}")));
        }
        let params = Params::from_query(Some(&back));
        let page = board_page(&state, &me, &params, notice).await?;
        return render_with(status, &page);
    }
    let params = Params::from_query(Some(&back));
    let refused = !notice.is_empty();
    let page = board_page(&state, &me, &params, notice).await?;
    if refused {
        // board.js swaps these in: the board as it is now, with the notice.
        return render_with(status, &page);
    }
    render(&page)
}

struct ContactLine {
    id: i64,
    name: String,
    role: String,
}

#[derive(Template)]
#[template(path = "pipeline/deal.html")]
struct DealPage {
    layout: Layout,
    timeline: super::timeline::Timeline,
    deal: Deal,
    stage: String,
    stages: Vec<Stage>,
    value: String,
    weighted: String,
    recurring: String,
    owner: String,
    source: String,
    contacts: Vec<ContactLine>,
    history: Vec<(String, String, String)>,
    notes: String,
    /// The deal's quotes, and "create quote from deal" (SPEC §5.4).
    quotes: Vec<super::quotes::QuoteLink>,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let tenant = me.tenant();
    let deal = deals::get(&state.db, tenant, DealId(id)).await?;
    let stages = stages::list(&state.db, tenant).await?;
    let lists = picklists::load(&state.db, tenant).await?;
    let users = users::list(&state.db, tenant).await?;
    let layout = Layout::new(&me, "pipeline");

    let people = deals::contacts_of(&state.db, tenant, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    let contact_ids: Vec<i64> = people.iter().map(|c| c.contact_id).collect();
    let mut contacts = Vec::new();
    for person in &people {
        let contact =
            kith_store::contacts::get(&state.db, tenant, kith_domain::ContactId(person.contact_id))
                .await?;
        contacts.push(ContactLine {
            id: contact.id,
            name: contact.display_name(),
            role: person.role.clone(),
        });
    }
    debug_assert_eq!(contacts.len(), contact_ids.len());

    let history = deals::history_of(&state.db, tenant, DealId(id))
        .await?
        .into_iter()
        .map(|change| {
            (
                layout.time(&change.changed_at),
                change.from_stage_name.unwrap_or_default(),
                change.to_stage_name,
            )
        })
        .collect();
    let user_name = |id: Option<i64>| {
        users
            .iter()
            .find(|u| Some(u.id) == id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    let recurring = match (&deal.recurring_value, &deal.recurring_period) {
        (Some(value), Some(period)) => {
            format!("{} {period}", format_money(*value, &deal.currency))
        }
        _ => String::new(),
    };

    let timeline = super::timeline::of(&state, &me, super::timeline::Subject::Deal(id)).await?;
    let page = DealPage {
        timeline,
        stage: stages
            .iter()
            .find(|s| s.id == deal.stage_id)
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        value: format_money(deal.value, &deal.currency),
        weighted: format_money(deal.weighted_value, &deal.currency),
        recurring,
        owner: user_name(deal.owner_id),
        source: lists.label(deal.source_id).unwrap_or_default().to_owned(),
        notes: markdown::render(deal.notes.as_deref().unwrap_or_default()),
        quotes: super::quotes::for_deal(&state, &me, DealId(id)).await?,
        contacts,
        history,
        stages,
        deal,
        layout,
    };
    render(&page)
}
