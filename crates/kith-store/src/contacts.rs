//! Contacts, their phones and their consent history.

use crate::page::{Cursor, Page, Paging, Sort, SortColumn, SortValue, Total};
use crate::search::{Search, Searchable};
use crate::tags::{self, Tagged};
use crate::{Db, Result, StoreError, Tx, now};
use chrono::{DateTime, Utc};
use kith_domain::contact::{Channel, ConsentSource, ContactFields, consent_changes, display_name};
use kith_domain::{ContactId, FieldError, Invalid, TenantId, UserId};
use sea_query::{Expr, ExprTrait, Order, Query, SelectStatement};
use std::collections::HashMap;

/// A stored contact, with its client's name.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Contact {
    pub id: i64,
    pub client_id: Option<i64>,
    pub client_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name_sort: String,
    pub title: Option<String>,
    pub email: Option<String>,
    pub other_emails: Option<String>,
    pub types: String,
    pub preferred_channel: String,
    pub email_opt_out: bool,
    pub email_opt_out_at: Option<DateTime<Utc>>,
    pub email_opt_out_source: Option<String>,
    pub phone_opt_out: bool,
    pub phone_opt_out_at: Option<DateTime<Utc>>,
    pub phone_opt_out_source: Option<String>,
    pub sms_opt_out: bool,
    pub sms_opt_out_at: Option<DateTime<Utc>>,
    pub sms_opt_out_source: Option<String>,
    pub owner_id: Option<i64>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Contact {
    pub fn display_name(&self) -> String {
        display_name(self.first_name.as_deref(), self.last_name.as_deref())
    }

    pub fn type_list(&self) -> Vec<&str> {
        self.types.split(',').filter(|t| !t.is_empty()).collect()
    }

    pub fn other_email_list(&self) -> Vec<&str> {
        self.other_emails
            .as_deref()
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.is_empty())
            .collect()
    }

    /// Opt-out state per channel, in [`Channel::ALL`] order.
    pub fn opt_outs(&self) -> [bool; 3] {
        [self.email_opt_out, self.phone_opt_out, self.sms_opt_out]
    }

    fn sort_value(&self, sort: &Sort) -> String {
        match sort.column.name {
            "created" => self.id.to_string(),
            "updated" => Cursor::time_value(self.updated_at),
            _ => self.name_sort.clone(),
        }
    }
}

/// A stored phone number of a contact.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ContactPhone {
    pub contact_id: i64,
    pub label: String,
    pub raw: String,
    pub e164: Option<String>,
}

/// A recorded change of consent.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsentEvent {
    pub id: i64,
    pub channel: String,
    pub opted_out_before: bool,
    pub opted_out_after: bool,
    pub source: String,
    pub user_id: Option<i64>,
    pub occurred_at: DateTime<Utc>,
}

const COLUMNS: [&str; 24] = [
    "id",
    "client_id",
    "first_name",
    "last_name",
    "name_sort",
    "title",
    "email",
    "other_emails",
    "types",
    "preferred_channel",
    "email_opt_out",
    "email_opt_out_at",
    "email_opt_out_source",
    "phone_opt_out",
    "phone_opt_out_at",
    "phone_opt_out_source",
    "sms_opt_out",
    "sms_opt_out_at",
    "sms_opt_out_source",
    "owner_id",
    "notes",
    "created_at",
    "updated_at",
    "version",
];

/// The orders a contact list can take; the first is the default.
pub const SORTS: [SortColumn; 3] = [
    SortColumn {
        name: "name",
        table: "contacts",
        column: "name_sort",
        kind: SortValue::Text,
    },
    SortColumn {
        name: "created",
        table: "contacts",
        column: "id",
        kind: SortValue::Id,
    },
    SortColumn {
        name: "updated",
        table: "contacts",
        column: "updated_at",
        kind: SortValue::Time,
    },
];

/// Filters of the contact list, combined with AND; tags within `tag_ids` with OR.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactFilter {
    pub search: Option<String>,
    pub client_id: Option<i64>,
    pub contact_type: Option<String>,
    pub owner_id: Option<i64>,
    pub tag_ids: Option<Vec<i64>>,
    /// Only contacts opted out of this channel.
    pub opted_out: Option<Channel>,
}

