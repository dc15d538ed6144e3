//! Contact pages: the filtered list, the profile with consent history, and the forms.

use super::clients::resolve_client;
use super::{Errors, render, render_with, see_other};
use crate::auth::{CurrentUser, Identity};
use crate::error::PageError;
use crate::params::Params;
use crate::views::{Layout, Pager, SortChoice, sort_choices, url_with};
use crate::{AppState, filters};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use kith_domain::contact::{
    Channel, ConsentSource, ContactFields, ContactInput, ContactType, PhoneInput, PreferredChannel,
};
use kith_domain::{ContactId, Invalid};
use kith_store::contacts::{self, Actor, ConsentEvent, Contact, ContactPhone};
use kith_store::page::{Paging, Sort, Total};
use kith_store::users::User;
use kith_store::{StoreError, clients, tenants, users};

const PER_PAGE: u64 = 25;

/// The orders of the sort menu: `sort` value and label.
const ORDERS: [(&str, &str); 4] = [
    ("name", "Last name A–Z"),
    ("-name", "Last name Z–A"),
    ("-created", "Newest first"),
    ("-updated", "Recently updated"),
];
/// Phone rows offered by the form beyond those already stored.
const SPARE_PHONE_ROWS: usize = 2;

#[derive(Default)]
struct FilterValues {
    search: String,
    client: String,
    contact_type: String,
    owner: String,
    tag: String,
    opted_out: String,
    sort: String,
}

impl FilterValues {
    fn read(params: &Params) -> Self {
        Self {
            search: params.get("search").unwrap_or_default().into(),
            client: params.get("client").unwrap_or_default().into(),
            contact_type: params.get("type").unwrap_or_default().into(),
            owner: params.get("owner").unwrap_or_default().into(),
            tag: params.all("tag").join(", "),
            opted_out: params.get("opted_out").unwrap_or_default().into(),
            sort: params.get("sort").unwrap_or_default().into(),
        }
    }

    /// Whether any filter is set (the sort is no filter).
    fn any(&self) -> bool {
        let set = [&self.search, &self.client, &self.owner, &self.tag];
        set.iter().any(|v| !v.is_empty())
            || !self.contact_type.is_empty()
            || !self.opted_out.is_empty()
    }

    fn link(&self, page: u64) -> String {
        let page = if page > 1 {
            page.to_string()
        } else {
            String::new()
        };
        url_with(
            "/crm/contacts",
            &[
                ("search", self.search.clone()),
                ("client", self.client.clone()),
                ("type", self.contact_type.clone()),
                ("owner", self.owner.clone()),
                ("tag", self.tag.clone()),
                ("opted_out", self.opted_out.clone()),
                ("sort", self.sort.clone()),
                ("page", page),
            ],
        )
    }
}

struct ContactRow {
    id: i64,
    name: String,
    title: String,
    client: Option<(i64, String)>,
    email: String,
    phone: String,
    types: String,
    tags: Vec<String>,
    opted_out: String,
}

#[derive(Template)]
#[template(path = "contacts/list.html")]
struct ListPage {
    layout: Layout,
    filters: FilterValues,
    client_name: String,
    users: Vec<User>,
    types: Vec<(&'static str, &'static str)>,
    rows: Vec<ContactRow>,
    pager: Pager,
    sort_choices: Vec<SortChoice>,
    notice: String,
}

