//! Quotes and their lines.
//!
//! A quote's number is one past the tenant's highest, taken inside the writing transaction. Two
//! writers can take the same number at once (PostgreSQL); the unique index refuses the second,
//! which rolls back to a savepoint and takes the next one. Line figures and the quote's totals
//! are computed by the domain and stored, so every total is a plain sum of the stored lines.

use crate::page::{Cursor, Page, Paging, Sort, SortColumn, SortValue, Total};
use crate::{Db, Result, StoreError, Tx, now};
use chrono::{DateTime, NaiveDate, Utc};
use kith_domain::deal::RecurringPeriod;
use kith_domain::quote::{self, DealTerms, QuoteFields, QuoteStatus};
use kith_domain::{ClientId, DealId, FieldError, Invalid, QuoteId, TenantId};
use sea_query::{Expr, ExprTrait, Order, Query, SelectStatement};
use std::collections::HashMap;

/// How many numbers a new quote tries before giving up: each failed try means another writer
/// took that number in the same moment.
const NUMBER_ATTEMPTS: u32 = 3;

/// A stored quote, with its client's name and its deal's title filled in.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Quote {
    pub id: i64,
    /// 1, 2, 3… per tenant.
    pub number: i64,
    pub client_id: i64,
    #[sqlx(default)]
    pub client_name: Option<String>,
    pub deal_id: Option<i64>,
    #[sqlx(default)]
    pub deal_title: Option<String>,
    pub status: String,
    pub valid_until: Option<NaiveDate>,
    pub currency: String,
    pub notes: Option<String>,
    pub subtotal: i64,
    pub discount: i64,
    pub tax: i64,
    pub total: i64,
    pub recurring_total: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Quote {
    /// The stored status; an unknown word (never written by Kith) reads as draft.
    pub fn status(&self) -> QuoteStatus {
        QuoteStatus::parse(&self.status).unwrap_or(QuoteStatus::Draft)
    }

    /// "Q-0042".
    pub fn display_number(&self) -> String {
        quote::display_number(self.number)
    }

    fn sort_value(&self, sort: &Sort) -> String {
        match sort.column.name {
            "updated" => Cursor::time_value(self.updated_at),
            _ => self.id.to_string(),
        }
    }
}

/// One stored line of a quote, with its computed figures.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Line {
    pub quote_id: i64,
    pub position: i32,
    pub description: String,
    /// Hundredths of a unit.
    pub quantity_hundredths: i64,
    pub unit_price: i64,
    pub discount_percent: i32,
    pub tax_percent: i32,
    pub optional: bool,
    pub recurring: bool,
    pub net: i64,
    pub discount: i64,
    pub tax: i64,
    pub total: i64,
}

const COLUMNS: [&str; 16] = [
    "id",
    "number",
    "client_id",
    "deal_id",
    "status",
    "valid_until",
    "currency",
    "notes",
    "subtotal",
    "discount",
    "tax",
    "total",
    "recurring_total",
    "created_at",
    "updated_at",
    "version",
];

const LINE_COLUMNS: [&str; 13] = [
    "quote_id",
    "position",
    "description",
    "quantity_hundredths",
    "unit_price",
    "discount_percent",
    "tax_percent",
    "optional",
    "recurring",
    "net",
    "discount",
    "tax",
    "total",
];

/// The orders a quote list can take; the first is the default.
pub const SORTS: [SortColumn; 2] = [
    SortColumn {
        name: "created",
        table: "quotes",
        column: "id",
        kind: SortValue::Id,
    },
    SortColumn {
        name: "updated",
        table: "quotes",
        column: "updated_at",
        kind: SortValue::Time,
    },
];

/// Filters of the quote list, combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuoteFilter {
    pub client_id: Option<i64>,
    pub deal_id: Option<i64>,
    pub status: Option<QuoteStatus>,
}

/// One page of quotes.
pub struct QuotePage {
    pub page: Page<Quote>,
    pub next_cursor: Option<String>,
}

/// A new quote's id and number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Created {
    pub id: QuoteId,
    pub number: i64,
}

fn scoped(tenant: TenantId) -> SelectStatement {
    Query::select()
        .from("quotes")
        .and_where(Expr::col(("quotes", "tenant_id")).eq(tenant.0))
        .to_owned()
}