/// One page of contacts, with their tags and phones.
pub struct ContactPage {
    pub page: Page<Contact>,
    pub tags: HashMap<i64, Vec<String>>,
    pub phones: HashMap<i64, Vec<ContactPhone>>,
    pub next_cursor: Option<String>,
}

/// Contacts of `tenant`, joined to their client's name.
fn scoped(tenant: TenantId) -> SelectStatement {
    Query::select()
        .from("contacts")
        .left_join(
            "clients",
            Expr::col(("clients", "tenant_id"))
                .equals(("contacts", "tenant_id"))
                .and(Expr::col(("clients", "id")).equals(("contacts", "client_id"))),
        )
        .and_where(Expr::col(("contacts", "tenant_id")).eq(tenant.0))
        .to_owned()
}

fn select_columns(query: &mut SelectStatement) {
    query
        .columns(COLUMNS.map(|c| ("contacts", c)))
        .expr_as(Expr::col(("clients", "name")), "client_name");
}

fn apply_filter(query: &mut SelectStatement, tenant: TenantId, filter: &ContactFilter) {
    if let Some(client) = filter.client_id {
        query.and_where(Expr::col(("contacts", "client_id")).eq(client));
    }
    if let Some(owner) = filter.owner_id {
        query.and_where(Expr::col(("contacts", "owner_id")).eq(owner));
    }
    if let Some(contact_type) = &filter.contact_type {
        query.and_where(Expr::col(("contacts", "types")).like(format!("%,{contact_type},%")));
    }
    if let Some(channel) = filter.opted_out {
        let column = format!("{}_opt_out", channel.as_str());
        query.and_where(Expr::col(("contacts", sea_query::Alias::new(column))).eq(true));
    }
    if let Some(tag_ids) = &filter.tag_ids {
        let tagged = Query::select()
            .column("contact_id")
            .from("contact_tags")
            .and_where(Expr::col("tenant_id").eq(tenant.0))
            .and_where(Expr::col("tag_id").is_in(tag_ids.iter().copied()))
            .to_owned();
        query.and_where(Expr::col(("contacts", "id")).in_subquery(tagged));
    }
}

/// Lists contacts matching `filter`, in `sort` order, one page at a time.
pub async fn list(
    db: &Db,
    tenant: TenantId,
    filter: &ContactFilter,
    sort: &Sort,
    paging: &Paging,
) -> Result<ContactPage> {
    let search = Search::new(db.backend(), Searchable::Contacts, filter.search.as_deref());

    let mut matching = Query::select()
        .from("contacts")
        .and_where(Expr::col(("contacts", "tenant_id")).eq(tenant.0))
        .to_owned();
    apply_filter(&mut matching, tenant, filter);
    let found = match &search {
        Some(search) => Some(search.find(db, &matching).await?),
        None => None,
    };
    let total = match &found {
        Some(found) => found.total,
        None => Total::count(db, &matching).await?,
    };

    // Without the client join: the database would join every match before sorting them.
    // The page's client names come after, in one lookup.
    let mut query = matching;
    query
        .columns(COLUMNS.map(|c| ("contacts", c)))
        .expr_as(Expr::cust("CAST(NULL AS TEXT)"), "client_name");
    let mut rows: Vec<Contact> = match (&search, &found) {
        (Some(search), Some(found)) => search.fetch_page(db, found, sort, paging, query).await?,
        _ => {
            sort.apply(&mut query);
            paging.apply(sort, &mut query);
            db.fetch_all(&query).await?
        }
    };
    let client_ids: Vec<i64> = rows.iter().filter_map(|c| c.client_id).collect();
    let client_names = crate::clients::names(db, tenant, &client_ids).await?;
    for row in &mut rows {
        row.client_name = row.client_id.and_then(|id| client_names.get(&id).cloned());
    }
    let page = Page::from_probe(rows, paging.limit(), total);

    let next_cursor = match (page.has_more, page.items.last()) {
        (true, Some(last)) => Some(
            Cursor {
                sort: sort.param(),
                value: last.sort_value(sort),
                id: last.id,
            }
            .encode(),
        ),
        _ => None,
    };
    let ids: Vec<i64> = page.items.iter().map(|c| c.id).collect();
    let tags = tags::of(db, tenant, Tagged::Contact, &ids).await?;
    let phones = phones_of(db, tenant, &ids).await?;
    Ok(ContactPage {
        page,
        tags,
        phones,
        next_cursor,
    })
}