fn type_choices() -> Vec<(&'static str, &'static str)> {
    ContactType::ALL
        .iter()
        .map(|t| (t.as_str(), t.label()))
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = Params::from_query(query.as_deref());
    let tenant = me.tenant();
    let users = users::list(&state.db, tenant).await?;
    let typed = FilterValues::read(&params);

    let searching = params.get("search").is_some_and(|s| !s.trim().is_empty());
    let sort = Sort::parse(params.get("sort"), &contacts::SORTS, searching)
        .unwrap_or_else(|_| Sort::default_for(&contacts::SORTS, searching));
    let default_sort = Sort::default_for(&contacts::SORTS, searching).param();
    let page = params
        .get("page")
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1);
    let paging = Paging::Numbered {
        page,
        per_page: PER_PAGE,
    };

    let mut client_name = String::new();
    let (rows, pager, notice) = match filters::contacts(&state.db, tenant, &params).await {
        Ok(filter) => {
            if let Some(client) = filter.client_id {
                client_name = clients::names(&state.db, tenant, &[client])
                    .await?
                    .remove(&client)
                    .unwrap_or_default();
            }
            let found = contacts::list(&state.db, tenant, &filter, &sort, &paging).await?;
            let rows: Vec<ContactRow> = found
                .page
                .items
                .iter()
                .map(|c| row(c, found.phones.get(&c.id), found.tags.get(&c.id)))
                .collect();
            let pager = Pager::new(
                "contacts",
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
            let pager = Pager::new("contacts", 1, PER_PAGE, 0, Total::default(), false, |p| {
                typed.link(p)
            });
            (
                Vec::new(),
                pager,
                format!("Filter {}: {}", error.field, error.message),
            )
        }
    };

    let sort_choices = sort_choices(&ORDERS, &default_sort, &typed.sort);
    let page = ListPage {
        layout: Layout::new(&me, "contacts"),
        filters: typed,
        client_name,
        users,
        types: type_choices(),
        rows,
        pager,
        sort_choices,
        notice,
    };
    render(&page)
}

fn row(c: &Contact, phones: Option<&Vec<ContactPhone>>, tags: Option<&Vec<String>>) -> ContactRow {
    let opted_out: Vec<&str> = Channel::ALL
        .iter()
        .zip(c.opt_outs())
        .filter(|(_, out)| *out)
        .map(|(channel, _)| channel.as_str())
        .collect();
    ContactRow {
        id: c.id,
        name: c.display_name(),
        title: c.title.clone().unwrap_or_default(),
        client: c.client_id.zip(c.client_name.clone()),
        email: c.email.clone().unwrap_or_default(),
        phone: phones
            .and_then(|p| p.first())
            .map(|p| p.raw.clone())
            .unwrap_or_default(),
        types: c.type_list().join(", "),
        tags: tags.cloned().unwrap_or_default(),
        opted_out: opted_out.join(", "),
    }
}

/// The contact form's values as typed.
#[derive(Default, Clone)]
struct FormValues {
    first_name: String,
    last_name: String,
    title: String,
    client: String,
    email: String,
    other_emails: String,
    phones: Vec<(String, String)>,
    types: Vec<String>,
    preferred_channel: String,
    opt_out: [bool; 3],
    tags: String,
    owner: String,
    notes: String,
}

impl FormValues {
    fn read(form: &Params) -> Self {
        let text = |key: &str| form.raw(key).unwrap_or_default().to_owned();
        let labels = form.each("phone_label");
        let numbers = form.each("phone_number");
        let phones = numbers
            .iter()
            .enumerate()
            .map(|(i, number)| {
                (
                    labels.get(i).copied().unwrap_or_default().to_owned(),
                    (*number).to_owned(),
                )
            })
            .collect();
        Self {
            first_name: text("first_name"),
            last_name: text("last_name"),
            title: text("title"),
            client: text("client"),
            email: text("email"),
            other_emails: text("other_emails"),
            phones,
            types: form.each("types").into_iter().map(str::to_owned).collect(),
            preferred_channel: text("preferred_channel"),
            opt_out: [
                form.checked("opt_out_email"),
                form.checked("opt_out_phone"),
                form.checked("opt_out_sms"),
            ],
            tags: text("tags"),
            owner: text("owner"),
            notes: text("notes"),
        }
    }

    fn from_contact(c: &Contact, phones: &[ContactPhone], tags: &[String]) -> Self {
        Self {
            first_name: c.first_name.clone().unwrap_or_default(),
            last_name: c.last_name.clone().unwrap_or_default(),
            title: c.title.clone().unwrap_or_default(),
            client: c
                .client_id
                .zip(c.client_name.clone())
                .map(|(id, name)| format!("{name} (#{id})"))
                .unwrap_or_default(),
            email: c.email.clone().unwrap_or_default(),
            other_emails: c.other_email_list().join("\n"),
            phones: phones
                .iter()
                .map(|p| (p.label.clone(), p.raw.clone()))
                .collect(),
            types: c.type_list().into_iter().map(str::to_owned).collect(),
            preferred_channel: c.preferred_channel.clone(),
            opt_out: c.opt_outs(),
            tags: tags.join(", "),
            owner: c.owner_id.map(|id| id.to_string()).unwrap_or_default(),
            notes: c.notes.clone().unwrap_or_default(),
        }
    }

