//! Quote pages: the list, the form with its line rows, the quote with its status, the printable
//! view, and "create quote from deal".
//!
//! The form needs no script: it shows the quote's lines plus a few blank rows, and a row left
//! blank is skipped. Checkboxes of a row carry the row's index, since an unticked box sends
//! nothing and would otherwise shift every later row.

use super::clients::resolve_client;
use super::{Errors, render, render_with, see_other};
use crate::api::quotes::filter as quote_filter;
use crate::auth::{CurrentUser, Identity};
use crate::error::PageError;
use crate::params::Params;
use crate::views::{Layout, Pager, url_with};
use crate::{AppState, markdown};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use kith_domain::money::{format_amount, format_money};
use kith_domain::pipeline::today_in;
use kith_domain::quote::{LineInput, QuoteFields, QuoteInput, QuoteStatus, format_quantity};
use kith_domain::{ClientId, DealId, FieldError, Invalid, QuoteId};
use kith_store::page::{Paging, Sort, Total};
use kith_store::quotes::{self, Line, Quote};
use kith_store::{StoreError, clients, tenants};

const PER_PAGE: u64 = 25;
/// Blank line rows offered by the form beyond the quote's own lines.
const SPARE_LINE_ROWS: usize = 3;
/// Line rows of a new quote's form.
const NEW_LINE_ROWS: usize = 5;

/// A quote as listed on a deal's page.
pub struct QuoteLink {
    pub id: i64,
    pub number: String,
    pub status: &'static str,
    pub status_key: &'static str,
    pub total: String,
}

/// The quotes of a deal, for the deal's page.
pub async fn for_deal(
    state: &AppState,
    me: &Identity,
    deal: DealId,
) -> Result<Vec<QuoteLink>, PageError> {
    let found = quotes::for_deal(&state.db, me.tenant(), deal).await?;
    Ok(found
        .iter()
        .map(|q| QuoteLink {
            id: q.id,
            number: q.display_number(),
            status: q.status().label(),
            status_key: q.status().as_str(),
            total: format_money(q.total, &q.currency),
        })
        .collect())
}

#[derive(Default)]
struct FilterValues {
    status: String,
    client: String,
    deal: String,
}

impl FilterValues {
    fn read(params: &Params) -> Self {
        let get = |name: &str| params.get(name).unwrap_or_default().to_owned();
        Self {
            status: get("status"),
            client: get("client"),
            deal: get("deal"),
        }
    }

    fn any(&self) -> bool {
        !(self.status.is_empty() && self.client.is_empty() && self.deal.is_empty())
    }

    fn link(&self, page: u64) -> String {
        let page = if page > 1 {
            page.to_string()
        } else {
            String::new()
        };
        url_with(
            "/crm/quotes",
            &[
                ("status", self.status.clone()),
                ("client", self.client.clone()),
                ("deal", self.deal.clone()),
                ("page", page),
            ],
        )
    }
}

struct QuoteRow {
    id: i64,
    number: String,
    client: (i64, String),
    deal: Option<(i64, String)>,
    status: &'static str,
    status_key: &'static str,
    valid_until: Option<NaiveDate>,
    total: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "quotes/list.html")]
struct ListPage {
    layout: Layout,
    filters: FilterValues,
    heading: String,
    statuses: Vec<(&'static str, &'static str)>,
    rows: Vec<QuoteRow>,
    pager: Pager,
    notice: String,
}