fn select_columns(query: &mut SelectStatement) {
    query
        .columns(COLUMNS.map(|c| ("quotes", c)))
        .expr_as(Expr::cust("CAST(NULL AS TEXT)"), "client_name")
        .expr_as(Expr::cust("CAST(NULL AS TEXT)"), "deal_title");
}

fn apply_filter(query: &mut SelectStatement, filter: &QuoteFilter) {
    if let Some(client) = filter.client_id {
        query.and_where(Expr::col(("quotes", "client_id")).eq(client));
    }
    if let Some(deal) = filter.deal_id {
        query.and_where(Expr::col(("quotes", "deal_id")).eq(deal));
    }
    if let Some(status) = filter.status {
        query.and_where(Expr::col(("quotes", "status")).eq(status.as_str()));
    }
}

/// Lists quotes matching `filter`, in `sort` order, one page at a time.
pub async fn list(
    db: &Db,
    tenant: TenantId,
    filter: &QuoteFilter,
    sort: &Sort,
    paging: &Paging,
) -> Result<QuotePage> {
    let mut matching = scoped(tenant);
    apply_filter(&mut matching, filter);
    let total = Total::count(db, &matching).await?;

    let mut query = matching;
    select_columns(&mut query);
    sort.apply(&mut query);
    paging.apply(sort, &mut query);
    let mut rows: Vec<Quote> = db.fetch_all(&query).await?;
    fill_names(db, tenant, &mut rows).await?;
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
    Ok(QuotePage { page, next_cursor })
}

/// The quotes of one deal, oldest first.
pub async fn for_deal(db: &Db, tenant: TenantId, deal: DealId) -> Result<Vec<Quote>> {
    let mut query = scoped(tenant);
    select_columns(&mut query);
    query
        .and_where(Expr::col(("quotes", "deal_id")).eq(deal.0))
        .order_by(("quotes", "id"), Order::Asc);
    let mut rows: Vec<Quote> = db.fetch_all(&query).await?;
    fill_names(db, tenant, &mut rows).await?;
    Ok(rows)
}

/// Fills in client names and deal titles with one lookup each for the whole page.
async fn fill_names(db: &Db, tenant: TenantId, rows: &mut [Quote]) -> Result<()> {
    let client_ids: Vec<i64> = rows.iter().map(|q| q.client_id).collect();
    let names = crate::clients::names(db, tenant, &client_ids).await?;
    let deal_ids: Vec<i64> = rows.iter().filter_map(|q| q.deal_id).collect();
    let titles = deal_titles(db, tenant, &deal_ids).await?;
    for row in rows {
        row.client_name = names.get(&row.client_id).cloned();
        row.deal_title = row.deal_id.and_then(|id| titles.get(&id).cloned());
    }
    Ok(())
}

async fn deal_titles(db: &Db, tenant: TenantId, ids: &[i64]) -> Result<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let query = Query::select()
        .columns(["id", "title"])
        .from("deals")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").is_in(ids.iter().copied()))
        .to_owned();
    let rows: Vec<(i64, String)> = db.fetch_all(&query).await?;
    Ok(rows.into_iter().collect())
}

/// The deals a quote for `client` may be linked to (id, title, value and currency), newest
/// first: the client's deals, at most 200.
pub async fn deal_choices(
    db: &Db,
    tenant: TenantId,
    client: ClientId,
) -> Result<Vec<(i64, String, i64, String)>> {
    let query = Query::select()
        .columns(["id", "title", "value", "currency"])
        .from("deals")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("client_id").eq(client.0))
        .order_by("id", Order::Desc)
        .limit(200)
        .to_owned();
    db.fetch_all(&query).await
}

/// One quote of `tenant`; another tenant's quote is [`StoreError::NotFound`].
pub async fn get(db: &Db, tenant: TenantId, id: QuoteId) -> Result<Quote> {
    let mut query = scoped(tenant);
    select_columns(&mut query);
    query.and_where(Expr::col(("quotes", "id")).eq(id.0));
    let mut found: Quote = db
        .fetch_optional(&query)
        .await?
        .ok_or(StoreError::NotFound)?;
    fill_names(db, tenant, std::slice::from_mut(&mut found)).await?;
    Ok(found)
}

