//! Client pages: the filtered list, the profile, and the create / edit forms.

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
use kith_domain::client::{ClientFields, ClientInput};
use kith_domain::contact::display_name;
use kith_domain::picklist::{ListKind, ListValue, PickLists};
use kith_domain::{ClientId, Invalid};
use kith_store::clients::{self, Client};
use kith_store::contacts::{self, ContactFilter};
use kith_store::page::{Paging, Sort, Total};
use kith_store::users::User;
use kith_store::{StoreError, picklists, users};

const PER_PAGE: u64 = 25;

/// The orders of the sort menu: `sort` value and label.
const ORDERS: [(&str, &str); 5] = [
    ("name", "Name A–Z"),
    ("-name", "Name Z–A"),
    ("-created", "Newest first"),
    ("created", "Oldest first"),
    ("-updated", "Recently updated"),
];

/// The filters as typed, echoed back into the filter form and the page links.
#[derive(Default)]
struct FilterValues {
    search: String,
    lifecycle: String,
    industry: String,
    client_type: String,
    owner: String,
    tag: String,
    sort: String,
}

impl FilterValues {
    fn read(params: &Params) -> Self {
        Self {
            search: params.get("search").unwrap_or_default().into(),
            lifecycle: params.get("lifecycle").unwrap_or_default().into(),
            industry: params.get("industry").unwrap_or_default().into(),
            client_type: params.get("type").unwrap_or_default().into(),
            owner: params.get("owner").unwrap_or_default().into(),
            tag: params.all("tag").join(", "),
            sort: params.get("sort").unwrap_or_default().into(),
        }
    }

    /// Whether any filter is set (the sort is no filter).
    fn any(&self) -> bool {
        let set = [&self.search, &self.lifecycle, &self.owner, &self.tag];
        set.iter().any(|v| !v.is_empty())
            || !self.industry.is_empty()
            || !self.client_type.is_empty()
    }

    fn link(&self, page: u64) -> String {
        let page = if page > 1 {
            page.to_string()
        } else {
            String::new()
        };
        url_with(
            "/crm/clients",
            &[
                ("search", self.search.clone()),
                ("lifecycle", self.lifecycle.clone()),
                ("industry", self.industry.clone()),
                ("type", self.client_type.clone()),
                ("owner", self.owner.clone()),
                ("tag", self.tag.clone()),
                ("sort", self.sort.clone()),
                ("page", page),
            ],
        )
    }
}

/// One row of the client list.
struct ClientRow {
    id: i64,
    name: String,
    industry: String,
    lifecycle: String,
    client_type: String,
    owner: String,
    tags: Vec<String>,
}

#[derive(Template)]
#[template(path = "clients/list.html")]
struct ListPage {
    layout: Layout,
    filters: FilterValues,
    lists: PickLists,
    users: Vec<User>,
    tags: Vec<(i64, String)>,
    rows: Vec<ClientRow>,
    pager: Pager,
    sort_choices: Vec<SortChoice>,
    notice: String,
}

impl ListPage {
    fn options(&self, kind: &str) -> Vec<&ListValue> {
        ListKind::parse(kind)
            .map(|k| self.lists.of(k).collect())
            .unwrap_or_default()
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
    let filters_typed = FilterValues::read(&params);

    let searching = params.get("search").is_some_and(|s| !s.trim().is_empty());
    let sort = Sort::parse(params.get("sort"), &clients::SORTS, searching)
        .unwrap_or_else(|_| Sort::default_for(&clients::SORTS, searching));
    let default_sort = Sort::default_for(&clients::SORTS, searching).param();
    let page = params
        .get("page")
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1);
    let paging = Paging::Numbered {
        page,
        per_page: PER_PAGE,
    };

    let (rows, pager, notice) = match filters::clients(&state.db, tenant, &lists, &params).await {
        Ok(filter) => {
            let found = clients::list(&state.db, tenant, &filter, &sort, &paging).await?;
            let rows: Vec<ClientRow> = found
                .page
                .items
                .iter()
                .map(|c| ClientRow {
                    id: c.id,
                    name: c.name.clone(),
                    industry: lists.label(c.industry_id).unwrap_or_default().to_owned(),
                    lifecycle: lists.label(c.lifecycle_id).unwrap_or_default().to_owned(),
                    client_type: lists.label(c.type_id).unwrap_or_default().to_owned(),
                    owner: owner_name(&users, c.owner_id),
                    tags: found.tags.get(&c.id).cloned().unwrap_or_default(),
                })
                .collect();
            let pager = Pager::new(
                "clients",
                page,
                PER_PAGE,
                rows.len(),
                found.page.total,
                found.page.has_more,
                |p| filters_typed.link(p),
            );
            (rows, pager, String::new())
        }
        Err(error) => {
            let pager = Pager::new("clients", 1, PER_PAGE, 0, Total::default(), false, |p| {
                filters_typed.link(p)
            });
            (
                Vec::new(),
                pager,
                format!("Filter {}: {}", error.field, error.message),
            )
        }
    };

