//! Activity pages: the filtered log, an activity with its complete and reopen actions, and the
//! log and plan forms. The timelines on client, contact and deal pages live in
//! [`super::timeline`].

use super::{Errors, render, render_with, see_other};
use crate::AppState;
use crate::auth::{CurrentUser, Identity};
use crate::error::PageError;
use crate::params::{Params, record_id_in};
use crate::views::{Layout, Pager, SortChoice, sort_choices, url_with};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;
use kith_domain::activity::{ActivityFields, ActivityInput, Schedule, Status};
use kith_domain::picklist::{ListKind, ListValue, PickLists};
use kith_domain::{ActivityId, ContactId, DealId, FieldError, Invalid};
use kith_store::activities::{self, Activity, FollowUp, Viewer};
use kith_store::page::{Paging, Sort, Total};
use kith_store::users::User;
use kith_store::{StoreError, picklists, users};

const PER_PAGE: u64 = 25;

/// The orders of the sort menu: `sort` value and label.
const ORDERS: [(&str, &str); 4] = [
    ("-when", "Newest first"),
    ("when", "Oldest first"),
    ("-created", "Recently added"),
    ("-updated", "Recently updated"),
];

/// One activity as lists, timelines and the home page show it.
pub struct ActivityRow {
    pub id: i64,
    pub subject: String,
    pub activity_type: String,
    /// "18 May 2025, 10:00 CEST", or "due 18 May 2025".
    pub when: String,
    pub status: Status,
    pub client: Option<(i64, String)>,
    pub owner: String,
}

impl ActivityRow {
    pub fn new(activity: &Activity, lists: &PickLists, users: &[User], viewer: &Viewer) -> Self {
        Self {
            id: activity.id,
            subject: activity.subject.clone(),
            activity_type: lists
                .label(Some(activity.type_id))
                .unwrap_or_default()
                .to_owned(),
            when: when(activity.schedule(), viewer.zone),
            status: activity.status(viewer),
            client: activity.client_id.zip(activity.client_name.clone()),
            owner: user_name(users, activity.owner_id),
        }
    }

    /// The CSS class of the status badge.
    pub fn status_class(&self) -> &'static str {
        match self.status {
            Status::Overdue => "warn",
            Status::DueToday => "today",
            Status::Completed => "muted-badge",
            Status::Open | Status::Upcoming => "",
        }
    }
}

/// When an activity takes place, for a reader in `zone`.
pub fn when(schedule: Schedule, zone: Tz) -> String {
    match schedule {
        Schedule::At(at) => crate::views::local_time(&at, zone),
        Schedule::Due(date) => format!("due {}", date.format("%-d %b %Y")),
    }
}

fn user_name(users: &[User], id: Option<i64>) -> String {
    id.and_then(|id| users.iter().find(|u| u.id == id))
        .map(|u| u.name.clone())
        .unwrap_or_default()
}

/// The signed-in user as a viewer of the log.
pub fn viewer(me: &Identity) -> Viewer {
    crate::api::activities::viewer(me)
}

/// The filters as typed, echoed back into the filter form and the page links.
#[derive(Default)]
struct FilterValues {
    search: String,
    activity_type: String,
    owner: String,
    client: String,
    contact: String,
    deal: String,
    status: String,
    from: String,
    to: String,
    sort: String,
}

impl FilterValues {
    fn read(params: &Params) -> Self {
        let text = |key: &str| params.get(key).unwrap_or_default().to_owned();
        Self {
            search: text("search"),
            activity_type: text("type"),
            owner: text("owner"),
            client: text("client"),
            contact: text("contact"),
            deal: text("deal"),
            status: text("status"),
            from: text("from"),
            to: text("to"),
            sort: text("sort"),
        }
    }

