//! Clients (accounts).

use crate::page::{Cursor, Page, Paging, Sort, SortColumn, SortValue, Total};
use crate::search::{Search, Searchable};
use crate::tags::{self, Tagged};
use crate::{Db, Result, StoreError, Tx, now};
use chrono::{DateTime, Utc};
use kith_domain::client::ClientFields;
use kith_domain::search::fold;
use kith_domain::{ClientId, FieldError, Invalid, TenantId, UserId};
use sea_query::{Expr, ExprTrait, Query, SelectStatement};

/// A stored client.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Client {
    pub id: i64,
    pub name: String,
    pub name_sort: String,
    pub domains: Option<String>,
    pub website: Option<String>,
    pub phone: Option<String>,
    pub phone_e164: Option<String>,
    pub address: Option<String>,
    pub type_id: Option<i64>,
    pub lifecycle_id: Option<i64>,
    pub industry_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Client {
    pub fn domain_list(&self) -> Vec<&str> {
        self.domains
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .collect()
    }

    /// The value of `sort`'s column for this row, as a cursor carries it.
    fn sort_value(&self, sort: &Sort) -> String {
        match sort.column.name {
            "created" => self.id.to_string(),
            "updated" => Cursor::time_value(self.updated_at),
            _ => self.name_sort.clone(),
        }
    }
}

const COLUMNS: [&str; 17] = [
    "id",
    "name",
    "name_sort",
    "domains",
    "website",
    "phone",
    "phone_e164",
    "address",
    "type_id",
    "lifecycle_id",
    "industry_id",
    "owner_id",
    "parent_id",
    "notes",
    "created_at",
    "updated_at",
    "version",
];

/// The orders a client list can take; the first is the default.
// TODO(#7): sort by last activity: like open pipeline, it needs a per-client figure the list can
// page by (kept as activities are written), which the 360° dashboard's key figures will provide.
// TODO(#7): sort by open pipeline: the list needs a per-client open-pipeline figure it can page
// by (per currency, like every total), which the 360° dashboard's key figures will provide.
pub const SORTS: [SortColumn; 3] = [
    SortColumn {
        name: "name",
        table: "clients",
        column: "name_sort",
        kind: SortValue::Text,
    },
    SortColumn {
        name: "created",
        table: "clients",
        column: "id",
        kind: SortValue::Id,
    },
    SortColumn {
        name: "updated",
        table: "clients",
        column: "updated_at",
        kind: SortValue::Time,
    },
];

/// Filters of the client list. Every filter set narrows the list; they combine with AND, and the
/// tags within `tag_ids` with OR.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientFilter {
    pub search: Option<String>,
    pub lifecycle_id: Option<i64>,
    pub industry_id: Option<i64>,
    pub type_id: Option<i64>,
    pub owner_id: Option<i64>,
    /// Any of these tags.
    pub tag_ids: Option<Vec<i64>>,
}

/// One page of clients, with tags.
pub struct ClientPage {
    pub page: Page<Client>,
    pub tags: std::collections::HashMap<i64, Vec<String>>,
    pub next_cursor: Option<String>,
}

fn scoped(tenant: TenantId) -> SelectStatement {
    Query::select()
        .from("clients")
        .and_where(Expr::col(("clients", "tenant_id")).eq(tenant.0))
        .to_owned()
}

fn apply_filter(query: &mut SelectStatement, tenant: TenantId, filter: &ClientFilter) {
    let equal = [
        ("lifecycle_id", filter.lifecycle_id),
        ("industry_id", filter.industry_id),
        ("type_id", filter.type_id),
        ("owner_id", filter.owner_id),
    ];
    for (column, value) in equal {
        if let Some(value) = value {
            query.and_where(Expr::col(("clients", column)).eq(value));
        }
    }
    if let Some(tag_ids) = &filter.tag_ids {
        let tagged = Query::select()
            .column("client_id")
            .from("client_tags")
            .and_where(Expr::col("tenant_id").eq(tenant.0))
            .and_where(Expr::col("tag_id").is_in(tag_ids.iter().copied()))
            .to_owned();
        query.and_where(Expr::col(("clients", "id")).in_subquery(tagged));
    }
}