    let tags = kith_store::tags::all(&state.db, tenant).await?;
    let sort_choices = sort_choices(&ORDERS, &default_sort, &filters_typed.sort);
    let page = ListPage {
        layout: Layout::new(&me, "clients"),
        filters: filters_typed,
        lists,
        users,
        tags,
        rows,
        pager,
        sort_choices,
        notice,
    };
    render(&page)
}

fn owner_name(users: &[User], id: Option<i64>) -> String {
    id.and_then(|id| users.iter().find(|u| u.id == id))
        .map(|u| u.name.clone())
        .unwrap_or_default()
}

/// The client form's values as typed.
#[derive(Default, Clone)]
pub struct FormValues {
    name: String,
    domains: String,
    website: String,
    phone: String,
    address: String,
    client_type: String,
    lifecycle: String,
    industry: String,
    tags: String,
    owner: String,
    parent: String,
    notes: String,
}

impl FormValues {
    fn read(form: &Params) -> Self {
        let text = |key: &str| form.raw(key).unwrap_or_default().to_owned();
        Self {
            name: text("name"),
            domains: text("domains"),
            website: text("website"),
            phone: text("phone"),
            address: text("address"),
            client_type: text("type"),
            lifecycle: text("lifecycle"),
            industry: text("industry"),
            tags: text("tags"),
            owner: text("owner"),
            parent: text("parent"),
            notes: text("notes"),
        }
    }

    fn from_client(
        client: &Client,
        tags: &[String],
        lists: &PickLists,
        parent: Option<(i64, String)>,
    ) -> Self {
        let label = |id| lists.label(id).unwrap_or_default().to_owned();
        Self {
            name: client.name.clone(),
            domains: client.domain_list().join(", "),
            website: client.website.clone().unwrap_or_default(),
            phone: client.phone.clone().unwrap_or_default(),
            address: client.address.clone().unwrap_or_default(),
            client_type: label(client.type_id),
            lifecycle: label(client.lifecycle_id),
            industry: label(client.industry_id),
            tags: tags.join(", "),
            owner: client.owner_id.map(|id| id.to_string()).unwrap_or_default(),
            parent: parent
                .map(|(id, name)| format!("{name} (#{id})"))
                .unwrap_or_default(),
            notes: client.notes.clone().unwrap_or_default(),
        }
    }

    fn labelled(&self) -> [(&'static str, &str); 12] {
        [
            ("Name", &self.name),
            ("Email domains", &self.domains),
            ("Website", &self.website),
            ("Phone", &self.phone),
            ("Address", &self.address),
            ("Type", &self.client_type),
            ("Lifecycle", &self.lifecycle),
            ("Industry", &self.industry),
            ("Tags", &self.tags),
            ("Owner", &self.owner),
            ("Parent client", &self.parent),
            ("Notes", &self.notes),
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
                        "(empty)".to_owned()
                    } else {
                        mine.to_owned()
                    },
                )
            })
            .collect()
    }

    /// Turns the typed values into checked fields; the parent is looked up by name or `(#id)`.
    async fn parse(
        &self,
        state: &AppState,
        me: &Identity,
        lists: &PickLists,
    ) -> Result<ClientFields, Invalid> {
        let tenant = kith_store::tenants::get(&state.db, me.tenant())
            .await
            .map_err(|_| Invalid::one("name", "workspace not found"))?;
        // Every problem is reported at once: the picker fields first, then the rest.
        let mut problems = Vec::new();
        let parent_id = resolve_client(state, me, &self.parent)
            .await
            .unwrap_or_else(|m| {
                problems.push(kith_domain::FieldError::new("parent", m));
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
        let input = ClientInput {
            name: self.name.clone(),
            domains: Some(self.domains.clone()),
            website: Some(self.website.clone()),
            phone: Some(self.phone.clone()),
            address: Some(self.address.clone()),
            client_type: Some(self.client_type.clone()),
            lifecycle: Some(self.lifecycle.clone()),
            industry: Some(self.industry.clone()),
            tags: vec![self.tags.clone()],
            owner_id,
            parent_id,
            notes: Some(self.notes.clone()),
        };
        let parsed = ClientFields::parse(&input, lists, &tenant.default_country);
        if let Err(invalid) = &parsed {
            problems.extend(invalid.0.iter().cloned());
        }
        if !problems.is_empty() {
            return Err(Invalid(problems));
        }
        parsed
    }
}

/// Reads a client picked in a form: `Name (#12)` from the suggestions, or a name that exactly
/// one client has.
pub async fn resolve_client(
    state: &AppState,
    me: &Identity,
    text: &str,
) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Some(id) = text
        .strip_suffix(')')
        .and_then(|t| t.rsplit_once("(#"))
        .and_then(|(_, id)| id.parse::<i64>().ok())
    {
        return Ok(Some(id));
    }
    let ids = clients::ids_named(&state.db, me.tenant(), text)
        .await
        .map_err(|e| e.to_string())?;
    match ids.as_slice() {
        [] => Err(format!("no client is called \"{text}\"")),
        [id] => Ok(Some(*id)),
        _ => Err(format!(
            "several clients are called \"{text}\"; pick one from the suggestions"
        )),
    }
}

