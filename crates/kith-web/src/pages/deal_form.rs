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
use kith_domain::contact::ContactType;
use kith_domain::deal::{DealFields, DealInput, RecurringPeriod};
use kith_domain::money::format_amount;
use kith_domain::picklist::{ListKind, PickLists};
use kith_domain::pipeline::today_in;
use kith_domain::{ContactId, DealId, FieldError, Invalid};
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
    /// Contact rows as typed: who ("Name <email> (#12)", an email, or "#12") and their role.
    contacts: Vec<(String, String)>,
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
            contacts: form
                .each("contact")
                .into_iter()
                .zip(form.each("role"))
                .map(|(who, role)| (who.to_owned(), role.to_owned()))
                .collect(),
        }
    }

    fn from_deal(deal: &Deal, lists: &PickLists, contacts: Vec<(String, String)>) -> Self {
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
            contacts,
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
    ) -> Result<DealFields, Invalid> {
        let (contacts, mut problems) = self.resolve_contacts(state, me).await;
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
            owner_id: chosen_id(
                &self.owner,
                "owner",
                "choose a user from the list",
                &mut problems,
            ),
            expected_close: optional(&self.expected_close),
            source: optional(&self.source),
            stage_id: chosen_id(
                &self.stage,
                "stage",
                "choose a stage from the list",
                &mut problems,
            ),
            lost_reason: optional(&self.lost_reason),
            notes: optional(&self.notes),
            contacts,
        };
        let parsed = DealFields::parse(&input, lists, &tenant.currency);
        if let Err(message) = client {
            problems.push(FieldError::new("client", message));
        }
        match parsed {
            Ok(fields) if problems.is_empty() => Ok(fields),
            Ok(_) => Err(Invalid(problems)),
            Err(mut invalid) => {
                invalid.0.extend(problems);
                Err(invalid)
            }
        }
    }

    /// The contact rows that name someone: "… (#12)" from the form, "#12", or an email.
    /// Blank rows are skipped; a row naming nobody of this workspace is an error for its row.
    async fn resolve_contacts(
        &self,
        state: &AppState,
        me: &Identity,
    ) -> (Vec<(i64, String)>, Vec<FieldError>) {
        let mut found = Vec::new();
        let mut problems = Vec::new();
        for (who, role) in &self.contacts {
            let who = who.trim();
            if who.is_empty() {
                continue;
            }
            let field = format!("contacts[{}].contact", found.len() + problems.len());
            let by_id = who
                .strip_suffix(')')
                .and_then(|t| t.rsplit_once("(#"))
                .map(|(_, id)| id)
                .or_else(|| who.strip_prefix('#'))
                .and_then(|id| id.trim().parse::<i64>().ok());
            let id = match by_id {
                Some(id) => Some(id),
                None => contact_by_email(state, me, who).await,
            };
            match id {
                Some(id) => found.push((id, role.clone())),
                None => problems.push(FieldError::new(
                    field,
                    format!("no contact has the email \"{who}\"; type an email or a contact's #id"),
                )),
            }
        }
        (found, problems)
    }
}

/// The id a menu sent: none when blank, an error for the field when it is not a number (a
/// hand-made or stale form), never silently dropped.
fn chosen_id(
    typed: &str,
    field: &str,
    message: &str,
    problems: &mut Vec<FieldError>,
) -> Option<i64> {
    let typed = typed.trim();
    if typed.is_empty() {
        return None;
    }
    match typed.parse() {
        Ok(id) => Some(id),
        Err(_) => {
            problems.push(FieldError::new(field, message));
            None
        }
    }
}

async fn contact_by_email(state: &AppState, me: &Identity, email: &str) -> Option<i64> {
    let mut tx = state.db.begin().await.ok()?;
    kith_store::contacts::find_by_email(&mut tx, me.tenant(), email)
        .await
        .ok()
        .flatten()
}

/// A deal's contacts as form rows.
async fn contact_rows(
    state: &AppState,
    me: &Identity,
    deal: i64,
) -> Result<Vec<(String, String)>, PageError> {
    let people = deals::contacts_of(&state.db, me.tenant(), &[deal])
        .await?
        .remove(&deal)
        .unwrap_or_default();
    let mut rows = Vec::with_capacity(people.len());
    for person in people {
        let contact =
            kith_store::contacts::get(&state.db, me.tenant(), ContactId(person.contact_id)).await?;
        let email = contact
            .email
            .as_deref()
            .map(|e| format!(" <{e}>"))
            .unwrap_or_default();
        rows.push((
            format!("{}{email} (#{})", contact.display_name(), contact.id),
            person.role,
        ));
    }
    Ok(rows)
}

/// Blank contact rows offered beyond those filled in.
const SPARE_CONTACT_ROWS: usize = 2;

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
    roles: Vec<(&'static str, &'static str)>,
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
    let mut values = values;
    values.contacts.retain(|(who, _)| !who.trim().is_empty());
    let spare = (String::new(), "primary".to_owned());
    values
        .contacts
        .extend(std::iter::repeat_n(spare, SPARE_CONTACT_ROWS));
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
        roles: ContactType::ALL
            .iter()
            .map(|t| (t.as_str(), t.label()))
            .collect(),
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
    let fields = match values.check(&state, &me, &lists).await {
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
    let values = FormValues::from_deal(&deal, &lists, contact_rows(&state, &me, id).await?);
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
    let fields = match values.check(&state, &me, &lists).await {
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
            let rows = contact_rows(&state, &me, id).await?;
            let stored = FormValues::from_deal(&current, &lists, rows);
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