/// One quote with its lines in order.
pub async fn get_with_lines(db: &Db, tenant: TenantId, id: QuoteId) -> Result<(Quote, Vec<Line>)> {
    let found = get(db, tenant, id).await?;
    let lines = lines_of(db, tenant, id).await?;
    Ok((found, lines))
}

/// A quote's lines in order.
pub async fn lines_of(db: &Db, tenant: TenantId, id: QuoteId) -> Result<Vec<Line>> {
    let query = Query::select()
        .columns(LINE_COLUMNS)
        .from("quote_lines")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("quote_id").eq(id.0))
        .order_by("position", Order::Asc)
        .to_owned();
    db.fetch_all(&query).await
}

/// The lines of the given quotes, by quote, each in order.
pub async fn lines_of_many(
    db: &Db,
    tenant: TenantId,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<Line>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let query = Query::select()
        .columns(LINE_COLUMNS)
        .from("quote_lines")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("quote_id").is_in(ids.iter().copied()))
        .order_by("quote_id", Order::Asc)
        .order_by("position", Order::Asc)
        .to_owned();
    let rows: Vec<Line> = db.fetch_all(&query).await?;
    let mut by_quote: HashMap<i64, Vec<Line>> = HashMap::new();
    for row in rows {
        by_quote.entry(row.quote_id).or_default().push(row);
    }
    Ok(by_quote)
}

async fn version_in(tx: &mut Tx, tenant: TenantId, id: QuoteId) -> Result<i64> {
    let query = Query::select()
        .column("version")
        .from("quotes")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    tx.fetch_optional::<(i64,), _>(&query)
        .await?
        .map(|(version,)| version)
        .ok_or(StoreError::NotFound)
}

/// Creates a quote with the next number of the tenant.
pub async fn create(tx: &mut Tx, tenant: TenantId, fields: &QuoteFields) -> Result<Created> {
    check_references(tx, tenant, fields).await?;
    // Under READ COMMITTED a retry would read the same highest number while the other writer's
    // transaction is open: wait for it instead. The retries remain for SQLite's deferred start.
    tx.serialize_tenant_writes(tenant).await?;

    let stamp = now();
    let (field_columns, field_values) = field_values(fields);
    for attempt in 1..=NUMBER_ATTEMPTS {
        tx.execute_fixed("SAVEPOINT quote_number").await?;
        let number = next_number(tx, tenant).await?;
        let mut columns = vec!["tenant_id", "number", "created_at", "updated_at", "version"];
        let mut values: Vec<Expr> = vec![
            tenant.0.into(),
            number.into(),
            stamp.into(),
            stamp.into(),
            1i64.into(),
        ];
        columns.extend(field_columns.iter().copied());
        values.extend(field_values.iter().cloned());
        let insert = Query::insert()
            .into_table("quotes")
            .columns(columns)
            .values_panic(values)
            .returning_col("id")
            .to_owned();

        match tx.scalar::<i64, _>(&insert).await {
            Ok(id) => {
                tx.execute_fixed("RELEASE SAVEPOINT quote_number").await?;
                let id = QuoteId(id);
                insert_lines(tx, tenant, id, fields).await?;
                return Ok(Created { id, number });
            }
            Err(err) if err.is_unique_violation() => {
                tx.execute_fixed("ROLLBACK TO SAVEPOINT quote_number")
                    .await?;
                tx.execute_fixed("RELEASE SAVEPOINT quote_number").await?;
                tracing::debug!(
                    tenant_id = tenant.0,
                    number,
                    attempt,
                    "quote number taken meanwhile; taking the next"
                );
            }
            Err(err) => return Err(err),
        }
    }
    Err(StoreError::InUse(
        "Several quotes were numbered at the same moment and this one found no free number; \
         nothing was saved. Please try again."
            .into(),
    ))
}

/// One past the tenant's highest quote number. Deleting the newest quote therefore frees its
/// number for the next one; a number inside the sequence is never given out again.
async fn next_number(tx: &mut Tx, tenant: TenantId) -> Result<i64> {
    let query = Query::select()
        .expr(Expr::cust("CAST(COALESCE(MAX(number), 0) + 1 AS BIGINT)"))
        .from("quotes")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .to_owned();
    tx.scalar(&query).await
}