    fn any(&self) -> bool {
        [
            &self.search,
            &self.activity_type,
            &self.owner,
            &self.client,
            &self.contact,
            &self.deal,
            &self.status,
            &self.from,
            &self.to,
        ]
        .iter()
        .any(|v| !v.is_empty())
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("search", self.search.clone()),
            ("type", self.activity_type.clone()),
            ("owner", self.owner.clone()),
            ("client", self.client.clone()),
            ("contact", self.contact.clone()),
            ("deal", self.deal.clone()),
            ("status", self.status.clone()),
            ("from", self.from.clone()),
            ("to", self.to.clone()),
            ("sort", self.sort.clone()),
        ]
    }

    fn link(&self, page: u64) -> String {
        let mut pairs = self.pairs();
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        url_with("/crm/activities", &pairs)
    }

    /// This view without one filter, for the "×" on its chip.
    fn without(&self, key: &str) -> String {
        let pairs: Vec<(&str, String)> = self
            .pairs()
            .into_iter()
            .filter(|(k, _)| *k != key)
            .collect();
        url_with("/crm/activities", &pairs)
    }

    /// The link that logs a new activity on the records this view is filtered by.
    fn new_link(&self) -> String {
        url_with(
            "/crm/activities/new",
            &[
                ("client", self.client.clone()),
                ("contact", self.contact.clone()),
                ("deal", self.deal.clone()),
            ],
        )
    }
}

/// A record the list is narrowed to, shown as a removable chip.
struct Chip {
    label: String,
    remove: String,
}

#[derive(Template)]
#[template(path = "activities/list.html")]
struct ListPage {
    layout: Layout,
    filters: FilterValues,
    lists: PickLists,
    users: Vec<User>,
    statuses: [Status; 5],
    chips: Vec<Chip>,
    rows: Vec<ActivityRow>,
    pager: Pager,
    sort_choices: Vec<SortChoice>,
    notice: String,
    my_id: i64,
}

impl ListPage {
    fn types(&self) -> Vec<&ListValue> {
        self.lists.of(ListKind::ActivityType).collect()
    }
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = Params::from_query(query.as_deref());
    let tenant = me.tenant();
    let lists = picklists::load(&state.db, tenant).await?;
    let users = users::list(&state.db, tenant).await?;
    let mut typed = FilterValues::read(&params);
    let viewer = viewer(&me);

    let sort = Sort::parse(params.get("sort"), &activities::SORTS, false)
        .ok()
        .filter(|_| params.get("sort").is_some())
        .unwrap_or_else(activities::default_sort);
    let page = params
        .get("page")
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1);
    let paging = Paging::Numbered {
        page,
        per_page: PER_PAGE,
    };

    let filtered = crate::filters::activities_named(&state, &me, &params, &lists).await;
    let (rows, pager, notice) = match filtered {
        Ok(filter) => {
            let found =
                activities::list(&state.db, tenant, &filter, &viewer, &sort, &paging).await?;
            let rows: Vec<ActivityRow> = found
                .page
                .items
                .iter()
                .map(|a| ActivityRow::new(a, &lists, &users, &viewer))
                .collect();
            let pager = Pager::new(
                "activities",
                page,
                PER_PAGE,
                rows.len(),
                found.page.total,
                found.page.has_more,
                |p| typed.link(p),
            );
            (rows, pager, String::new())
        }
        Err(error) => {
            let pager = Pager::new("activities", 1, PER_PAGE, 0, Total::default(), false, |p| {
                typed.link(p)
            });
            let notice = format!("Filter {}: {}", error.field, error.message);
            (Vec::new(), pager, notice)
        }
    };

    let chips = chips(&state, &me, &mut typed).await?;
    let sort_choices = sort_choices(&ORDERS, "-when", &typed.sort);
    let page = ListPage {
        layout: Layout::new(&me, "activities"),
        filters: typed,
        lists,
        users,
        statuses: Status::ALL,
        chips,
        rows,
        pager,
        sort_choices,
        notice,
        my_id: me.user_id().0,
    };
    render(&page)
}

