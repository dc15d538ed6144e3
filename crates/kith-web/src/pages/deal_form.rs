//! The deal form: create (`/crm/deals/new`), edit (`/crm/deals/{id}/edit`) and delete.
//!
//! A stage chosen here goes through the same stage-change rule as the board; an edit that
//! meets a newer version shows the saved deal with the user's values beside it, so a second
//! save cannot silently undo someone else's change.

use super::clients::resolve_client;
use super::{Errors, render, render_with, see_other};
use crate::AppState;
use crate::auth::{CurrentUser, Identity};
use crate::error::PageError;
use crate::params::Params;
use crate::views::Layout;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use kith_domain::deal::{DealFields, DealInput, RecurringPeriod};
use kith_domain::money::format_amount;
use kith_domain::picklist::{ListKind, PickLists};
use kith_domain::pipeline::today_in;
use kith_domain::{DealId, FieldError, Invalid};
use kith_store::deals::{self, Deal};
use kith_store::stages::{self, Stage};
use kith_store::users::User;
use kith_store::{StoreError, picklists, tenants, users};

/// The deal form's values as typed.
#[derive(Default, Clone, PartialEq, Eq)]
struct FormValues {
    title: String,
    client: String,
    value: String,
    currency: String,
    recurring_value: String,
    recurring_period: String,
    owner: String,
    expected_close: String,
    source: String,
    stage: String,
    lost_reason: String,
    notes: String,
}

impl FormValues {
    fn read(form: &Params) -> Self {
        let text = |key: &str| form.raw(key).unwrap_or_default().to_owned();
        Self {
            title: text("title"),
            client: text("client"),
            value: text("value"),
            currency: text("currency"),
            recurring_value: text("recurring_value"),
            recurring_period: text("recurring_period"),
            owner: text("owner"),
            expected_close: text("expected_close"),
            source: text("source"),
            stage: text("stage"),
            lost_reason: text("lost_reason"),
            notes: text("notes"),
        }
    }

    fn from_deal(deal: &Deal, lists: &PickLists) -> Self {
        let amount = |minor: i64| format_amount(minor, &deal.currency);
        Self {
            title: deal.title.clone(),
            client: match (&deal.client_id, &deal.client_name) {
                (Some(id), Some(name)) => format!("{name} (#{id})"),
                _ => String::new(),
            },
            value: amount(deal.value),
            currency: deal.currency.clone(),
            recurring_value: deal.recurring_value.map(amount).unwrap_or_default(),
            recurring_period: deal.recurring_period.clone().unwrap_or_default(),
            owner: deal.owner_id.map(|id| id.to_string()).unwrap_or_default(),
            expected_close: deal
                .expected_close
                .map(|d| d.to_string())
                .unwrap_or_default(),
            source: lists.label(deal.source_id).unwrap_or_default().to_owned(),
            stage: deal.stage_id.to_string(),
            lost_reason: deal.lost_reason.clone().unwrap_or_default(),
            notes: deal.notes.clone().unwrap_or_default(),
        }
    }