/// Lists clients matching `filter`, in `sort` order, one page at a time.
pub async fn list(
    db: &Db,
    tenant: TenantId,
    filter: &ClientFilter,
    sort: &Sort,
    paging: &Paging,
) -> Result<ClientPage> {
    let search = Search::new(db.backend(), Searchable::Clients, filter.search.as_deref());

    let mut matching = scoped(tenant);
    apply_filter(&mut matching, tenant, filter);
    let found = match &search {
        Some(search) => Some(search.find(db, &matching).await?),
        None => None,
    };
    let total = match &found {
        Some(found) => found.total,
        None => Total::count(db, &matching).await?,
    };

    let mut query = scoped(tenant);
    query.columns(COLUMNS.map(|c| ("clients", c)));
    apply_filter(&mut query, tenant, filter);
    let rows: Vec<Client> = match (&search, &found) {
        (Some(search), Some(found)) => search.fetch_page(db, found, sort, paging, query).await?,
        _ => {
            sort.apply(&mut query);
            paging.apply(sort, &mut query);
            db.fetch_all(&query).await?
        }
    };
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
    let tags = tags::of(db, tenant, Tagged::Client, &ids).await?;
    Ok(ClientPage {
        page,
        tags,
        next_cursor,
    })
}

/// One client of `tenant`; another tenant's client is [`StoreError::NotFound`].
pub async fn get(db: &Db, tenant: TenantId, id: ClientId) -> Result<Client> {
    let mut query = scoped(tenant);
    query
        .columns(COLUMNS.map(|c| ("clients", c)))
        .and_where(Expr::col(("clients", "id")).eq(id.0));
    db.fetch_optional(&query).await?.ok_or(StoreError::NotFound)
}

/// The tags of one client.
pub async fn tags_of(db: &Db, tenant: TenantId, id: ClientId) -> Result<Vec<String>> {
    Ok(tags::of(db, tenant, Tagged::Client, &[id.0])
        .await?
        .remove(&id.0)
        .unwrap_or_default())
}

/// Names of clients by id, for showing parents and contacts' companies.
pub async fn names(
    db: &Db,
    tenant: TenantId,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let mut query = scoped(tenant);
    query
        .columns([("clients", "id"), ("clients", "name")])
        .and_where(Expr::col(("clients", "id")).is_in(ids.iter().copied()));
    let rows: Vec<(i64, String)> = db.fetch_all(&query).await?;
    Ok(rows.into_iter().collect())
}

/// Children of a client (clients whose parent it is), by name.
pub async fn children(db: &Db, tenant: TenantId, id: ClientId) -> Result<Vec<(i64, String)>> {
    let mut query = scoped(tenant);
    query
        .columns([("clients", "id"), ("clients", "name")])
        .and_where(Expr::col(("clients", "parent_id")).eq(id.0))
        .order_by(("clients", "name_sort"), sea_query::Order::Asc)
        .order_by(("clients", "id"), sea_query::Order::Asc);
    db.fetch_all(&query).await
}

/// Finds clients whose name equals `name`, ignoring case and accents. Used by importers.
pub async fn find_by_name(tx: &mut Tx, tenant: TenantId, name: &str) -> Result<Option<i64>> {
    let query = Query::select()
        .column("id")
        .from("clients")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("name_sort").eq(fold(name)))
        .order_by("id", sea_query::Order::Asc)
        .limit(1)
        .to_owned();
    Ok(tx
        .fetch_optional::<(i64,), _>(&query)
        .await?
        .map(|(id,)| id))
}

/// Creates a client. Returns its id.
pub async fn create(
    tx: &mut Tx,
    tenant: TenantId,
    fields: &ClientFields,
    _actor: Option<UserId>,
) -> Result<ClientId> {
    check_references(tx, tenant, fields, None).await?;

    let stamp = now();
    let (columns, mut values) = field_values(fields);
    let mut all_columns = vec!["tenant_id", "created_at", "updated_at", "version"];
    all_columns.extend(columns);
    let mut all_values: Vec<sea_query::Expr> =
        vec![tenant.0.into(), stamp.into(), stamp.into(), 1i64.into()];
    all_values.append(&mut values);

    let insert = Query::insert()
        .into_table("clients")
        .columns(all_columns)
        .values_panic(all_values)
        .returning_col("id")
        .to_owned();
    let id: i64 = tx.scalar(&insert).await?;

    tags::set(tx, tenant, Tagged::Client, id, &fields.tags).await?;
    Ok(ClientId(id))
}