fn status_choices() -> Vec<(&'static str, &'static str)> {
    QuoteStatus::ALL
        .iter()
        .map(|s| (s.as_str(), s.label()))
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = Params::from_query(query.as_deref());
    let tenant = me.tenant();
    let typed = FilterValues::read(&params);
    let layout = Layout::new(&me, "quotes");
    let page = params
        .get("page")
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1);
    let paging = Paging::Numbered {
        page,
        per_page: PER_PAGE,
    };
    // Newest first: the quote being worked on is usually the latest.
    let sort = Sort {
        column: quotes::SORTS[0],
        descending: true,
    };

    let mut heading = "Quotes".to_owned();
    let (rows, pager, notice) = match quote_filter(&params) {
        Ok(filter) => {
            if let Some(client) = filter.client_id
                && let Some(name) = clients::names(&state.db, tenant, &[client])
                    .await?
                    .remove(&client)
            {
                heading = format!("Quotes for {name}");
            }
            let found = quotes::list(&state.db, tenant, &filter, &sort, &paging).await?;
            let rows: Vec<QuoteRow> = found
                .page
                .items
                .iter()
                .map(|q| QuoteRow {
                    id: q.id,
                    number: q.display_number(),
                    client: (q.client_id, q.client_name.clone().unwrap_or_default()),
                    deal: q.deal_id.zip(q.deal_title.clone()),
                    status: q.status().label(),
                    status_key: q.status().as_str(),
                    valid_until: q.valid_until,
                    total: format_money(q.total, &q.currency),
                    updated: layout.time(&q.updated_at),
                })
                .collect();
            let pager = Pager::new(
                "quotes",
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
            let pager = Pager::new("quotes", 1, PER_PAGE, 0, Total::default(), false, |p| {
                typed.link(p)
            });
            (
                Vec::new(),
                pager,
                format!("Filter {}", error.field_message()),
            )
        }
    };

    render(&ListPage {
        layout,
        filters: typed,
        heading,
        statuses: status_choices(),
        rows,
        pager,
        notice,
    })
}

/// One line row of the form, as typed.
#[derive(Default, Clone)]
struct LineValues {
    description: String,
    quantity: String,
    unit_price: String,
    discount: String,
    tax: String,
    optional: bool,
    recurring: bool,
}

impl LineValues {
    /// A row the user left alone: nothing typed but perhaps the quantity 1.
    fn is_blank(&self) -> bool {
        let quantity = self.quantity.trim();
        self.description.trim().is_empty()
            && self.unit_price.trim().is_empty()
            && self.discount.trim().is_empty()
            && self.tax.trim().is_empty()
            && (quantity.is_empty() || quantity == "1")
    }
}

/// The quote form's values as typed.
#[derive(Default, Clone)]
struct FormValues {
    client: String,
    deal: String,
    status: String,
    valid_until: String,
    currency: String,
    notes: String,
    lines: Vec<LineValues>,
}

impl FormValues {
    fn read(form: &Params) -> Self {
        let text = |key: &str| form.raw(key).unwrap_or_default().to_owned();
        let column = |key: &str| form.each(key);
        let (descriptions, quantities, prices, discounts, taxes) = (
            column("line_description"),
            column("line_quantity"),
            column("line_unit_price"),
            column("line_discount"),
            column("line_tax"),
        );
        let ticked = |key: &str| -> Vec<usize> {
            form.each(key)
                .iter()
                .filter_map(|v| v.parse::<usize>().ok())
                .collect()
        };
        let (optional, recurring) = (ticked("line_optional"), ticked("line_recurring"));
        let cell =
            |values: &[&str], i: usize| values.get(i).copied().unwrap_or_default().to_owned();
        let lines = (0..descriptions.len())
            .map(|i| LineValues {
                description: cell(&descriptions, i),
                quantity: cell(&quantities, i),
                unit_price: cell(&prices, i),
                discount: cell(&discounts, i),
                tax: cell(&taxes, i),
                optional: optional.contains(&i),
                recurring: recurring.contains(&i),
            })
            .collect();
        Self {
            client: text("client"),
            deal: text("deal"),
            status: text("status"),
            valid_until: text("valid_until"),
            currency: text("currency"),
            notes: text("notes"),
            lines,
        }
    }

    fn from_quote(quote: &Quote, lines: &[Line]) -> Self {
        Self {
            client: format!(
                "{} (#{})",
                quote.client_name.clone().unwrap_or_default(),
                quote.client_id
            ),
            deal: quote.deal_id.map(|d| d.to_string()).unwrap_or_default(),
            status: quote.status.clone(),
            valid_until: quote.valid_until.map(|d| d.to_string()).unwrap_or_default(),
            currency: quote.currency.clone(),
            notes: quote.notes.clone().unwrap_or_default(),
            lines: lines
                .iter()
                .map(|l| LineValues {
                    description: l.description.clone(),
                    quantity: format_quantity(l.quantity_hundredths),
                    unit_price: format_amount(l.unit_price, &quote.currency),
                    discount: l.discount_percent.to_string(),
                    tax: l.tax_percent.to_string(),
                    optional: l.optional,
                    recurring: l.recurring,
                })
                .collect(),
        }
    }