#[derive(Template)]
#[template(path = "clients/form.html")]
struct FormPage {
    layout: Layout,
    id: Option<i64>,
    version: i64,
    values: FormValues,
    errors: Errors,
    lists: PickLists,
    users: Vec<User>,
    /// After a conflict: the values this user typed that differ from the saved record.
    unsaved: Vec<(&'static str, String)>,
}

impl FormPage {
    fn options(&self, kind: &str) -> Vec<&ListValue> {
        ListKind::parse(kind)
            .map(|k| self.lists.of(k).collect())
            .unwrap_or_default()
    }

    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/crm/clients/{id}"),
            None => "/crm/clients".to_owned(),
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
    let lists = picklists::load(&state.db, me.tenant()).await?;
    let users = users::list(&state.db, me.tenant()).await?;
    Ok(FormPage {
        layout: Layout::new(me, "clients"),
        id,
        version,
        values,
        errors,
        lists,
        users,
        unsaved: Vec::new(),
    })
}

pub async fn new(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> Result<Response, PageError> {
    me.may_write().map_err(PageError::Forbidden)?;
    let values = FormValues {
        owner: me.user.id.to_string(),
        ..Default::default()
    };
    render(&form_page(&state, &me, None, 0, values, Errors::default()).await?)
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    body: Bytes,
) -> Result<Response, PageError> {
    me.may_write().map_err(PageError::Forbidden)?;
    let values = FormValues::read(&Params::parse(&body));
    let lists = picklists::load(&state.db, me.tenant()).await?;

    let saved = match values.parse(&state, &me, &lists).await {
        Ok(fields) => save_new(&state, &me, &fields).await,
        Err(invalid) => Err(StoreError::Invalid(invalid)),
    };
    match saved {
        Ok(id) => Ok(see_other(&format!("/crm/clients/{}", id.0))),
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
    fields: &ClientFields,
) -> Result<ClientId, StoreError> {
    let mut tx = state.db.begin().await?;
    let id = clients::create(&mut tx, me.tenant(), fields, Some(me.user_id())).await?;
    tx.commit().await?;
    Ok(id)
}

/// One contact row on the client page.
struct ContactRow {
    id: i64,
    /// Channels the contact opted out of, e.g. "email, sms".
    opted_out: String,
    name: String,
    title: String,
    email: String,
    phone: String,
    types: String,
}

#[derive(Template)]
#[template(path = "clients/show.html")]
struct ShowPage {
    layout: Layout,
    timeline: super::timeline::Timeline,
    client: Client,
    industry: String,
    lifecycle: String,
    client_type: String,
    owner: String,
    parent: Option<(i64, String)>,
    children: Vec<(i64, String)>,
    tags: Vec<String>,
    contacts: Vec<ContactRow>,
    contact_total: i64,
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
    let client = clients::get(&state.db, tenant, ClientId(id)).await?;
    let lists = picklists::load(&state.db, tenant).await?;
    let users = users::list(&state.db, tenant).await?;
    let tags = clients::tags_of(&state.db, tenant, ClientId(id)).await?;
    let parent = parent_of(&state, &me, &client).await?;
    let children = clients::children(&state.db, tenant, ClientId(id)).await?;

    let filter = ContactFilter {
        client_id: Some(id),
        ..Default::default()
    };
    let sort = Sort {
        column: contacts::SORTS[0],
        descending: false,
    };
    let found = contacts::list(
        &state.db,
        tenant,
        &filter,
        &sort,
        &Paging::Numbered {
            page: 1,
            per_page: 50,
        },
    )
    .await?;
    let contact_rows = found
        .page
        .items
        .iter()
        .map(|c| ContactRow {
            id: c.id,
            opted_out: ["email", "phone", "sms"]
                .into_iter()
                .zip(c.opt_outs())
                .filter(|(_, out)| *out)
                .map(|(ch, _)| ch)
                .collect::<Vec<_>>()
                .join(", "),
            name: display_name(c.first_name.as_deref(), c.last_name.as_deref()),
            title: c.title.clone().unwrap_or_default(),
            email: c.email.clone().unwrap_or_default(),
            phone: found
                .phones
                .get(&c.id)
                .and_then(|p| p.first())
                .map(|p| p.raw.clone())
                .unwrap_or_default(),
            types: c.type_list().join(", "),
        })
        .collect();

    let layout = Layout::new(&me, "clients");
    let timeline = super::timeline::of(&state, &me, super::timeline::Subject::Client(id)).await?;
    let page = ShowPage {
        timeline,
        industry: lists
            .label(client.industry_id)
            .unwrap_or_default()
            .to_owned(),
        lifecycle: lists
            .label(client.lifecycle_id)
            .unwrap_or_default()
            .to_owned(),
        client_type: lists.label(client.type_id).unwrap_or_default().to_owned(),
        owner: owner_name(&users, client.owner_id),
        created: layout.time(&client.created_at),
        updated: layout.time(&client.updated_at),
        parent,
        children,
        tags,
        contacts: contact_rows,
        contact_total: found.page.total.count,
        notes_html: client
            .notes
            .as_deref()
            .map(crate::markdown::render)
            .unwrap_or_default(),
        client,
        layout,
    };
    render(&page)
}

async fn parent_of(
    state: &AppState,
    me: &Identity,
    client: &Client,
) -> Result<Option<(i64, String)>, PageError> {
    let Some(parent_id) = client.parent_id else {
        return Ok(None);
    };
    let names = clients::names(&state.db, me.tenant(), &[parent_id]).await?;
    Ok(names.get(&parent_id).map(|name| (parent_id, name.clone())))
}

pub async fn edit(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    me.may_write().map_err(PageError::Forbidden)?;
    let client = clients::get(&state.db, me.tenant(), ClientId(id)).await?;
    let tags = clients::tags_of(&state.db, me.tenant(), ClientId(id)).await?;
    let lists = picklists::load(&state.db, me.tenant()).await?;
    let parent = parent_of(&state, &me, &client).await?;
    let values = FormValues::from_client(&client, &tags, &lists, parent);
    render(
        &form_page(
            &state,
            &me,
            Some(id),
            client.version,
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
    let lists = picklists::load(&state.db, me.tenant()).await?;
    // Another tenant's client is a 404 before anything is checked.
    clients::get(&state.db, me.tenant(), ClientId(id)).await?;

    let saved = match values.parse(&state, &me, &lists).await {
        Ok(fields) => save_existing(&state, &me, ClientId(id), version, &fields).await,
        Err(invalid) => Err(StoreError::Invalid(invalid)),
    };
    match saved {
        Ok(()) => Ok(see_other(&format!("/crm/clients/{id}"))),
        Err(StoreError::Invalid(invalid)) => {
            let page = form_page(&state, &me, Some(id), version, values, invalid.into()).await?;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(StoreError::Stale { .. }) => {
            // Show what is saved now, with the user's own values beside it, so that saving
            // again can never silently undo someone else's change.
            let client = clients::get(&state.db, me.tenant(), ClientId(id)).await?;
            let tags = clients::tags_of(&state.db, me.tenant(), ClientId(id)).await?;
            let parent = parent_of(&state, &me, &client).await?;
            let theirs = FormValues::from_client(&client, &tags, &lists, parent);
            let stale = Invalid::one(
                "version",
                "Someone else saved this client while you were editing. The form now shows their \
                 version; your values are listed above it. Nothing of yours was saved.",
            );
            let mut page = form_page(
                &state,
                &me,
                Some(id),
                client.version,
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
    id: ClientId,
    version: i64,
    fields: &ClientFields,
) -> Result<(), StoreError> {
    let mut tx = state.db.begin().await?;
    clients::update(&mut tx, me.tenant(), id, version, fields).await?;
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
    clients::delete(&mut tx, me.tenant(), ClientId(id), version).await?;
    tx.commit().await?;
    Ok(see_other("/crm/clients"))
}

#[derive(Template)]
#[template(path = "clients/options.html")]
struct Options {
    clients: Vec<(i64, String)>,
}

/// Suggestions for a client picker (`<datalist>` options), searched as the user types.
pub async fn options(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = Params::from_query(query.as_deref());
    let typed = ["q", "client", "parent"]
        .iter()
        .find_map(|k| params.get(k))
        .unwrap_or_default();
    let typed = typed.rsplit_once(" (#").map_or(typed, |(name, _)| name);
    let clients = clients::suggest(&state.db, me.tenant(), typed, 15).await?;
    render(&Options { clients })
}