    fn labelled(&self) -> [(&'static str, &str); 12] {
        [
            ("Title", &self.title),
            ("Client", &self.client),
            ("Value", &self.value),
            ("Currency", &self.currency),
            ("Recurring value", &self.recurring_value),
            ("Recurring period", &self.recurring_period),
            ("Owner", &self.owner),
            ("Expected close", &self.expected_close),
            ("Source", &self.source),
            ("Stage", &self.stage),
            ("Lost reason", &self.lost_reason),
            ("Notes", &self.notes),
        ]
    }

    /// The fields where these values differ from `saved`, with these values.
    fn differences(&self, saved: &FormValues) -> Vec<(&'static str, String)> {
        self.labelled()
            .into_iter()
            .zip(saved.labelled())
            .filter(|((_, mine), (_, theirs))| mine.trim() != theirs.trim())
            .map(|((label, mine), _)| (label, mine.to_owned()))
            .collect()
    }

    /// Checks the values, naming each wrong field; the client is looked up by name.
    async fn check(
        &self,
        state: &AppState,
        me: &Identity,
        lists: &PickLists,
        contacts: Vec<(i64, String)>,
    ) -> Result<DealFields, Invalid> {
        let tenant = tenants::get(&state.db, me.tenant())
            .await
            .map_err(|e| Invalid::one("title", e.to_string()))?;
        let client = resolve_client(state, me, &self.client).await;
        let optional = |text: &str| Some(text.to_owned()).filter(|t| !t.trim().is_empty());
        let input = DealInput {
            title: self.title.clone(),
            client_id: client.clone().unwrap_or_default(),
            value: optional(&self.value),
            recurring_value: optional(&self.recurring_value),
            recurring_period: optional(&self.recurring_period),
            currency: optional(&self.currency),
            owner_id: self.owner.trim().parse().ok(),
            expected_close: optional(&self.expected_close),
            source: optional(&self.source),
            stage_id: self.stage.trim().parse().ok(),
            lost_reason: optional(&self.lost_reason),
            notes: optional(&self.notes),
            contacts,
        };
        let parsed = DealFields::parse(&input, lists, &tenant.currency);
        match (parsed, client) {
            (Ok(fields), Ok(_)) => Ok(fields),
            (Ok(_), Err(message)) => Err(Invalid::one("client", message)),
            (Err(mut invalid), Err(message)) => {
                invalid.0.push(FieldError::new("client", message));
                Err(invalid)
            }
            (Err(invalid), Ok(_)) => Err(invalid),
        }
    }
}

#[derive(Template)]
#[template(path = "pipeline/deal_form.html")]
struct FormPage {
    layout: Layout,
    id: Option<i64>,
    version: i64,
    values: FormValues,
    errors: Errors,
    unsaved: Vec<(&'static str, String)>,
    stages: Vec<Stage>,
    users: Vec<User>,
    sources: Vec<String>,
    periods: Vec<&'static str>,
    currency: String,
}

impl FormPage {
    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/crm/deals/{id}"),
            None => "/crm/deals".to_owned(),
        }
    }
}

async fn form_page(
    state: &AppState,
    me: &Identity,
    id: Option<i64>,
    version: i64,
    values: FormValues,
    errors: Errors,
) -> Result<FormPage, PageError> {
    let tenant = me.tenant();
    let lists = picklists::load(&state.db, tenant).await?;
    Ok(FormPage {
        layout: Layout::new(me, "pipeline"),
        id,
        version,
        values,
        errors,
        unsaved: Vec::new(),
        stages: stages::list(&state.db, tenant).await?,
        users: users::list(&state.db, tenant).await?,
        sources: lists
            .of(ListKind::DealSource)
            .map(|v| v.label.clone())
            .collect(),
        periods: RecurringPeriod::ALL.iter().map(|p| p.as_str()).collect(),
        currency: tenants::get(&state.db, tenant).await?.currency,
    })
}