/// Updates a client if it is still at `version`. Returns the new version.
pub async fn update(
    tx: &mut Tx,
    tenant: TenantId,
    id: ClientId,
    version: i64,
    fields: &ClientFields,
) -> Result<i64> {
    check_references(tx, tenant, fields, Some(id)).await?;

    let (columns, values) = field_values(fields);
    let mut update = Query::update();
    update.table("clients");
    for (column, value) in columns.into_iter().zip(values) {
        update.value(column, value);
    }
    update
        .value("updated_at", now())
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .and_where(Expr::col("version").eq(version));
    if tx.execute(&update).await? == 0 {
        return Err(stale_or_missing(tx, tenant, id).await);
    }

    tags::set(tx, tenant, Tagged::Client, id.0, &fields.tags).await?;
    Ok(version + 1)
}

/// Deletes a client if it is still at `version` (any version when `None`). Its contacts stay,
/// without a client; its child clients lose their parent. A client with quotes is refused
/// ([`StoreError::InUse`]).
pub async fn delete(
    tx: &mut Tx,
    tenant: TenantId,
    id: ClientId,
    version: Option<i64>,
) -> Result<()> {
    let current = current_version(tx, tenant, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    if version.is_some_and(|v| v != current) {
        return Err(StoreError::Stale { current });
    }
    // A quote is addressed to its client; deleting the client would leave it addressed to no one.
    let quotes = crate::quotes::count_for_client(tx, tenant, id).await?;
    if quotes > 0 {
        return Err(StoreError::InUse(format!(
            "The client has {quotes} quote{}; delete them first. Nothing was deleted.",
            if quotes == 1 { "" } else { "s" }
        )));
    }

    let stamp = now();
    let detach_contacts = Query::update()
        .table("contacts")
        .value("client_id", Option::<i64>::None)
        .value("updated_at", stamp)
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("client_id").eq(id.0))
        .to_owned();
    tx.execute(&detach_contacts).await?;
    let detach_children = Query::update()
        .table("clients")
        .value("parent_id", Option::<i64>::None)
        .value("updated_at", stamp)
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("parent_id").eq(id.0))
        .to_owned();
    tx.execute(&detach_children).await?;
    // Its deals stay on the board, with no client.
    let detach_deals = Query::update()
        .table("deals")
        .value("client_id", Option::<i64>::None)
        .value("updated_at", stamp)
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("client_id").eq(id.0))
        .to_owned();
    tx.execute(&detach_deals).await?;
    crate::activities::detach(tx, tenant, "client_id", id.0).await?;

    let delete = Query::delete()
        .from_table("clients")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    tx.execute(&delete).await?;
    Ok(())
}

async fn current_version(tx: &mut Tx, tenant: TenantId, id: ClientId) -> Result<Option<i64>> {
    let query = Query::select()
        .column("version")
        .from("clients")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    Ok(tx.fetch_optional::<(i64,), _>(&query).await?.map(|(v,)| v))
}

async fn stale_or_missing(tx: &mut Tx, tenant: TenantId, id: ClientId) -> StoreError {
    match current_version(tx, tenant, id).await {
        Ok(Some(current)) => StoreError::Stale { current },
        Ok(None) => StoreError::NotFound,
        Err(e) => e,
    }
}

/// Checks that the owner and parent belong to this tenant, and that a parent would not make a
/// Checks that the owner and parent belong to this tenant, and that a parent would not make a
/// client its own ancestor. Reports both fields when both are wrong.
async fn check_references(
    tx: &mut Tx,
    tenant: TenantId,
    fields: &ClientFields,
    this: Option<ClientId>,
) -> Result<()> {
    let mut problems = Vec::new();
    if let Some(owner) = fields.owner_id
        && !crate::users::exists(tx, tenant, owner).await?
    {
        problems.push(FieldError::new("owner", "is not a user of this workspace"));
    }
    if let Some(message) = parent_problem(tx, tenant, fields.parent_id, this).await? {
        problems.push(FieldError::new("parent", message));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Invalid(problems).into())
    }
}