/// Chips for the client, contact and deal the view is narrowed to, named as the user knows
/// them. An id of nothing in this workspace shows as "unknown", and matches nothing.
/// The client filter's box then shows the client as its picker does: "Name (#12)".
async fn chips(
    state: &AppState,
    me: &Identity,
    typed: &mut FilterValues,
) -> Result<Vec<Chip>, PageError> {
    let tenant = me.tenant();
    let mut chips = Vec::new();
    if let Some(id) = record_id_in(&typed.client) {
        let name = kith_store::clients::get(&state.db, tenant, kith_domain::ClientId(id))
            .await
            .map(|c| c.name)
            .ok();
        if let Some(name) = &name {
            typed.client = format!("{name} (#{id})");
        }
        chips.push(Chip {
            label: format!("Client: {}", name.as_deref().unwrap_or("unknown")),
            remove: typed.without("client"),
        });
    }
    if let Some(id) = record_id_in(&typed.contact) {
        let name = kith_store::contacts::get(&state.db, tenant, ContactId(id))
            .await
            .map(|c| c.display_name())
            .unwrap_or_else(|_| "unknown".into());
        chips.push(Chip {
            label: format!("Contact: {name}"),
            remove: typed.without("contact"),
        });
    }
    if let Some(id) = record_id_in(&typed.deal) {
        let title = kith_store::deals::get(&state.db, tenant, DealId(id))
            .await
            .map(|d| d.title)
            .unwrap_or_else(|_| "unknown".into());
        chips.push(Chip {
            label: format!("Deal: {title}"),
            remove: typed.without("deal"),
        });
    }
    Ok(chips)
}

/// The activity form's values as typed.
#[derive(Default, Clone)]
struct FormValues {
    activity_type: String,
    subject: String,
    /// `YYYY-MM-DDTHH:MM` in the user's zone, as a datetime-local field holds it.
    occurred_at: String,
    due_date: String,
    client: String,
    deal: String,
    contacts: String,
    owner: String,
    duration: String,
    outcome: String,
    follow_up_date: String,
    notes: String,
    completed: bool,
}

impl FormValues {
    fn read(form: &Params) -> Self {
        let text = |key: &str| form.raw(key).unwrap_or_default().to_owned();
        Self {
            activity_type: text("type"),
            subject: text("subject"),
            occurred_at: text("occurred_at"),
            due_date: text("due_date"),
            client: text("client"),
            deal: text("deal"),
            contacts: text("contacts"),
            owner: text("owner"),
            duration: text("duration"),
            outcome: text("outcome"),
            follow_up_date: text("follow_up_date"),
            notes: text("notes"),
            completed: form.get("completed").is_some(),
        }
    }

    async fn from_activity(
        state: &AppState,
        me: &Identity,
        activity: &Activity,
        lists: &PickLists,
        zone: Tz,
    ) -> Result<Self, PageError> {
        let client = match (activity.client_id, &activity.client_name) {
            (Some(id), Some(name)) => format!("{name} (#{id})"),
            _ => String::new(),
        };
        Ok(Self {
            activity_type: lists
                .label(Some(activity.type_id))
                .unwrap_or_default()
                .to_owned(),
            subject: activity.subject.clone(),
            occurred_at: activity
                .occurred_at
                .map(|at| local_input(at, zone))
                .unwrap_or_default(),
            due_date: date_text(activity.due_date),
            client,
            deal: activity.deal_id.map(|d| d.to_string()).unwrap_or_default(),
            contacts: contact_text(state, me, &activity.contact_ids).await?,
            owner: activity.owner_id.map(|o| o.to_string()).unwrap_or_default(),
            duration: activity.duration.map(|d| d.to_string()).unwrap_or_default(),
            outcome: activity.outcome.clone().unwrap_or_default(),
            follow_up_date: date_text(activity.follow_up_date),
            notes: activity.notes.clone().unwrap_or_default(),
            completed: activity.is_completed(),
        })
    }