    /// The rows to show: the lines typed or stored up to the last one filled in (rows left
    /// blank before it keep their place, so errors stay beside their row), then a few blank
    /// rows to add more.
    fn rows(&self) -> Vec<LineValues> {
        let filled = self
            .lines
            .iter()
            .rposition(|l| !l.is_blank())
            .map_or(0, |last| last + 1);
        let spare = if filled == 0 {
            NEW_LINE_ROWS
        } else {
            SPARE_LINE_ROWS
        };
        let mut rows = self.lines[..filled].to_vec();
        rows.extend(std::iter::repeat_n(LineValues::default(), spare));
        rows
    }

    /// Checks the form. Errors of lines are named by form row (`lines[4].unit_price`), so
    /// they appear beside the row the user typed, whichever rows were left blank.
    async fn parse(&self, state: &AppState, me: &Identity) -> Result<QuoteFields, Invalid> {
        let tenant = tenants::get(&state.db, me.tenant())
            .await
            .map_err(|_| Invalid::one("client", "workspace not found"))?;
        let mut problems = Vec::new();
        let client_id = resolve_client(state, me, &self.client)
            .await
            .unwrap_or_else(|m| {
                problems.push(FieldError::new("client", m));
                None
            });
        let deal_id = match self.deal.trim() {
            "" => None,
            raw => raw.parse::<i64>().map(Some).unwrap_or_else(|_| {
                problems.push(FieldError::new("deal", "choose a deal from the list"));
                None
            }),
        };

        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for (row, line) in self.lines.iter().enumerate() {
            if line.is_blank() {
                continue;
            }
            rows.push(row);
            lines.push(LineInput {
                description: line.description.clone(),
                quantity: Some(line.quantity.clone()),
                unit_price: Some(line.unit_price.clone()),
                discount_percent: Some(line.discount.clone()),
                tax_percent: Some(line.tax.clone()),
                optional: line.optional,
                recurring: line.recurring,
            });
        }
        let input = QuoteInput {
            client_id,
            deal_id,
            status: Some(self.status.clone()),
            valid_until: Some(self.valid_until.clone()),
            currency: Some(self.currency.clone()),
            notes: Some(self.notes.clone()),
            lines,
        };
        let parsed = QuoteFields::parse(&input, &tenant.currency);
        if let Err(invalid) = &parsed {
            let picked_client = problems.iter().any(|p| p.field == "client");
            problems.extend(
                invalid
                    .0
                    .iter()
                    // A client that could not be read is already explained.
                    .filter(|e| !(picked_client && e.field == "client"))
                    .map(|e| FieldError::new(to_row(&e.field, &rows), e.message.clone())),
            );
        }
        if !problems.is_empty() {
            return Err(Invalid(problems));
        }
        parsed
    }

    /// What the user typed, as text, for the conflict notice.
    fn summary(&self) -> Vec<(&'static str, String)> {
        let lines: Vec<String> = self
            .lines
            .iter()
            .filter(|l| !l.is_blank())
            .map(|l| {
                let quantity = if l.quantity.trim().is_empty() {
                    "1"
                } else {
                    l.quantity.trim()
                };
                format!(
                    "{} — {quantity} × {}",
                    l.description.trim(),
                    l.unit_price.trim()
                )
            })
            .collect();
        vec![
            ("Client", self.client.clone()),
            ("Status", self.status.clone()),
            ("Valid until", self.valid_until.clone()),
            ("Currency", self.currency.clone()),
            ("Lines", lines.join("\n")),
            ("Notes", self.notes.clone()),
        ]
    }
}

/// Renames `lines[k]…` (the k-th non-blank row) to the form row it came from.
fn to_row(field: &str, rows: &[usize]) -> String {
    let Some(rest) = field.strip_prefix("lines[") else {
        return field.to_owned();
    };
    let Some((index, tail)) = rest.split_once(']') else {
        return field.to_owned();
    };
    match index.parse::<usize>().ok().and_then(|k| rows.get(k)) {
        Some(row) => format!("lines[{row}]{tail}"),
        None => field.to_owned(),
    }
}