/// What is wrong with `parent` as the parent of `this`, if anything.
async fn parent_problem(
    tx: &mut Tx,
    tenant: TenantId,
    parent: Option<i64>,
    this: Option<ClientId>,
) -> Result<Option<&'static str>> {
    let Some(mut ancestor) = parent else {
        return Ok(None);
    };
    // Walk up from the proposed parent; meeting this client means a cycle.
    for _ in 0..100 {
        if Some(ClientId(ancestor)) == this {
            return Ok(Some("would make the client its own parent"));
        }
        let query = Query::select()
            .column("parent_id")
            .from("clients")
            .and_where(Expr::col("tenant_id").eq(tenant.0))
            .and_where(Expr::col("id").eq(ancestor))
            .to_owned();
        match tx.fetch_optional::<(Option<i64>,), _>(&query).await? {
            None if Some(ancestor) == parent => {
                return Ok(Some("is not a client of this workspace"));
            }
            None | Some((None,)) => return Ok(None),
            Some((Some(next),)) => ancestor = next,
        }
    }
    Ok(Some("has a parent chain deeper than 100 clients"))
}

/// The stored columns and their values for `fields`, shared by insert and update.
fn field_values(fields: &ClientFields) -> (Vec<&'static str>, Vec<Expr>) {
    let domains = (!fields.domains.is_empty()).then(|| fields.domains.join(" "));
    let columns = vec![
        "name",
        "name_sort",
        "domains",
        "website",
        "phone",
        "phone_e164",
        "address",
        "type_id",
        "lifecycle_id",
        "industry_id",
        "owner_id",
        "parent_id",
        "notes",
        "search_text",
    ];
    let values: Vec<Expr> = vec![
        fields.name.clone().into(),
        fold(&fields.name).into(),
        domains.into(),
        fields.website.clone().into(),
        fields.phone.as_ref().map(|p| p.raw.clone()).into(),
        fields.phone.as_ref().and_then(|p| p.e164.clone()).into(),
        fields.address.clone().into(),
        fields.type_id.into(),
        fields.lifecycle_id.into(),
        fields.industry_id.into(),
        fields.owner_id.into(),
        fields.parent_id.into(),
        fields.notes.clone().into(),
        fields.search_text().into(),
    ];
    (columns, values)
}

/// Up to `limit` clients whose name or domain contains `query`, by name: suggestions for
/// pickers.
pub async fn suggest(
    db: &Db,
    tenant: TenantId,
    query: &str,
    limit: u64,
) -> Result<Vec<(i64, String)>> {
    let mut select = scoped(tenant);
    select.columns([("clients", "id"), ("clients", "name")]);
    if let Some(search) = Search::new(db.backend(), Searchable::Clients, Some(query)) {
        search.restrict(&mut select);
    }
    select
        .order_by(("clients", "name_sort"), sea_query::Order::Asc)
        .order_by(("clients", "id"), sea_query::Order::Asc)
        .limit(limit);
    db.fetch_all(&select).await
}

/// Ids of the clients called `name` (ignoring case and accents), at most two: enough to tell
/// "none", "exactly this one" and "ambiguous" apart.
pub async fn ids_named(db: &Db, tenant: TenantId, name: &str) -> Result<Vec<i64>> {
    let mut select = scoped(tenant);
    select
        .column(("clients", "id"))
        .and_where(Expr::col(("clients", "name_sort")).eq(fold(name)))
        .order_by(("clients", "id"), sea_query::Order::Asc)
        .limit(2);
    let rows: Vec<(i64,)> = db.fetch_all(&select).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Sets a client's parent, refusing a parent that is the client itself or one of its
/// descendants. Used by importers, which meet parents by name only after all rows are in.
pub async fn set_parent(
    tx: &mut Tx,
    tenant: TenantId,
    id: ClientId,
    parent: ClientId,
) -> Result<()> {
    let mut ancestor = Some(parent.0);
    for _ in 0..100 {
        let Some(current) = ancestor else { break };
        if current == id.0 {
            return Err(Invalid::one("parent", "would make the client its own parent").into());
        }
        let query = Query::select()
            .column("parent_id")
            .from("clients")
            .and_where(Expr::col("tenant_id").eq(tenant.0))
            .and_where(Expr::col("id").eq(current))
            .to_owned();
        ancestor = match tx.fetch_optional::<(Option<i64>,), _>(&query).await? {
            Some((next,)) => next,
            None => return Err(StoreError::NotFound),
        };
    }
    let update = Query::update()
        .table("clients")
        .value("parent_id", parent.0)
        .value("updated_at", now())
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    match tx.execute(&update).await? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}