/// One contact of `tenant`; another tenant's contact is [`StoreError::NotFound`].
pub async fn get(db: &Db, tenant: TenantId, id: ContactId) -> Result<Contact> {
    let mut query = scoped(tenant);
    select_columns(&mut query);
    query.and_where(Expr::col(("contacts", "id")).eq(id.0));
    db.fetch_optional(&query).await?.ok_or(StoreError::NotFound)
}

pub async fn tags_of(db: &Db, tenant: TenantId, id: ContactId) -> Result<Vec<String>> {
    Ok(tags::of(db, tenant, Tagged::Contact, &[id.0])
        .await?
        .remove(&id.0)
        .unwrap_or_default())
}

/// The phones of each of `contacts`, in the order they were entered.
pub async fn phones_of(
    db: &Db,
    tenant: TenantId,
    contacts: &[i64],
) -> Result<HashMap<i64, Vec<ContactPhone>>> {
    let mut phones: HashMap<i64, Vec<ContactPhone>> = HashMap::new();
    if contacts.is_empty() {
        return Ok(phones);
    }
    let query = Query::select()
        .columns(["contact_id", "label", "raw", "e164"])
        .from("contact_phones")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("contact_id").is_in(contacts.iter().copied()))
        .order_by("contact_id", Order::Asc)
        .order_by("position", Order::Asc)
        .to_owned();
    for phone in db.fetch_all::<ContactPhone, _>(&query).await? {
        phones.entry(phone.contact_id).or_default().push(phone);
    }
    Ok(phones)
}

/// A contact's consent history, newest first.
pub async fn consent_events(db: &Db, tenant: TenantId, id: ContactId) -> Result<Vec<ConsentEvent>> {
    let query = Query::select()
        .columns([
            "id",
            "channel",
            "opted_out_before",
            "opted_out_after",
            "source",
            "user_id",
            "occurred_at",
        ])
        .from("consent_events")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("contact_id").eq(id.0))
        .order_by("occurred_at", Order::Desc)
        .order_by("id", Order::Desc)
        .to_owned();
    db.fetch_all(&query).await
}

/// The contact whose primary email is `email` (compared trimmed, without case).
pub async fn find_by_email(tx: &mut Tx, tenant: TenantId, email: &str) -> Result<Option<i64>> {
    let query = Query::select()
        .column("id")
        .from("contacts")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("email_normalized").eq(email.trim().to_lowercase()))
        .to_owned();
    Ok(tx
        .fetch_optional::<(i64,), _>(&query)
        .await?
        .map(|(id,)| id))
}

/// Who made a change, for consent events.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub user: Option<UserId>,
    pub source: ConsentSource,
}

/// Creates a contact. Returns its id.
pub async fn create(
    tx: &mut Tx,
    tenant: TenantId,
    fields: &ContactFields,
    actor: Actor,
) -> Result<ContactId> {
    check_references(tx, tenant, fields, None).await?;

    let stamp = now();
    let (columns, values) = field_values(fields);
    let mut all_columns = vec!["tenant_id", "created_at", "updated_at", "version"];
    all_columns.extend(columns);
    let mut all_values: Vec<Expr> = vec![tenant.0.into(), stamp.into(), stamp.into(), 1i64.into()];
    all_values.extend(values);
    let (opt_columns, opt_values) = opt_out_values(fields.opt_out, [false; 3], actor, stamp);
    all_columns.extend(opt_columns);
    all_values.extend(opt_values);

    let insert = Query::insert()
        .into_table("contacts")
        .columns(all_columns)
        .values_panic(all_values)
        .returning_col("id")
        .to_owned();
    let id = ContactId(tx.scalar(&insert).await.map_err(email_taken)?);

    write_phones(tx, tenant, id, fields).await?;
    tags::set(tx, tenant, Tagged::Contact, id.0, &fields.tags).await?;
    record_consent(tx, tenant, id, [false; 3], fields.opt_out, actor, stamp).await?;
    Ok(id)
}