#[derive(Template)]
#[template(path = "quotes/form.html")]
struct FormPage {
    layout: Layout,
    id: Option<i64>,
    number: String,
    version: i64,
    values: FormValues,
    rows: Vec<LineValues>,
    errors: Errors,
    statuses: Vec<(&'static str, &'static str)>,
    deals: Vec<(i64, String)>,
    /// After a conflict: what this user typed, which was not saved.
    unsaved: Vec<(&'static str, String)>,
}

impl FormPage {
    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("/crm/quotes/{id}"),
            None => "/crm/quotes".to_owned(),
        }
    }

    /// The problems of one form row, each named by its column.
    fn line_error(&self, row: &usize) -> String {
        let prefix = format!("lines[{row}]");
        let labels = [
            (".description", "Description"),
            (".quantity", "Quantity"),
            (".unit_price", "Unit price"),
            (".discount_percent", "Discount %"),
            (".tax_percent", "Tax %"),
        ];
        self.errors
            .0
            .iter()
            .filter_map(|e| {
                let tail = e.field.strip_prefix(&prefix)?;
                if tail.is_empty() {
                    return Some(e.message.clone());
                }
                let (_, label) = labels.iter().find(|(name, _)| *name == tail)?;
                Some(format!("{label} {}", e.message))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// A problem with the lines as a whole ("add at least one line").
    fn lines_error(&self) -> &str {
        self.errors
            .0
            .iter()
            .find(|e| e.field == "lines")
            .map(|e| e.message.as_str())
            .unwrap_or_default()
    }

    fn deal_selected(&self, id: &i64) -> bool {
        self.values.deal.trim() == id.to_string()
    }
}

async fn form_page(
    state: &AppState,
    me: &Identity,
    id: Option<i64>,
    number: String,
    version: i64,
    values: FormValues,
    errors: Errors,
) -> Result<FormPage, PageError> {
    let tenant = me.tenant();
    // The deals offered are the client's; a deal named in the URL or the quote stays offered.
    let client = resolve_client(state, me, &values.client)
        .await
        .ok()
        .flatten();
    let mut deals = deal_choices(state, me, client).await?;
    if let Ok(deal) = values.deal.trim().parse::<i64>()
        && !deals.iter().any(|(d, _)| *d == deal)
        && let Ok(found) = kith_store::deals::get(&state.db, tenant, DealId(deal)).await
    {
        let label = deal_label(&found.title, found.value, &found.currency);
        deals.insert(0, (found.id, label));
    }
    Ok(FormPage {
        layout: Layout::new(me, "quotes"),
        id,
        number,
        version,
        rows: values.rows(),
        values,
        errors,
        statuses: status_choices(),
        deals,
        unsaved: Vec::new(),
    })
}

#[derive(Template)]
#[template(path = "quotes/deal_options.html")]
struct DealOptions {
    deals: Vec<(i64, String)>,
}

/// The deal menu's options for the client typed in the form, fetched by htmx when the client
/// changes.
pub async fn deal_options(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let params = Params::from_query(query.as_deref());
    let client = resolve_client(&state, &me, params.raw("client").unwrap_or_default())
        .await
        .ok()
        .flatten();
    let deals = deal_choices(&state, &me, client).await?;
    render(&DealOptions { deals })
}

/// The deal menu of a client: id and label, newest first.
async fn deal_choices(
    state: &AppState,
    me: &Identity,
    client: Option<i64>,
) -> Result<Vec<(i64, String)>, PageError> {
    let Some(client) = client else {
        return Ok(Vec::new());
    };
    let deals = quotes::deal_choices(&state.db, me.tenant(), ClientId(client)).await?;
    Ok(deals
        .into_iter()
        .map(|(id, title, value, currency)| (id, deal_label(&title, value, &currency)))
        .collect())
}

/// "Managed services — USD 12,000.00": deals of one client often share a title.
fn deal_label(title: &str, value: i64, currency: &str) -> String {
    format!("{title} — {}", format_money(value, currency))
}

pub async fn new(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    me.may_write().map_err(PageError::Forbidden)?;
    let params = Params::from_query(query.as_deref());
    let tenant = tenants::get(&state.db, me.tenant()).await?;
    let mut values = FormValues {
        status: QuoteStatus::Draft.as_str().into(),
        currency: tenant.currency.clone(),
        ..Default::default()
    };
    if let Ok(Some(deal)) = params.id("deal")
        && let Ok(found) = kith_store::deals::get(&state.db, me.tenant(), DealId(deal)).await
    {
        values.deal = found.id.to_string();
        values.currency = found.currency.clone();
        if let (Some(client), Some(name)) = (found.client_id, found.client_name) {
            values.client = format!("{name} (#{client})");
        }
    }
    if let Ok(Some(client)) = params.id("client")
        && let Some(name) = clients::names(&state.db, me.tenant(), &[client])
            .await?
            .remove(&client)
    {
        values.client = format!("{name} (#{client})");
    }
    let page = form_page(
        &state,
        &me,
        None,
        String::new(),
        0,
        values,
        Errors::default(),
    )
    .await?;
    render(&page)
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
        Ok(id) => Ok(see_other(&format!("/crm/quotes/{}", id.0))),
        Err(StoreError::Invalid(invalid)) => {
            let page =
                form_page(&state, &me, None, String::new(), 0, values, invalid.into()).await?;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(other) => Err(other.into()),
    }
}

async fn save_new(
    state: &AppState,
    me: &Identity,
    fields: &QuoteFields,
) -> Result<QuoteId, StoreError> {
    let mut tx = state.db.begin().await?;
    let created = quotes::create(&mut tx, me.tenant(), fields).await;
    Ok(tx.finish(created).await?.id)
}

/// "Create quote from deal": a draft with the deal's client, currency, value and recurring
/// value, then the quote's page.
pub async fn from_deal(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    me.may_write().map_err(PageError::Forbidden)?;
    let mut tx = state.db.begin().await?;
    let created = quotes::create_from_deal(&mut tx, me.tenant(), DealId(id)).await;
    match tx.finish(created).await {
        Ok(created) => Ok(see_other(&format!("/crm/quotes/{}", created.id.0))),
        Err(StoreError::Invalid(invalid)) => Err(PageError::BadRequest(
            invalid
                .0
                .first()
                .map(|e| format!("This deal cannot be quoted yet: {}.", e.message))
                .unwrap_or_default(),
        )),
        Err(other) => Err(other.into()),
    }
}

/// One line as the quote page and the printable view show it.
struct LineRow {
    description: String,
    quantity: String,
    unit_price: String,
    discount_percent: i32,
    tax_percent: i32,
    optional: bool,
    recurring: bool,
    net: String,
    total: String,
}

/// A quote's figures, formatted, shared by the quote page and the printable view.
struct Figures {
    number: String,
    status: &'static str,
    status_key: &'static str,
    lines: Vec<LineRow>,
    subtotal: String,
    discount: String,
    has_discount: bool,
    tax: String,
    total: String,
    recurring_total: String,
    has_recurring: bool,
    has_optional: bool,
    notes: String,
}

impl Figures {
    fn new(quote: &Quote, lines: &[Line]) -> Self {
        let money = |minor: i64| format_amount(minor, &quote.currency);
        Self {
            number: quote.display_number(),
            status: quote.status().label(),
            status_key: quote.status().as_str(),
            lines: lines
                .iter()
                .map(|l| LineRow {
                    description: l.description.clone(),
                    quantity: format_quantity(l.quantity_hundredths),
                    unit_price: money(l.unit_price),
                    discount_percent: l.discount_percent,
                    tax_percent: l.tax_percent,
                    optional: l.optional,
                    recurring: l.recurring,
                    net: money(l.net),
                    total: money(l.total),
                })
                .collect(),
            subtotal: money(quote.subtotal),
            discount: money(quote.discount),
            has_discount: quote.discount != 0,
            tax: money(quote.tax),
            total: format_money(quote.total, &quote.currency),
            recurring_total: format_money(quote.recurring_total, &quote.currency),
            has_recurring: lines.iter().any(|l| l.recurring && !l.optional),
            has_optional: lines.iter().any(|l| l.optional),
            notes: markdown::render(quote.notes.as_deref().unwrap_or_default()),
        }
    }
}

#[derive(Template)]
#[template(path = "quotes/show.html")]
struct ShowPage {
    layout: Layout,
    quote: Quote,
    figures: Figures,
    statuses: Vec<(&'static str, &'static str)>,
    /// The valid-until date has passed while the quote is still open.
    lapsed: bool,
    created: String,
    updated: String,
}

pub async fn show(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let (quote, lines) = quotes::get_with_lines(&state.db, me.tenant(), QuoteId(id)).await?;
    let layout = Layout::new(&me, "quotes");
    let today = today_in(&me.user.time_zone, Utc::now());
    let open = matches!(quote.status(), QuoteStatus::Draft | QuoteStatus::Sent);
    let page = ShowPage {
        figures: Figures::new(&quote, &lines),
        statuses: status_choices(),
        lapsed: open && quote.valid_until.is_some_and(|d| d < today),
        created: layout.time(&quote.created_at),
        updated: layout.time(&quote.updated_at),
        quote,
        layout,
    };
    render(&page)
}

#[derive(Template)]
#[template(path = "quotes/print.html")]
struct PrintPage {
    css: &'static str,
    workspace: String,
    quote: Quote,
    figures: Figures,
    client_address: String,
    issued: NaiveDate,
}

/// The printable quote: the quote alone on a white page, without the app's frame.
pub async fn print(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let tenant = me.tenant();
    let (quote, lines) = quotes::get_with_lines(&state.db, tenant, QuoteId(id)).await?;
    let workspace = tenants::get(&state.db, tenant).await?.name;
    let client = clients::get(&state.db, tenant, ClientId(quote.client_id)).await?;
    let zone = me.user.time_zone.parse().unwrap_or(chrono_tz::Tz::UTC);
    let page = PrintPage {
        css: crate::assets::CSS_PATH,
        workspace,
        figures: Figures::new(&quote, &lines),
        client_address: client.address.unwrap_or_default(),
        issued: quote.created_at.with_timezone(&zone).date_naive(),
        quote,
    };
    render(&page)
}

pub async fn edit(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    me.may_write().map_err(PageError::Forbidden)?;
    let (quote, lines) = quotes::get_with_lines(&state.db, me.tenant(), QuoteId(id)).await?;
    let values = FormValues::from_quote(&quote, &lines);
    let page = form_page(
        &state,
        &me,
        Some(id),
        quote.display_number(),
        quote.version,
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
    me.may_write().map_err(PageError::Forbidden)?;
    let quote = quotes::get(&state.db, me.tenant(), QuoteId(id)).await?;
    let form = Params::parse(&body);
    let values = FormValues::read(&form);
    let version = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);

    let saved = match values.parse(&state, &me).await {
        Ok(fields) => {
            let mut tx = state.db.begin().await?;
            let result = quotes::update(&mut tx, me.tenant(), QuoteId(id), version, &fields).await;
            tx.finish(result).await
        }
        Err(invalid) => Err(StoreError::Invalid(invalid)),
    };
    match saved {
        Ok(_) => Ok(see_other(&format!("/crm/quotes/{id}"))),
        Err(StoreError::Invalid(invalid)) => {
            let page = form_page(
                &state,
                &me,
                Some(id),
                quote.display_number(),
                version,
                values,
                invalid.into(),
            )
            .await?;
            render_with(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(StoreError::Stale { .. }) => {
            // Show the quote as saved now, with what this user typed listed above it, so that
            // saving again never silently undoes someone else's change.
            let (current, lines) =
                quotes::get_with_lines(&state.db, me.tenant(), QuoteId(id)).await?;
            let stale = Invalid::one(
                "version",
                "Someone else saved this quote while you were editing. The form now shows their \
                 version; your values are listed above it. Nothing of yours was saved.",
            );
            let mut page = form_page(
                &state,
                &me,
                Some(id),
                current.display_number(),
                current.version,
                FormValues::from_quote(&current, &lines),
                stale.into(),
            )
            .await?;
            page.unsaved = values.summary();
            render_with(StatusCode::CONFLICT, &page)
        }
        Err(other) => Err(other.into()),
    }
}

/// Changes a quote's status from the version the user saw.
pub async fn set_status(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    me.may_write().map_err(PageError::Forbidden)?;
    let quote = quotes::get(&state.db, me.tenant(), QuoteId(id)).await?;
    let form = Params::parse(&body);
    let status = QuoteStatus::parse(form.get("status").unwrap_or_default())
        .map_err(|m| PageError::BadRequest(format!("Status: {m}.")))?;
    let version = form
        .get("version")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);

    let mut tx = state.db.begin().await?;
    let result = quotes::set_status(&mut tx, me.tenant(), QuoteId(id), version, status).await;
    match tx.finish(result).await {
        Ok(_) => Ok(see_other(&format!("/crm/quotes/{id}"))),
        Err(StoreError::Stale { .. }) => Err(PageError::Conflict(format!(
            "{} was changed by someone else meanwhile, so its status was not changed. Open it \
             again to see it as it is now.",
            quote.display_number()
        ))),
        Err(other) => Err(other.into()),
    }
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
    let result = quotes::delete(&mut tx, me.tenant(), QuoteId(id), version).await;
    tx.finish(result).await?;
    Ok(see_other("/crm/quotes"))
}