/// Creates a draft quote from a deal (SPEC §5.4): the deal's client and currency, a line for its
/// value and one for its recurring value. A deal without a client is refused, naming `client`.
// TODO(#3): the recurring line counts in `total` as well as `recurring_total`, so a deal's
// one-time value and its annual recurring value add up in one figure; blank quantities read
// as 1 rather than being refused.
pub async fn create_from_deal(tx: &mut Tx, tenant: TenantId, deal: DealId) -> Result<Created> {
    let query = Query::select()
        .columns([
            "title",
            "client_id",
            "value",
            "recurring_value",
            "recurring_period",
            "currency",
        ])
        .from("deals")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(deal.0))
        .to_owned();
    type DealRow = (
        String,
        Option<i64>,
        i64,
        Option<i64>,
        Option<String>,
        String,
    );
    let (title, client_id, value, recurring_value, period, currency): DealRow = tx
        .fetch_optional(&query)
        .await?
        .ok_or(StoreError::NotFound)?;

    let period = period.and_then(|p| RecurringPeriod::parse(&p).ok());
    let terms = DealTerms {
        deal_id: deal.0,
        title: &title,
        client_id,
        value,
        recurring: recurring_value.zip(period),
        currency: &currency,
    };
    let fields = quote::draft_from_deal(&terms)?;
    create(tx, tenant, &fields).await
}

/// Saves an edited quote from `version`, replacing its lines. Returns the new version. The
/// lines' prices are taken in `fields.currency`: callers changing the currency bring new lines.
pub async fn update(
    tx: &mut Tx,
    tenant: TenantId,
    id: QuoteId,
    version: i64,
    fields: &QuoteFields,
) -> Result<i64> {
    let current = version_in(tx, tenant, id).await?;
    if current != version {
        return Err(StoreError::Stale { current });
    }
    check_references(tx, tenant, fields).await?;

    let (columns, values) = field_values(fields);
    let mut update = Query::update();
    update.table("quotes");
    for (column, value) in columns.into_iter().zip(values) {
        update.value(column, value);
    }
    bump(&mut update, tenant, id, version);
    if tx.execute(&update).await? == 0 {
        return Err(stale_or_missing(tx, tenant, id).await);
    }

    delete_lines(tx, tenant, id).await?;
    insert_lines(tx, tenant, id, fields).await?;
    Ok(version + 1)
}

/// Changes only a quote's status, from `version`. Returns the new version.
pub async fn set_status(
    tx: &mut Tx,
    tenant: TenantId,
    id: QuoteId,
    version: i64,
    status: QuoteStatus,
) -> Result<i64> {
    let current = version_in(tx, tenant, id).await?;
    if current != version {
        return Err(StoreError::Stale { current });
    }
    let mut update = Query::update();
    update.table("quotes").value("status", status.as_str());
    bump(&mut update, tenant, id, version);
    if tx.execute(&update).await? == 0 {
        return Err(stale_or_missing(tx, tenant, id).await);
    }
    Ok(version + 1)
}

/// Deletes a quote with its lines, from `version` when given.
pub async fn delete(
    tx: &mut Tx,
    tenant: TenantId,
    id: QuoteId,
    version: Option<i64>,
) -> Result<()> {
    let current = version_in(tx, tenant, id).await?;
    if version.is_some_and(|v| v != current) {
        return Err(StoreError::Stale { current });
    }
    delete_lines(tx, tenant, id).await?;
    let delete = Query::delete()
        .from_table("quotes")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .to_owned();
    tx.execute(&delete).await?;
    Ok(())
}

/// Unlinks a deal's quotes from it, before the deal is deleted: the quotes stay, without a deal.
pub async fn unlink_deal(tx: &mut Tx, tenant: TenantId, deal: DealId) -> Result<()> {
    let update = Query::update()
        .table("quotes")
        .value("deal_id", Option::<i64>::None)
        .value("updated_at", now())
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("deal_id").eq(deal.0))
        .to_owned();
    tx.execute(&update).await?;
    Ok(())
}