    /// Checks the form, resolving the client by name and contacts by email or `#id`.
    async fn check(
        &self,
        state: &AppState,
        me: &Identity,
        lists: &PickLists,
    ) -> Result<ActivityFields, Invalid> {
        let mut problems = Vec::new();
        let client = super::clients::resolve_client(state, me, &self.client).await;
        if let Err(message) = &client {
            problems.push(FieldError::new("client", message.clone()));
        }
        let contact_ids = resolve_contacts(state, me, &self.contacts, &mut problems).await;
        let deal_id = match self.deal.trim() {
            "" => None,
            raw => match raw.trim_start_matches('#').parse::<i64>() {
                Ok(id) => Some(id),
                Err(_) => {
                    problems.push(FieldError::new("deal", "must be a deal's number"));
                    None
                }
            },
        };
        let owner_id = match self.owner.trim() {
            "" => None,
            raw => match raw.parse::<i64>() {
                Ok(id) => Some(id),
                Err(_) => {
                    problems.push(FieldError::new("owner", "choose a user from the list"));
                    None
                }
            },
        };
        let optional = |text: &str| Some(text.to_owned()).filter(|t| !t.trim().is_empty());
        let input = ActivityInput {
            activity_type: self.activity_type.clone(),
            subject: self.subject.clone(),
            notes: optional(&self.notes),
            client_id: client.clone().unwrap_or_default(),
            contact_ids,
            deal_id,
            owner_id,
            occurred_at: optional(&self.occurred_at),
            due_date: optional(&self.due_date),
            duration: optional(&self.duration),
            outcome: optional(&self.outcome),
            follow_up_date: optional(&self.follow_up_date),
            completed: Some(self.completed),
        };
        let zone = viewer(me).zone;
        match ActivityFields::parse(&input, lists, zone, Utc::now()) {
            Ok(fields) if problems.is_empty() => Ok(fields),
            Ok(_) => Err(Invalid(problems)),
            Err(mut invalid) => {
                invalid.0.extend(problems);
                Err(invalid)
            }
        }
    }
}

fn date_text(date: Option<NaiveDate>) -> String {
    date.map(|d| d.to_string()).unwrap_or_default()
}

/// An instant as a datetime-local field shows it in `zone`.
fn local_input(at: chrono::DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%Y-%m-%dT%H:%M").to_string()
}

/// Contacts as the form lists them: "Name <email> (#12)", comma-separated.
async fn contact_text(state: &AppState, me: &Identity, ids: &[i64]) -> Result<String, PageError> {
    let mut names = Vec::with_capacity(ids.len());
    for id in ids {
        let contact = kith_store::contacts::get(&state.db, me.tenant(), ContactId(*id)).await?;
        names.push(format!("{} (#{})", contact.display_name(), contact.id));
    }
    Ok(names.join(", "))
}

/// Reads contacts typed as "… (#12)", "#12" or an email, comma-separated.
async fn resolve_contacts(
    state: &AppState,
    me: &Identity,
    text: &str,
    problems: &mut Vec<FieldError>,
) -> Vec<i64> {
    let mut ids = Vec::new();
    for (n, who) in contact_entries(text).iter().map(String::as_str).enumerate() {
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
            Some(id) => ids.push(id),
            None => problems.push(FieldError::new(
                format!("contacts[{n}]"),
                format!("no contact has the email \"{who}\"; type an email or a contact's #id"),
            )),
        }
    }
    ids
}

/// The entries of a contacts field. Commas separate them, except inside a name the form wrote
/// as "Martin King, Jr. (#12)": a piece is a whole entry once it ends with its #id, is an #id
/// or holds an email, and is joined to the next piece otherwise.
fn contact_entries(text: &str) -> Vec<String> {
    let mut entries = Vec::new();
    let mut pending = String::new();
    for piece in text.split(',') {
        if !pending.is_empty() {
            pending.push(',');
        }
        pending.push_str(piece);
        let entry = pending.trim();
        let whole = (entry.ends_with(')') && entry.contains("(#"))
            || entry.starts_with('#')
            || entry.contains('@');
        if whole || entry.is_empty() {
            if !entry.is_empty() {
                entries.push(entry.to_owned());
            }
            pending.clear();
        }
    }
    if !pending.trim().is_empty() {
        entries.push(pending.trim().to_owned());
    }
    entries
}

async fn contact_by_email(state: &AppState, me: &Identity, email: &str) -> Option<i64> {
    let mut tx = state.db.begin().await.ok()?;
    kith_store::contacts::find_by_email(&mut tx, me.tenant(), email)
        .await
        .ok()
        .flatten()
}

#[derive(Template)]
#[template(path = "activities/form.html")]
struct FormPage {
    layout: Layout,
    id: Option<i64>,
    version: i64,
    values: FormValues,
    errors: Errors,
    lists: PickLists,
    users: Vec<User>,
    zone: String,
}

impl FormPage {
    fn types(&self) -> Vec<&ListValue> {
        self.lists.of(ListKind::ActivityType).collect()
    }

    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/crm/activities/{id}"),
            None => "/crm/activities".into(),
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
    Ok(FormPage {
        layout: Layout::new(me, "activities"),
        id,
        version,
        values,
        errors,
        lists: picklists::load(&state.db, me.tenant()).await?,
        users: users::list(&state.db, me.tenant()).await?,
        zone: me.user.time_zone.clone(),
    })
}