    async fn parse(&self, state: &AppState, me: &Identity) -> Result<ContactFields, Invalid> {
        let tenant = tenants::get(&state.db, me.tenant())
            .await
            .map_err(|_| Invalid::one("first_name", "workspace not found"))?;
        // Every problem is reported at once: the picker fields first, then the rest.
        let mut problems = Vec::new();
        let client_id = resolve_client(state, me, &self.client)
            .await
            .unwrap_or_else(|m| {
                problems.push(kith_domain::FieldError::new("client", m));
                None
            });
        let owner_id = match self.owner.trim() {
            "" => None,
            raw => raw.parse::<i64>().map(Some).unwrap_or_else(|_| {
                problems.push(kith_domain::FieldError::new(
                    "owner",
                    "choose an owner from the list",
                ));
                None
            }),
        };
        let input = ContactInput {
            first_name: Some(self.first_name.clone()),
            last_name: Some(self.last_name.clone()),
            title: Some(self.title.clone()),
            client_id,
            email: Some(self.email.clone()),
            other_emails: vec![self.other_emails.clone()],
            phones: self
                .phones
                .iter()
                .map(|(label, number)| PhoneInput {
                    label: label.clone(),
                    number: number.clone(),
                })
                .collect(),
            types: self.types.clone(),
            preferred_channel: Some(self.preferred_channel.clone()),
            opt_out: self.opt_out.map(Some),
            tags: vec![self.tags.clone()],
            owner_id,
            notes: Some(self.notes.clone()),
        };
        let parsed = ContactFields::parse(&input, &tenant.default_country);
        if let Err(invalid) = &parsed {
            problems.extend(invalid.0.iter().cloned());
        }
        if !problems.is_empty() {
            return Err(Invalid(problems));
        }
        parsed
    }

    fn labelled(&self) -> Vec<(&'static str, String)> {
        let phones: Vec<String> = self
            .phones
            .iter()
            .filter(|(_, n)| !n.trim().is_empty())
            .map(|(l, n)| format!("{l} {n}").trim().to_owned())
            .collect();
        let opt_outs: Vec<&str> = ["email", "phone", "sms"]
            .into_iter()
            .zip(self.opt_out)
            .filter(|(_, out)| *out)
            .map(|(c, _)| c)
            .collect();
        vec![
            ("First name", self.first_name.clone()),
            ("Last name", self.last_name.clone()),
            ("Job title", self.title.clone()),
            ("Client", self.client.clone()),
            ("Primary email", self.email.clone()),
            ("Other emails", self.other_emails.clone()),
            ("Phones", phones.join(", ")),
            ("Types", self.types.join(", ")),
            ("Preferred channel", self.preferred_channel.clone()),
            ("Opted out of", opt_outs.join(", ")),
            ("Tags", self.tags.clone()),
            ("Owner", self.owner.clone()),
            ("Notes", self.notes.clone()),
        ]
    }

    /// The fields where these values differ from `other`, with these values.
    fn differences(&self, other: &FormValues) -> Vec<(&'static str, String)> {
        self.labelled()
            .into_iter()
            .zip(other.labelled())
            .filter(|((_, mine), (_, theirs))| mine.trim() != theirs.trim())
            .map(|((label, mine), _)| {
                (
                    label,
                    if mine.trim().is_empty() {
                        "(none)".to_owned()
                    } else {
                        mine
                    },
                )
            })
            .collect()
    }

    fn has_type(&self, key: &str) -> bool {
        self.types.iter().any(|t| t == key)
    }

    /// Stored phones plus a few empty rows to add more.
    fn phone_rows(&self) -> Vec<(String, String)> {
        let mut rows: Vec<(String, String)> = self
            .phones
            .iter()
            .filter(|(_, n)| !n.trim().is_empty())
            .cloned()
            .collect();
        rows.extend(std::iter::repeat_n(
            (String::new(), String::new()),
            SPARE_PHONE_ROWS,
        ));
        rows
    }
}