pub async fn new(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    me.may_write().map_err(PageError::Forbidden)?;
    let params = Params::from_query(query.as_deref());
    let mut values = FormValues {
        owner: me.user_id().0.to_string(),
        ..Default::default()
    };
    if let Some(stage) = params.get("stage") {
        values.stage = stage.to_owned();
    }
    if let Some(client) = params.get("client").and_then(|c| c.parse::<i64>().ok()) {
        let names = kith_store::clients::names(&state.db, me.tenant(), &[client]).await?;
        if let Some(name) = names.get(&client) {
            values.client = format!("{name} (#{client})");
        }
    }
    let page = form_page(&state, &me, None, 0, values, Errors::default()).await?;
    render(&page)
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    body: Bytes,
) -> Result<Response, PageError> {
    me.may_write().map_err(PageError::Forbidden)?;
    let values = FormValues::read(&Params::parse(&body));
    let lists = picklists::load(&state.db, me.tenant()).await?;
    let fields = match values.check(&state, &me, &lists, Vec::new()).await {
        Ok(fields) => fields,
        Err(invalid) => return invalid_form(&state, &me, None, 0, values, invalid).await,
    };

    let today = today_in(&me.user.time_zone, Utc::now());
    let mut tx = state.db.begin().await?;
    let created = deals::create(
        &mut tx,
        me.tenant(),
        &fields,
        Some(me.user_id()),
        today,
        None,
    )
    .await;
    match tx.finish(created).await {
        Ok(id) => Ok(see_other(&format!("/crm/deals/{}", id.0))),
        Err(StoreError::Invalid(invalid)) => {
            invalid_form(&state, &me, None, 0, values, invalid).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn edit(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let deal = deals::get(&state.db, me.tenant(), DealId(id)).await?;
    me.may_write().map_err(PageError::Forbidden)?;
    let lists = picklists::load(&state.db, me.tenant()).await?;
    let values = FormValues::from_deal(&deal, &lists);
    let page = form_page(
        &state,
        &me,
        Some(id),
        deal.version,
        values,
        Errors::default(),
    )
    .await?;
    render(&page)
}

pub async fn update(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    let saved = deals::get(&state.db, me.tenant(), DealId(id)).await?;
    me.may_write().map_err(PageError::Forbidden)?;
    let form = Params::parse(&body);
    let version = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or_default();
    let values = FormValues::read(&form);
    let lists = picklists::load(&state.db, me.tenant()).await?;
    // The form does not edit a deal's contacts; they stay as they are.
    // TODO(#3): contact rows (contact and role) in the deal form; the API edits them today.
    let contacts: Vec<(i64, String)> = deals::contacts_of(&state.db, me.tenant(), &[id])
        .await?
        .remove(&id)
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.contact_id, c.role))
        .collect();
    let fields = match values.check(&state, &me, &lists, contacts).await {
        Ok(fields) => fields,
        Err(invalid) => return invalid_form(&state, &me, Some(id), version, values, invalid).await,
    };

    let today = today_in(&me.user.time_zone, Utc::now());
    let mut tx = state.db.begin().await?;
    let result = deals::update(
        &mut tx,
        me.tenant(),
        DealId(id),
        version,
        &fields,
        Some(me.user_id()),
        today,
        None,
    )
    .await;
    match tx.finish(result).await {
        Ok(_) => Ok(see_other(&format!("/crm/deals/{id}"))),
        Err(StoreError::Stale { .. }) => {
            let current = deals::get(&state.db, me.tenant(), DealId(id)).await?;
            let stored = FormValues::from_deal(&current, &lists);
            let mut page = form_page(
                &state,
                &me,
                Some(id),
                current.version,
                stored.clone(),
                Errors(vec![FieldError::new(
                    "version",
                    "Someone else changed this deal while you were editing it. The form now shows the saved deal; your values are listed above it. Nothing of yours was saved.",
                )]),
            )
            .await?;
            page.unsaved = values.differences(&stored);
            drop(saved);
            render_with(StatusCode::CONFLICT, &page)
        }
        Err(StoreError::Invalid(invalid)) => {
            invalid_form(&state, &me, Some(id), version, values, invalid).await
        }
        Err(other) => Err(other.into()),
    }
}

async fn invalid_form(
    state: &AppState,
    me: &Identity,
    id: Option<i64>,
    version: i64,
    values: FormValues,
    invalid: Invalid,
) -> Result<Response, PageError> {
    let page = form_page(state, me, id, version, values, invalid.into()).await?;
    render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    deals::get(&state.db, me.tenant(), DealId(id)).await?;
    me.may_write().map_err(PageError::Forbidden)?;
    let version = Params::parse(&body)
        .get("version")
        .and_then(|v| v.parse::<i64>().ok());
    let mut tx = state.db.begin().await?;
    let deleted = deals::delete(&mut tx, me.tenant(), DealId(id), version).await;
    tx.finish(deleted).await?;
    Ok(see_other("/crm/pipeline"))
}