/// The form for a new activity: a call logged now and done, by you, on the client, contact or
/// deal of the link. `?plan=1` plans a task for today instead.
pub async fn new(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    me.may_write().map_err(PageError::Forbidden)?;
    let params = Params::from_query(query.as_deref());
    let viewer = viewer(&me);
    let planning = params.get("plan").is_some();
    let mut values = FormValues {
        activity_type: params
            .get("type")
            .unwrap_or(if planning { "Task" } else { "Call" })
            .to_owned(),
        owner: me.user_id().0.to_string(),
        completed: !planning,
        ..Default::default()
    };
    if planning {
        values.due_date = viewer.today.to_string();
    } else {
        values.occurred_at = local_input(Utc::now(), viewer.zone);
    }
    prefill_links(&state, &me, &params, &mut values).await?;
    let page = form_page(&state, &me, None, 0, values, Errors::default()).await?;
    render(&page)
}

/// Fills the client, deal and contact a "Log activity" link names.
async fn prefill_links(
    state: &AppState,
    me: &Identity,
    params: &Params,
    values: &mut FormValues,
) -> Result<(), PageError> {
    let tenant = me.tenant();
    if let Ok(Some(deal)) = params.id("deal")
        && let Ok(deal) = kith_store::deals::get(&state.db, tenant, DealId(deal)).await
    {
        values.deal = deal.id.to_string();
        if let (Some(id), Some(name)) = (deal.client_id, deal.client_name) {
            values.client = format!("{name} (#{id})");
        }
    }
    if let Ok(Some(client)) = params.id("client")
        && let Ok(client) =
            kith_store::clients::get(&state.db, tenant, kith_domain::ClientId(client)).await
    {
        values.client = format!("{} (#{})", client.name, client.id);
    }
    if let Ok(Some(contact)) = params.id("contact")
        && let Ok(contact) = kith_store::contacts::get(&state.db, tenant, ContactId(contact)).await
    {
        values.contacts = format!("{} (#{})", contact.display_name(), contact.id);
        if values.client.is_empty()
            && let Some(client) = contact.client_id
            && let Ok(client) =
                kith_store::clients::get(&state.db, tenant, kith_domain::ClientId(client)).await
        {
            values.client = format!("{} (#{})", client.name, client.id);
        }
    }
    Ok(())
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

    let mut tx = state.db.begin().await?;
    let created = activities::create(&mut tx, me.tenant(), &fields, Some(me.user_id())).await;
    match tx.finish(created).await {
        Ok(id) => Ok(see_other(&format!("/crm/activities/{}", id.0))),
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
    let activity = activities::get(&state.db, me.tenant(), ActivityId(id)).await?;
    me.may_write().map_err(PageError::Forbidden)?;
    let lists = picklists::load(&state.db, me.tenant()).await?;
    let zone = viewer(&me).zone;
    let values = FormValues::from_activity(&state, &me, &activity, &lists, zone).await?;
    let page = form_page(
        &state,
        &me,
        Some(id),
        activity.version,
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
    let current = activities::get(&state.db, me.tenant(), ActivityId(id)).await?;
    me.may_write().map_err(PageError::Forbidden)?;
    let form = Params::parse(&body);
    let version = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or_default();
    let values = FormValues::read(&form);
    let lists = picklists::load(&state.db, me.tenant()).await?;
    if values.occurred_at.trim().is_empty() && values.due_date.trim().is_empty() {
        let cleared = Invalid::one(
            "occurred_at",
            "give the time it takes place or the day it is due; an activity keeps one of them",
        );
        return invalid_form(&state, &me, Some(id), version, values, cleared).await;
    }
    let mut fields = match values.check(&state, &me, &lists).await {
        Ok(fields) => fields,
        Err(invalid) => return invalid_form(&state, &me, Some(id), version, values, invalid).await,
    };
    // The field shows the time to the minute, and a time the clocks repeat reads as its first
    // instance: left as shown, it keeps the instant it showed.
    if let (Some(at), Schedule::At(_)) = (current.occurred_at, fields.schedule)
        && values.occurred_at.trim() == local_input(at, viewer(&me).zone)
    {
        fields.schedule = Schedule::At(at);
    }

    let mut tx = state.db.begin().await?;
    let result = activities::update(
        &mut tx,
        me.tenant(),
        ActivityId(id),
        version,
        &fields,
        Some(me.user_id()),
    )
    .await;
    match tx.finish(result).await {
        Ok(_) => Ok(see_other(&format!("/crm/activities/{id}"))),
        Err(StoreError::Stale { current }) => {
            let stale = Invalid::one(
                "version",
                "Someone else changed this activity while you were editing it. The form shows \
                 your values; save again to keep them over theirs.",
            );
            invalid_form(&state, &me, Some(id), current, values, stale).await
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
    let status = if invalid.message_for("version").is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = form_page(state, me, id, version, values, invalid.into()).await?;
    render_with(status, &page)
}

#[derive(Template)]
#[template(path = "activities/show.html")]
struct ShowPage {
    layout: Layout,
    activity: Activity,
    row: ActivityRow,
    deal: Option<(i64, String)>,
    contacts: Vec<(i64, String)>,
    completed: String,
    follow_up_of: Option<(i64, String)>,
    notes_html: String,
    /// The follow-up its completion scheduled.
    follow_up: Option<(i64, String)>,
    /// The follow-up date the complete form suggests: the activity's own follow-up date, if
    /// set. A follow-up is asked for, never assumed.
    suggested_follow_up: String,
    follow_up_placeholder: String,
    notice: String,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let page = show_page(&state, &me, id, String::new()).await?;
    render(&page)
}

async fn show_page(
    state: &AppState,
    me: &Identity,
    id: i64,
    notice: String,
) -> Result<ShowPage, PageError> {
    let tenant = me.tenant();
    let activity = activities::get(&state.db, tenant, ActivityId(id)).await?;
    let lists = picklists::load(&state.db, tenant).await?;
    let users = users::list(&state.db, tenant).await?;
    let viewer = viewer(me);
    let layout = Layout::new(me, "activities");

    let deal = match activity.deal_id {
        Some(deal) => kith_store::deals::get(&state.db, tenant, DealId(deal))
            .await
            .ok()
            .map(|d| (d.id, d.title)),
        None => None,
    };
    let mut contacts = Vec::with_capacity(activity.contact_ids.len());
    for contact in &activity.contact_ids {
        let person = kith_store::contacts::get(&state.db, tenant, ContactId(*contact)).await?;
        contacts.push((person.id, person.display_name()));
    }
    let completed = match activity.completed_at {
        Some(at) => {
            let by = user_name(&users, activity.completed_by);
            let by = if by.is_empty() {
                String::new()
            } else {
                format!(" by {by}")
            };
            format!("{}{by}", layout.time(&at))
        }
        None => String::new(),
    };
    let follow_up_of = match activity.follow_up_of {
        Some(earlier) => activities::get(&state.db, tenant, ActivityId(earlier))
            .await
            .ok()
            .map(|a| (a.id, a.subject)),
        None => None,
    };
    let follow_up = activities::follow_up_for(&state.db, tenant, ActivityId(id))
        .await?
        .map(|a| (a.id, a.subject));
    // The date the activity was planned with, until a follow-up exists; after a reopen the
    // follow-up stands on its own and the field is empty again.
    let suggested_follow_up = activity
        .follow_up_date
        .filter(|_| follow_up.is_none())
        .map(|d| d.to_string())
        .unwrap_or_default();
    let follow_up_placeholder = kith_domain::activity::follow_up_subject(&activity.subject);
    Ok(ShowPage {
        row: ActivityRow::new(&activity, &lists, &users, &viewer),
        notes_html: activity
            .notes
            .as_deref()
            .map(crate::markdown::render)
            .unwrap_or_default(),
        activity,
        deal,
        contacts,
        completed,
        follow_up_of,
        follow_up,
        suggested_follow_up,
        follow_up_placeholder,
        notice,
        layout,
    })
}

/// Completes an activity from the version shown, scheduling the follow-up when a date is given.
pub async fn complete(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    activities::get(&state.db, me.tenant(), ActivityId(id)).await?;
    me.may_write().map_err(PageError::Forbidden)?;
    let form = Params::parse(&body);
    let version = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or_default();
    let lists = picklists::load(&state.db, me.tenant()).await?;
    let follow_up = match follow_up_from(&form, &lists, viewer(&me).today) {
        Ok(follow_up) => follow_up,
        Err(message) => {
            return refused(&state, &me, id, StatusCode::UNPROCESSABLE_ENTITY, message).await;
        }
    };

    let mut tx = state.db.begin().await?;
    let result = activities::complete(
        &mut tx,
        me.tenant(),
        ActivityId(id),
        version,
        me.user_id(),
        follow_up.as_ref(),
    )
    .await;
    match tx.finish(result).await {
        Ok(done) => {
            let next = done.follow_up.map(|f| f.0).unwrap_or(id);
            Ok(see_other(&format!("/crm/activities/{next}")))
        }
        Err(StoreError::Stale { .. }) => {
            let message = "Someone else changed this activity meanwhile, so it was not completed. \
                           This is how it stands now.";
            refused(&state, &me, id, StatusCode::CONFLICT, message.into()).await
        }
        Err(other) => Err(other.into()),
    }
}

/// The follow-up the complete form asks for: on the date typed, or a number of the user's days
/// from today (its "follow up tomorrow" and "in a week" buttons); none without either.
fn follow_up_from(
    form: &Params,
    lists: &PickLists,
    today: NaiveDate,
) -> Result<Option<FollowUp>, String> {
    // A button pressed says more than a date left in the field.
    let due = match (form.get("follow_up_in"), form.get("follow_up_date")) {
        (None, Some(typed)) => kith_domain::activity::parse_date(Some(typed))
            .map_err(|m| format!("Follow-up date: {m}"))?
            .ok_or("Follow-up date: choose a day")?,
        (Some(days), _) => days
            .parse::<u64>()
            .ok()
            .filter(|d| (1..=366).contains(d))
            .and_then(|d| today.checked_add_days(chrono::Days::new(d)))
            .ok_or("Follow-up: choose a day")?,
        (None, None) => return Ok(None),
    };
    let type_id = kith_domain::activity::follow_up_type(lists)
        .ok_or("The workspace has no activity types; add one under Settings.")?;
    let subject = kith_domain::text::optional_line(
        form.get("follow_up_subject"),
        kith_domain::activity::SUBJECT_MAX,
    )
    .map_err(|m| format!("Follow-up subject {m}"))?;
    Ok(Some(FollowUp {
        due,
        type_id,
        subject,
    }))
}

async fn refused(
    state: &AppState,
    me: &Identity,
    id: i64,
    status: StatusCode,
    notice: String,
) -> Result<Response, PageError> {
    let page = show_page(state, me, id, notice).await?;
    render_with(status, &page)
}

pub async fn reopen(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    activities::get(&state.db, me.tenant(), ActivityId(id)).await?;
    me.may_write().map_err(PageError::Forbidden)?;
    let version = Params::parse(&body)
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or_default();
    let mut tx = state.db.begin().await?;
    let result = activities::reopen(&mut tx, me.tenant(), ActivityId(id), version).await;
    match tx.finish(result).await {
        Ok(_) => Ok(see_other(&format!("/crm/activities/{id}"))),
        Err(StoreError::Stale { .. }) => {
            let message = "Someone else changed this activity meanwhile, so it was not reopened. \
                           This is how it stands now.";
            refused(&state, &me, id, StatusCode::CONFLICT, message.into()).await
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    activities::get(&state.db, me.tenant(), ActivityId(id)).await?;
    me.may_write().map_err(PageError::Forbidden)?;
    let version = Params::parse(&body)
        .get("version")
        .and_then(|v| v.parse::<i64>().ok());
    let mut tx = state.db.begin().await?;
    let deleted = activities::delete(&mut tx, me.tenant(), ActivityId(id), version).await;
    match tx.finish(deleted).await {
        Ok(()) => Ok(see_other("/crm/activities")),
        Err(StoreError::Stale { .. }) => {
            let message = "Someone else changed this activity meanwhile, so it was not deleted. \
                           This is how it stands now.";
            refused(&state, &me, id, StatusCode::CONFLICT, message.into()).await
        }
        Err(other) => Err(other.into()),
    }
}