/// Updates a contact if it is still at `version`. Returns the new version.
pub async fn update(
    tx: &mut Tx,
    tenant: TenantId,
    id: ContactId,
    version: i64,
    fields: &ContactFields,
    actor: Actor,
) -> Result<i64> {
    let before = current(tx, tenant, id).await?.ok_or(StoreError::NotFound)?;
    if before.version != version {
        return Err(StoreError::Stale {
            current: before.version,
        });
    }
    check_references(tx, tenant, fields, Some(id)).await?;

    let stamp = now();
    let (columns, values) = field_values(fields);
    let (opt_columns, opt_values) = opt_out_values(fields.opt_out, before.opt_outs(), actor, stamp);
    let mut update = Query::update();
    update.table("contacts");
    for (column, value) in columns
        .into_iter()
        .chain(opt_columns)
        .zip(values.into_iter().chain(opt_values))
    {
        update.value(column, value);
    }
    update
        .value("updated_at", stamp)
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .and_where(Expr::col("version").eq(version));
    if tx.execute(&update).await.map_err(email_taken)? == 0 {
        return Err(StoreError::Stale {
            current: version + 1,
        });
    }

    write_phones(tx, tenant, id, fields).await?;
    tags::set(tx, tenant, Tagged::Contact, id.0, &fields.tags).await?;
    record_consent(
        tx,
        tenant,
        id,
        before.opt_outs(),
        fields.opt_out,
        actor,
        stamp,
    )
    .await?;
    Ok(version + 1)
}

/// Deletes a contact if it is still at `version` (any version when `None`).
pub async fn delete(
    tx: &mut Tx,
    tenant: TenantId,
    id: ContactId,
    version: Option<i64>,
) -> Result<()> {
    let before = current(tx, tenant, id).await?.ok_or(StoreError::NotFound)?;
    if version.is_some_and(|v| v != before.version) {
        return Err(StoreError::Stale {
            current: before.version,
        });
    }
    let delete = Query::delete()
        .from_table("contacts")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    tx.execute(&delete).await?;
    Ok(())
}

/// A unique-index refusal on insert or update can only be the primary email: another request
/// took it between our check and our write.
fn email_taken(error: StoreError) -> StoreError {
    if error.is_unique_violation() {
        Invalid::one("email", "is already the primary email of another contact").into()
    } else {
        error
    }
}

#[derive(sqlx::FromRow)]
struct Current {
    version: i64,
    email_opt_out: bool,
    phone_opt_out: bool,
    sms_opt_out: bool,
}

impl Current {
    fn opt_outs(&self) -> [bool; 3] {
        [self.email_opt_out, self.phone_opt_out, self.sms_opt_out]
    }
}

async fn current(tx: &mut Tx, tenant: TenantId, id: ContactId) -> Result<Option<Current>> {
    let query = Query::select()
        .columns(["version", "email_opt_out", "phone_opt_out", "sms_opt_out"])
        .from("contacts")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    tx.fetch_optional(&query).await
}