#[derive(Template)]
#[template(path = "contacts/form.html")]
struct FormPage {
    layout: Layout,
    id: Option<i64>,
    version: i64,
    values: FormValues,
    errors: Errors,
    users: Vec<User>,
    types: Vec<(&'static str, &'static str)>,
    channels: Vec<&'static str>,
    /// After a conflict: the values this user typed that differ from the saved record.
    unsaved: Vec<(&'static str, String)>,
}

impl FormPage {
    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/crm/contacts/{id}"),
            None => "/crm/contacts".to_owned(),
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
    let users = users::list(&state.db, me.tenant()).await?;
    let channels = PreferredChannel::ALL.iter().map(|c| c.as_str()).collect();
    Ok(FormPage {
        layout: Layout::new(me, "contacts"),
        id,
        version,
        values,
        errors,
        users,
        types: type_choices(),
        channels,
        unsaved: Vec::new(),
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
        owner: me.user.id.to_string(),
        preferred_channel: "email".into(),
        ..Default::default()
    };
    if let Ok(Some(client)) = params.id("client")
        && let Some(name) = clients::names(&state.db, me.tenant(), &[client])
            .await?
            .remove(&client)
    {
        values.client = format!("{name} (#{client})");
    }
    render(&form_page(&state, &me, None, 0, values, Errors::default()).await?)
}

fn actor(me: &Identity) -> Actor {
    Actor {
        user: Some(me.user_id()),
        source: ConsentSource::User,
    }
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    body: Bytes,
) -> Result<Response, PageError> {
    me.may_write().map_err(PageError::Forbidden)?;
    let values = FormValues::read(&Params::parse(&body));

    let saved = match values.parse(&state, &me).await {
        Ok(fields) => save_new(&state, &me, &fields).await,
        Err(invalid) => Err(StoreError::Invalid(invalid)),
    };
    match saved {
        Ok(id) => Ok(see_other(&format!("/crm/contacts/{}", id.0))),
        Err(StoreError::Invalid(invalid)) => {
            let page = form_page(&state, &me, None, 0, values, invalid.into()).await?;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(other) => Err(other.into()),
    }
}

async fn save_new(
    state: &AppState,
    me: &Identity,
    fields: &ContactFields,
) -> Result<ContactId, StoreError> {
    let mut tx = state.db.begin().await?;
    let id = contacts::create(&mut tx, me.tenant(), fields, actor(me)).await?;
    tx.commit().await?;
    Ok(id)
}

/// One consent event as shown on the contact page.
struct ConsentRow {
    when: String,
    channel: String,
    change: &'static str,
    source: String,
}

#[derive(Template)]
#[template(path = "contacts/show.html")]
struct ShowPage {
    layout: Layout,
    timeline: super::timeline::Timeline,
    contact: Contact,
    phones: Vec<ContactPhone>,
    tags: Vec<String>,
    owner: String,
    consent: Vec<ConsentRow>,
    opt_outs: Vec<(&'static str, bool, String)>,
    /// The notes rendered from Markdown, safe to embed.
    notes_html: String,
    created: String,
    updated: String,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let tenant = me.tenant();
    let contact = contacts::get(&state.db, tenant, ContactId(id)).await?;
    let phones = contacts::phones_of(&state.db, tenant, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    let tags = contacts::tags_of(&state.db, tenant, ContactId(id)).await?;
    let users = users::list(&state.db, tenant).await?;
    let events = contacts::consent_events(&state.db, tenant, ContactId(id)).await?;

    let layout = Layout::new(&me, "contacts");
    let consent = events.iter().map(|e| consent_row(&layout, e)).collect();
    let opt_outs = opt_out_rows(&layout, &contact);
    let owner = contact
        .owner_id
        .and_then(|o| users.iter().find(|u| u.id == o))
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let timeline = super::timeline::of(&state, &me, super::timeline::Subject::Contact(id)).await?;
    let page = ShowPage {
        timeline,
        created: layout.time(&contact.created_at),
        updated: layout.time(&contact.updated_at),
        phones,
        tags,
        owner,
        consent,
        opt_outs,
        notes_html: contact
            .notes
            .as_deref()
            .map(crate::markdown::render)
            .unwrap_or_default(),
        contact,
        layout,
    };
    render(&page)
}

fn consent_row(layout: &Layout, event: &ConsentEvent) -> ConsentRow {
    ConsentRow {
        when: layout.time(&event.occurred_at),
        channel: event.channel.clone(),
        change: if event.opted_out_after {
            "opted out"
        } else {
            "opted in"
        },
        source: event.source.replace('_', " "),
    }
}

fn opt_out_rows(layout: &Layout, c: &Contact) -> Vec<(&'static str, bool, String)> {
    let describe =
        |at: &Option<chrono::DateTime<chrono::Utc>>, source: &Option<String>| match (at, source) {
            (Some(at), Some(source)) => {
                format!("since {} ({})", layout.time(at), source.replace('_', " "))
            }
            _ => String::new(),
        };
    vec![
        (
            "Email",
            c.email_opt_out,
            describe(&c.email_opt_out_at, &c.email_opt_out_source),
        ),
        (
            "Phone",
            c.phone_opt_out,
            describe(&c.phone_opt_out_at, &c.phone_opt_out_source),
        ),
        (
            "SMS",
            c.sms_opt_out,
            describe(&c.sms_opt_out_at, &c.sms_opt_out_source),
        ),
    ]
}

pub async fn edit(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    me.may_write().map_err(PageError::Forbidden)?;
    let contact = contacts::get(&state.db, me.tenant(), ContactId(id)).await?;
    let phones = contacts::phones_of(&state.db, me.tenant(), &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    let tags = contacts::tags_of(&state.db, me.tenant(), ContactId(id)).await?;
    let values = FormValues::from_contact(&contact, &phones, &tags);
    render(
        &form_page(
            &state,
            &me,
            Some(id),
            contact.version,
            values,
            Errors::default(),
        )
        .await?,
    )
}

pub async fn update(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    me.may_write().map_err(PageError::Forbidden)?;
    let form = Params::parse(&body);
    let values = FormValues::read(&form);
    let version = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    contacts::get(&state.db, me.tenant(), ContactId(id)).await?;

    let saved = match values.parse(&state, &me).await {
        Ok(fields) => save_existing(&state, &me, ContactId(id), version, &fields).await,
        Err(invalid) => Err(StoreError::Invalid(invalid)),
    };
    match saved {
        Ok(()) => Ok(see_other(&format!("/crm/contacts/{id}"))),
        Err(StoreError::Invalid(invalid)) => {
            let page = form_page(&state, &me, Some(id), version, values, invalid.into()).await?;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(StoreError::Stale { .. }) => {
            // Show what is saved now, with the user's own values beside it, so that saving
            // again can never silently undo someone else's change (an opt-out, say).
            let contact = contacts::get(&state.db, me.tenant(), ContactId(id)).await?;
            let phones = contacts::phones_of(&state.db, me.tenant(), &[id])
                .await?
                .remove(&id)
                .unwrap_or_default();
            let tags = contacts::tags_of(&state.db, me.tenant(), ContactId(id)).await?;
            let theirs = FormValues::from_contact(&contact, &phones, &tags);
            let stale = Invalid::one(
                "version",
                "Someone else saved this contact while you were editing. The form now shows their \
                 version; your values are listed above it. Nothing of yours was saved.",
            );
            let mut page = form_page(
                &state,
                &me,
                Some(id),
                contact.version,
                theirs.clone(),
                stale.into(),
            )
            .await?;
            page.unsaved = values.differences(&theirs);
            render_with(StatusCode::CONFLICT, &page)
        }
        Err(other) => Err(other.into()),
    }
}

async fn save_existing(
    state: &AppState,
    me: &Identity,
    id: ContactId,
    version: i64,
    fields: &ContactFields,
) -> Result<(), StoreError> {
    let mut tx = state.db.begin().await?;
    contacts::update(&mut tx, me.tenant(), id, version, fields, actor(me)).await?;
    tx.commit().await
}

pub async fn delete(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    me.may_write().map_err(PageError::Forbidden)?;
    let version = Params::parse(&body)
        .get("version")
        .and_then(|v| v.parse::<i64>().ok());
    let mut tx = state.db.begin().await?;
    contacts::delete(&mut tx, me.tenant(), ContactId(id), version).await?;
    tx.commit().await?;
    Ok(see_other("/crm/contacts"))
}