/// How many quotes are addressed to a client.
pub async fn count_for_client(tx: &mut Tx, tenant: TenantId, client: ClientId) -> Result<i64> {
    let query = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from("quotes")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("client_id").eq(client.0))
        .to_owned();
    tx.scalar(&query).await
}

fn bump(update: &mut sea_query::UpdateStatement, tenant: TenantId, id: QuoteId, version: i64) {
    update
        .value("updated_at", now())
        .value("version", Expr::col("version").add(1))
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(id.0))
        .and_where(Expr::col("version").eq(version));
}

async fn stale_or_missing(tx: &mut Tx, tenant: TenantId, id: QuoteId) -> StoreError {
    match version_in(tx, tenant, id).await {
        Ok(current) => StoreError::Stale { current },
        Err(e) => e,
    }
}

/// Columns and values of the fields a user edits, with the totals computed from the lines.
fn field_values(fields: &QuoteFields) -> (Vec<&'static str>, Vec<Expr>) {
    let totals = fields.totals();
    let columns = vec![
        "client_id",
        "deal_id",
        "status",
        "valid_until",
        "currency",
        "notes",
        "subtotal",
        "discount",
        "tax",
        "total",
        "recurring_total",
    ];
    let values: Vec<Expr> = vec![
        fields.client_id.into(),
        fields.deal_id.into(),
        fields.status.as_str().into(),
        fields.valid_until.into(),
        fields.currency.clone().into(),
        fields.notes.clone().into(),
        totals.subtotal.into(),
        totals.discount.into(),
        totals.tax.into(),
        totals.total.into(),
        totals.recurring_total.into(),
    ];
    (columns, values)
}

async fn delete_lines(tx: &mut Tx, tenant: TenantId, id: QuoteId) -> Result<()> {
    let delete = Query::delete()
        .from_table("quote_lines")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("quote_id").eq(id.0))
        .to_owned();
    tx.execute(&delete).await?;
    Ok(())
}

async fn insert_lines(
    tx: &mut Tx,
    tenant: TenantId,
    id: QuoteId,
    fields: &QuoteFields,
) -> Result<()> {
    if fields.lines.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    let mut columns = vec!["tenant_id"];
    columns.extend(LINE_COLUMNS);
    insert.into_table("quote_lines").columns(columns);
    for (position, line) in fields.lines.iter().enumerate() {
        let amounts = line.amounts();
        insert.values_panic([
            tenant.0.into(),
            id.0.into(),
            (position as i32).into(),
            line.description.clone().into(),
            line.quantity.into(),
            line.unit_price.into(),
            i32::from(line.discount_percent).into(),
            i32::from(line.tax_percent).into(),
            line.optional.into(),
            line.recurring.into(),
            amounts.net.into(),
            amounts.discount.into(),
            amounts.tax.into(),
            amounts.total.into(),
        ]);
    }
    tx.execute(&insert).await?;
    Ok(())
}

/// Refuses a client or deal that is not the tenant's, or a deal of another client, naming the
/// field.
async fn check_references(tx: &mut Tx, tenant: TenantId, fields: &QuoteFields) -> Result<()> {
    let mut problems = Vec::new();
    let client = Query::select()
        .expr(Expr::val(1))
        .from("clients")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .and_where(Expr::col("id").eq(fields.client_id))
        .to_owned();
    if tx.fetch_optional::<(i32,), _>(&client).await?.is_none() {
        problems.push(FieldError::new(
            "client",
            "is not a client of this workspace",
        ));
    }
    if let Some(deal) = fields.deal_id {
        let query = Query::select()
            .column("client_id")
            .from("deals")
            .and_where(Expr::col("tenant_id").eq(tenant.0))
            .and_where(Expr::col("id").eq(deal))
            .to_owned();
        match tx.fetch_optional::<(Option<i64>,), _>(&query).await? {
            None => problems.push(FieldError::new("deal", "is not a deal of this workspace")),
            Some((Some(owner),)) if owner != fields.client_id => problems.push(FieldError::new(
                "deal",
                "is a deal of another client; choose one of this client's deals",
            )),
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Invalid(problems).into())
    }
}