/// Checks the client and owner belong to this tenant and the primary email is not another
/// contact's, reporting every field that is wrong.
async fn check_references(
    tx: &mut Tx,
    tenant: TenantId,
    fields: &ContactFields,
    this: Option<ContactId>,
) -> Result<()> {
    let mut problems = Vec::new();
    if let Some(client) = fields.client_id {
        let query = Query::select()
            .column("id")
            .from("clients")
            .and_where(Expr::col("tenant_id").eq(tenant.0))
            .and_where(Expr::col("id").eq(client))
            .to_owned();
        if tx.fetch_optional::<(i64,), _>(&query).await?.is_none() {
            problems.push(FieldError::new(
                "client",
                "is not a client of this workspace",
            ));
        }
    }
    if let Some(owner) = fields.owner_id
        && !crate::users::exists(tx, tenant, owner).await?
    {
        problems.push(FieldError::new("owner", "is not a user of this workspace"));
    }
    if let Some(email) = &fields.email
        && let Some(other) = find_by_email(tx, tenant, email.as_str()).await?
        && Some(ContactId(other)) != this
    {
        problems.push(FieldError::new(
            "email",
            format!("is already the primary email of contact #{other}"),
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Invalid(problems).into())
    }
}

fn field_values(fields: &ContactFields) -> (Vec<&'static str>, Vec<Expr>) {
    let other_emails: Vec<&str> = fields.other_emails.iter().map(|e| e.as_str()).collect();
    let types: String = if fields.types.is_empty() {
        String::new()
    } else {
        let keys: Vec<&str> = fields.types.iter().map(|t| t.as_str()).collect();
        format!(",{},", keys.join(","))
    };
    let columns = vec![
        "client_id",
        "first_name",
        "last_name",
        "name_sort",
        "title",
        "email",
        "email_normalized",
        "other_emails",
        "types",
        "preferred_channel",
        "owner_id",
        "notes",
        "search_text",
    ];
    let values: Vec<Expr> = vec![
        fields.client_id.into(),
        fields.first_name.clone().into(),
        fields.last_name.clone().into(),
        fields.sort_name().into(),
        fields.title.clone().into(),
        fields.email.as_ref().map(|e| e.as_str().to_owned()).into(),
        fields.email.as_ref().map(|e| e.normalized()).into(),
        (!other_emails.is_empty())
            .then(|| other_emails.join("\n"))
            .into(),
        types.into(),
        fields.preferred_channel.as_str().into(),
        fields.owner_id.into(),
        fields.notes.clone().into(),
        fields.search_text().into(),
    ];
    (columns, values)
}

/// The opt-out columns to write: a changed channel gets its new state, time and source; an
/// unchanged one is written as it is (so inserts always set all three).
fn opt_out_values(
    wanted: [Option<bool>; 3],
    before: [bool; 3],
    actor: Actor,
    stamp: DateTime<Utc>,
) -> (Vec<&'static str>, Vec<Expr>) {
    const NAMES: [[&str; 3]; 3] = [
        ["email_opt_out", "email_opt_out_at", "email_opt_out_source"],
        ["phone_opt_out", "phone_opt_out_at", "phone_opt_out_source"],
        ["sms_opt_out", "sms_opt_out_at", "sms_opt_out_source"],
    ];
    let mut columns = Vec::new();
    let mut values: Vec<Expr> = Vec::new();
    for change in consent_changes(before, wanted) {
        let index = Channel::ALL
            .iter()
            .position(|c| *c == change.channel)
            .unwrap_or_default();
        columns.extend(NAMES[index]);
        values.extend([
            change.opted_out_after.into(),
            stamp.into(),
            actor.source.as_str().into(),
        ]);
    }
    for (index, names) in NAMES.iter().enumerate() {
        if !columns.contains(&names[0]) {
            columns.push(names[0]);
            values.push(before[index].into());
        }
    }
    (columns, values)
}

async fn record_consent(
    tx: &mut Tx,
    tenant: TenantId,
    id: ContactId,
    before: [bool; 3],
    wanted: [Option<bool>; 3],
    actor: Actor,
    stamp: DateTime<Utc>,
) -> Result<()> {
    for change in consent_changes(before, wanted) {
        let insert = Query::insert()
            .into_table("consent_events")
            .columns([
                "tenant_id",
                "contact_id",
                "channel",
                "opted_out_before",
                "opted_out_after",
                "source",
                "user_id",
                "occurred_at",
            ])
            .values_panic([
                tenant.0.into(),
                id.0.into(),
                change.channel.as_str().into(),
                change.opted_out_before.into(),
                change.opted_out_after.into(),
                actor.source.as_str().into(),
                actor.user.map(|u| u.0).into(),
                stamp.into(),
            ])
            .to_owned();
        tx.execute(&insert).await?;
    }
    Ok(())
}

async fn write_phones(
    tx: &mut Tx,
    tenant: TenantId,
    id: ContactId,
    fields: &ContactFields,
) -> Result<()> {
    let clear = Query::delete()
        .from_table("contact_phones")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("contact_id").eq(id.0))
        .to_owned();
    tx.execute(&clear).await?;
    if fields.phones.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert.into_table("contact_phones").columns([
        "tenant_id",
        "contact_id",
        "position",
        "label",
        "raw",
        "e164",
    ]);
    for (position, phone) in fields.phones.iter().enumerate() {
        insert.values_panic([
            tenant.0.into(),
            id.0.into(),
            (position as i32).into(),
            phone.label.clone().into(),
            phone.phone.raw.clone().into(),
            phone.phone.e164.clone().into(),
        ]);
    }
    tx.execute(&insert).await?;
    Ok(())
}
