//! `kith demo`: a demo workspace filled with public sample data, as `crates/kith/demo/NOTICE.md`
//! lists it: the Maven Analytics accounts become clients, Atomic CRM's people become
//! contacts, and the
//! Maven sales pipeline becomes 8,800 deals owned by its sales agents.
//!
//! Like `kith import`, every row that is not loaded as the file has it is reported with its row
//! number and the reason; nothing disappears silently. Rows are numbered as a spreadsheet shows
//! them: the header is row 1.

use crate::cli::create_tenant;
use crate::import::{self, Entity, RowNote};
use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use kith_domain::deal::{DealFields, DealInput};
use kith_domain::picklist::PickLists;
use kith_domain::pipeline::{StageKind, today_in};
use kith_domain::tenant::NewTenant;
use kith_domain::{Email, Role, TenantId};
use kith_store::stages::Stage;
use kith_store::users::NewUser;
use kith_store::{Db, StoreError, clients, deals, picklists, stages, tenants, users};
use std::collections::{HashMap, HashSet};
use std::fmt;

const ACCOUNTS: &str = include_str!("../demo/maven-accounts.csv");
const CONTACTS: &str = include_str!("../demo/atomic-contacts.csv");
const PIPELINE: &str = include_str!("../demo/maven-sales-pipeline.csv");
const SALES_TEAMS: &str = include_str!("../demo/maven-sales-teams.csv");
const PRODUCTS: &str = include_str!("../demo/maven-products.csv");

/// The pipeline's amounts are US dollars, whatever the workspace's currency.
const FILE_CURRENCY: &str = "USD";

/// Deals saved per transaction: far fewer commits than one per row, and a failure still loses
/// at most one batch, which the report names.
const BATCH: usize = 250;

/// Row numbers shown per note; the count says how many there are in all.
const ROWS_SHOWN: usize = 8;

/// Creates the demo workspace, loads the sample data into it and prints what was loaded.
pub async fn run(db: &Db, email: &str, password: &str) -> anyhow::Result<()> {
    if users::find_for_login(db, email).await?.is_some() {
        bail!(
            "{email} already has an account, so the demo was loaded before; sign in with it, or pass --email"
        );
    }
    let tenant = NewTenant::parse("Demo MSP", "USD", "US", "America/New_York")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = create_tenant(db, &tenant, email, password, "Demo Owner").await?;

    let loaded = load(db, id).await?;
    print!("{loaded}");
    let owner = users::find_for_login(db, email)
        .await?
        .map(|(user, _)| kith_domain::UserId(user.id))
        .context("the demo owner was just created")?;
    let now = Utc::now();
    let today = today_in(&tenant.time_zone, now);
    let logged = crate::demo_activities::load(db, id, owner, today, now).await?;
    println!(
        "\nActivities (generated): {logged} on the first clients, with your follow-ups around today."
    );
    if loaded.stopped() {
        bail!("the demo data did not load completely");
    }
    println!(
        "\nDemo workspace \"Demo MSP\" is ready. Sign in as {email} with the password {password}"
    );
    Ok(())
}

/// What [`load`] did, file by file.
#[derive(Debug)]
pub struct Loaded {
    pub clients: import::Report,
    pub contacts: import::Report,
    pub deals: DealReport,
}

impl Loaded {
    /// Whether a load stopped before the end of its file.
    pub fn stopped(&self) -> bool {
        self.clients.stopped.is_some()
            || self.contacts.stopped.is_some()
            || self.deals.stopped.is_some()
    }
}

impl fmt::Display for Loaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Clients from the Maven Analytics accounts (public domain):"
        )?;
        write!(f, "{}", self.clients)?;
        writeln!(f, "\nContacts from Atomic CRM (MIT, Marmelab):")?;
        write!(f, "{}", self.contacts)?;
        writeln!(
            f,
            "\nDeals from the Maven Analytics sales pipeline (public domain):"
        )?;
        write!(f, "{}", self.deals)
    }
}

/// Loads the sample clients, contacts and deals into `tenant`.
pub async fn load(db: &Db, tenant: TenantId) -> anyhow::Result<Loaded> {
    let clients = import::run(db, tenant, Entity::Clients, ACCOUNTS.as_bytes()).await?;
    let contacts = import::run(db, tenant, Entity::Contacts, CONTACTS.as_bytes()).await?;
    let deals = load_deals(db, tenant).await?;
    Ok(Loaded {
        clients,
        contacts,
        deals,
    })
}

/// The outcome of loading the sales pipeline.
#[derive(Debug, Default)]
pub struct DealReport {
    /// Rows of the pipeline file read.
    pub rows: u64,
    pub created: u64,
    /// Deals created per stage, in board order; stages that received none are left out.
    pub per_stage: Vec<(String, u64)>,
    /// Rows not loaded, with the reason.
    pub failed: Vec<RowNote>,
    /// Rows loaded other than the file has them (no client, a product spelled differently…).
    pub remarks: Vec<RowNote>,
    /// Sales agents who became users of the workspace.
    pub agents_created: u64,
    /// Sales agents who own no deal in the pipeline.
    pub agents_without_deals: Vec<String>,
    /// What went wrong with the sales teams file, one sentence each.
    pub agent_notes: Vec<String>,
    /// Open deals whose value is their product's list price.
    pub priced_from_products: u64,
    /// Set when saving stopped early: the row, the error and the first row not saved.
    pub stopped: Option<String>,
}

impl fmt::Display for DealReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} rows read: {} deals created, {} failed.",
            self.rows,
            self.created,
            self.failed.len()
        )?;
        if let Some(reason) = &self.stopped {
            writeln!(
                f,
                "Loading stopped at {reason}; the rows before it are saved."
            )?;
        }
        let per_stage: Vec<String> = self
            .per_stage
            .iter()
            .map(|(stage, count)| format!("{stage} {count}"))
            .collect();
        writeln!(f, "Deals per stage: {}.", per_stage.join(", "))?;
        writeln!(
            f,
            "{} sales agents from maven-sales-teams.csv added as members who cannot sign in \
             (their password is random and was never shown).",
            self.agents_created
        )?;
        if !self.agents_without_deals.is_empty() {
            writeln!(
                f,
                "{} of them own no deal in the pipeline: {}.",
                self.agents_without_deals.len(),
                self.agents_without_deals.join(", ")
            )?;
        }
        writeln!(
            f,
            "The file has no value for open deals: {} took their product's list price from \
             maven-products.csv.",
            self.priced_from_products
        )?;
        writeln!(
            f,
            "Kept in each deal's notes: opportunity_id and engage_date. Not loaded: the agents' \
             manager and regional_office (a user has no such fields) and the products' series."
        )?;
        for note in &self.agent_notes {
            writeln!(f, "Note: {note}")?;
        }
        write_grouped(f, "Failed", &self.failed)?;
        write_grouped(f, "Note", &self.remarks)
    }
}

/// One line per distinct message: how many rows have it, and the first few of them.
fn write_grouped(f: &mut fmt::Formatter<'_>, title: &str, notes: &[RowNote]) -> fmt::Result {
    let mut grouped: Vec<(&str, Vec<u64>)> = Vec::new();
    for note in notes {
        match grouped.iter_mut().find(|(m, _)| *m == note.message) {
            Some((_, rows)) => rows.push(note.row),
            None => grouped.push((&note.message, vec![note.row])),
        }
    }
    for (message, rows) in grouped {
        let shown: Vec<String> = rows.iter().take(ROWS_SHOWN).map(u64::to_string).collect();
        let (count, listed) = match rows.len() {
            1 => ("1 row".to_owned(), format!("row {}", shown.join(""))),
            n if n > ROWS_SHOWN => (
                format!("{n} rows"),
                format!("rows {} and {} more", shown.join(", "), n - ROWS_SHOWN),
            ),
            n => (format!("{n} rows"), format!("rows {}", shown.join(", "))),
        };
        writeln!(f, "{title} ({count}): {message} ({listed}).")?;
    }
    Ok(())
}

/// The pipeline's `deal_stage` values, which map onto the workspace's stages by their flags and
/// board order, never by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileStage {
    Prospecting,
    Engaging,
    Won,
    Lost,
}

impl FileStage {
    fn parse(value: &str) -> Option<Self> {
        match value {
            "Prospecting" => Some(Self::Prospecting),
            "Engaging" => Some(Self::Engaging),
            "Won" => Some(Self::Won),
            "Lost" => Some(Self::Lost),
            _ => None,
        }
    }

    fn is_closed(self) -> bool {
        matches!(self, Self::Won | Self::Lost)
    }
}

/// Which stage of the workspace each [`FileStage`] lands in.
struct StageMap {
    prospecting: i64,
    engaging: i64,
    won: i64,
    lost: i64,
}

impl StageMap {
    /// Prospecting → the first open stage, Engaging → the second, Won → the first won stage,
    /// Lost → the first lost stage.
    fn new(stages: &[Stage]) -> anyhow::Result<Self> {
        let first = |kind: StageKind| stages.iter().find(|s| s.kind() == kind).map(|s| s.id);
        let open: Vec<i64> = stages
            .iter()
            .filter(|s| s.kind() == StageKind::Open)
            .map(|s| s.id)
            .collect();
        let (Some(won), Some(lost), [prospecting, engaging, ..]) = (
            first(StageKind::Won),
            first(StageKind::Lost),
            open.as_slice(),
        ) else {
            bail!(
                "the sales pipeline needs two open stages, a won stage and a lost stage; the \
                 workspace has {} open, {} won and {} lost",
                open.len(),
                stages.iter().filter(|s| s.kind() == StageKind::Won).count(),
                stages
                    .iter()
                    .filter(|s| s.kind() == StageKind::Lost)
                    .count()
            );
        };
        Ok(Self {
            prospecting: *prospecting,
            engaging: *engaging,
            won,
            lost,
        })
    }

    fn stage_of(&self, stage: FileStage) -> i64 {
        match stage {
            FileStage::Prospecting => self.prospecting,
            FileStage::Engaging => self.engaging,
            FileStage::Won => self.won,
            FileStage::Lost => self.lost,
        }
    }
}

/// A product of the price list.
struct Product {
    name: String,
    /// Whole dollars, as the file has them.
    price: String,
}

/// The product a pipeline row names: `Ok` when the price list has it, `Err` with the one it
/// differs from only by spaces and case (the pipeline writes `GTXPro` for `GTX Pro`), or with
/// none.
fn find_product<'p>(
    products: &'p [Product],
    name: &str,
) -> Result<&'p Product, Option<&'p Product>> {
    if let Some(exact) = products.iter().find(|p| p.name == name) {
        return Ok(exact);
    }
    let squash = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let wanted = squash(name);
    let close: Vec<&Product> = products
        .iter()
        .filter(|p| squash(&p.name) == wanted)
        .collect();
    match close.as_slice() {
        [only] => Err(Some(only)),
        _ => Err(None),
    }
}

/// The login email of a sales agent: `first.last@agents.demo.example`.
fn agent_email(name: &str) -> String {
    let local: Vec<String> = name
        .split_whitespace()
        .map(|word| {
            word.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .flat_map(|c| c.to_lowercase())
                .collect::<String>()
        })
        .filter(|word| !word.is_empty())
        .collect();
    format!("{}@agents.demo.example", local.join("."))
}

/// A password hash nobody can sign in with: the hash of 32 random bytes that are never shown
/// or stored. Users have no "cannot sign in" flag; this is what stands in for one.
fn unusable_password_hash() -> anyhow::Result<String> {
    let secret: [u8; 32] = rand::random();
    let text: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    kith_web::password::hash(&text).map_err(anyhow::Error::msg)
}

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes())
}

/// Where each of `names` sits in the header row of `file`.
fn columns<const N: usize>(
    reader: &mut csv::Reader<&[u8]>,
    file: &str,
    names: [&str; N],
) -> anyhow::Result<[usize; N]> {
    let headers = reader
        .headers()
        .with_context(|| format!("could not read the header row of {file}"))?
        .clone();
    let mut found = [0; N];
    for (slot, name) in found.iter_mut().zip(names) {
        *slot = headers
            .iter()
            .position(|h| h.trim() == name)
            .with_context(|| format!("{file} has no column {name}"))?;
    }
    Ok(found)
}

/// Adds the sales agents of the teams file as members who cannot sign in. Returns each agent's
/// user id by name.
async fn add_agents(
    db: &Db,
    tenant: TenantId,
    time_zone: &str,
    report: &mut DealReport,
) -> anyhow::Result<HashMap<String, i64>> {
    let mut reader = csv_reader(SALES_TEAMS);
    let [name_column] = columns(&mut reader, "maven-sales-teams.csv", ["sales_agent"])?;
    // One hash serves every agent: the secret behind it is gone either way, and each Argon2
    // hash takes a noticeable fraction of a second.
    let password_hash = unusable_password_hash()?;
    let mut agents = HashMap::new();
    for (index, record) in reader.records().enumerate() {
        let row = index + 2;
        let record = record.with_context(|| format!("maven-sales-teams.csv row {row}"))?;
        let name = record.get(name_column).unwrap_or_default().trim();
        if name.is_empty() {
            report
                .agent_notes
                .push(format!("maven-sales-teams.csv row {row} names no agent."));
            continue;
        }
        if agents.contains_key(name) {
            report.agent_notes.push(format!(
                "maven-sales-teams.csv row {row} repeats the agent {name}; one user was created."
            ));
            continue;
        }
        let email = agent_email(name);
        let user = NewUser {
            email: Email::parse(&email)
                .map_err(|m| anyhow::anyhow!("the email {email} of agent {name}: {m}"))?,
            name: name.to_owned(),
            password_hash: password_hash.clone(),
            role: Role::Member,
            time_zone: time_zone.to_owned(),
        };
        let mut tx = db.begin().await?;
        match users::create(&mut tx, tenant, &user).await {
            Ok(id) => {
                tx.commit().await?;
                agents.insert(name.to_owned(), id.0);
                report.agents_created += 1;
            }
            // Someone already signs in with this email, in this workspace or another.
            Err(StoreError::Invalid(invalid)) => report.agent_notes.push(format!(
                "the agent {name} (maven-sales-teams.csv row {row}) could not become a user: \
                 {invalid}; their deals have no owner."
            )),
            Err(other) => return Err(other.into()),
        }
    }
    Ok(agents)
}

fn read_products() -> anyhow::Result<Vec<Product>> {
    let mut reader = csv_reader(PRODUCTS);
    let [name, price] = columns(
        &mut reader,
        "maven-products.csv",
        ["product", "sales_price"],
    )?;
    let mut products = Vec::new();
    for record in reader.records() {
        let record = record.context("maven-products.csv")?;
        products.push(Product {
            name: record.get(name).unwrap_or_default().trim().to_owned(),
            price: record.get(price).unwrap_or_default().trim().to_owned(),
        });
    }
    Ok(products)
}

/// A pipeline row ready to save, with what was read other than the file has it.
struct Planned {
    row: u64,
    fields: DealFields,
    close_date: Option<NaiveDate>,
    /// When the file says the deal entered its stage: closed, or else engaged.
    entered: Option<NaiveDate>,
    remarks: Vec<String>,
    priced_from_products: bool,
}

/// The pipeline's columns, by position.
struct PipelineColumns {
    opportunity: usize,
    agent: usize,
    product: usize,
    account: usize,
    stage: usize,
    engage_date: usize,
    close_date: usize,
    close_value: usize,
    width: usize,
}

impl PipelineColumns {
    fn read(reader: &mut csv::Reader<&[u8]>) -> anyhow::Result<Self> {
        let [
            opportunity,
            agent,
            product,
            account,
            stage,
            engage_date,
            close_date,
            close_value,
        ] = columns(
            reader,
            "maven-sales-pipeline.csv",
            [
                "opportunity_id",
                "sales_agent",
                "product",
                "account",
                "deal_stage",
                "engage_date",
                "close_date",
                "close_value",
            ],
        )?;
        Ok(Self {
            opportunity,
            agent,
            product,
            account,
            stage,
            engage_date,
            close_date,
            close_value,
            width: reader.headers()?.len(),
        })
    }
}

/// What the pipeline's rows are read against: the workspace's stages, lists, clients and users.
struct Reader<'a> {
    currency: String,
    stages: StageMap,
    lists: PickLists,
    products: Vec<Product>,
    agents: HashMap<String, i64>,
    columns: PipelineColumns,
    accounts: Accounts<'a>,
    /// Opportunity ids read so far, with their row.
    seen: HashMap<String, u64>,
}

impl Reader<'_> {
    /// Reads one row into a deal, or says why it cannot be one.
    async fn plan(
        &mut self,
        row: u64,
        record: &csv::StringRecord,
    ) -> anyhow::Result<Result<Planned, String>> {
        let columns = &self.columns;
        if record.len() != columns.width {
            return Ok(Err(format!(
                "has {} fields where the header has {}; values would land in the wrong columns",
                record.len(),
                columns.width
            )));
        }
        let field = |column: usize| record.get(column).unwrap_or_default().trim();
        let opportunity = field(columns.opportunity);
        if let Some(first) = self.seen.get(opportunity) {
            return Ok(Err(format!("same opportunity_id as row {first}")));
        }
        let Some(stage) = FileStage::parse(field(columns.stage)) else {
            return Ok(Err(format!(
                "deal_stage \"{}\" is none of Prospecting, Engaging, Won and Lost",
                field(columns.stage)
            )));
        };
        let close_date = match field(columns.close_date) {
            "" => None,
            typed => match NaiveDate::parse_from_str(typed, "%Y-%m-%d") {
                Ok(date) => Some(date),
                Err(_) => {
                    return Ok(Err(format!(
                        "close_date \"{typed}\" is not a YYYY-MM-DD date"
                    )));
                }
            },
        };
        let mut remarks = Vec::new();

        let product_name = field(columns.product);
        let product = match find_product(&self.products, product_name) {
            Ok(product) => Some(product),
            Err(Some(like)) => {
                remarks.push(format!(
                    "the product \"{product_name}\" is not in maven-products.csv; the title keeps \
                     \"{product_name}\", and it is read as \"{}\" for the price of open deals",
                    like.name
                ));
                Some(like)
            }
            Err(None) => {
                remarks.push(format!(
                    "the product \"{product_name}\" is not in maven-products.csv, so open deals \
                     naming it have no value"
                ));
                None
            }
        };

        let close_value = field(columns.close_value);
        let value = deal_value(stage, close_date, close_value, product, &mut remarks);
        let priced_from_products = !stage.is_closed() && value.is_some();

        let client_id = match self.accounts.client(field(columns.account)).await? {
            Ok(id) => Some(id),
            Err(why) => {
                remarks.push(format!("{why}; the deal has no client"));
                None
            }
        };
        let agent = field(columns.agent);
        let owner_id = self.agents.get(agent).copied();
        if owner_id.is_none() {
            remarks.push(format!(
                "the sales agent \"{agent}\" is not a user; the deal has no owner"
            ));
        }
        let engaged = NaiveDate::parse_from_str(field(columns.engage_date), "%Y-%m-%d").ok();
        let notes = match field(columns.engage_date) {
            "" => format!("Maven opportunity {opportunity}."),
            engaged => format!("Maven opportunity {opportunity}, engaged {engaged}."),
        };

        let input = DealInput {
            title: product_name.to_owned(),
            client_id,
            value,
            currency: Some(FILE_CURRENCY.into()),
            owner_id,
            stage_id: Some(self.stages.stage_of(stage)),
            notes: Some(notes),
            ..Default::default()
        };
        let fields = match DealFields::parse(&input, &self.lists, &self.currency) {
            Ok(fields) => fields,
            Err(invalid) => return Ok(Err(invalid.to_string())),
        };
        self.seen.insert(opportunity.to_owned(), row);
        Ok(Ok(Planned {
            row,
            fields,
            close_date: close_date.filter(|_| stage.is_closed()),
            entered: close_date.filter(|_| stage.is_closed()).or(engaged),
            remarks,
            priced_from_products,
        }))
    }
}

/// The clients the pipeline's accounts name, looked up once per name.
struct Accounts<'a> {
    db: &'a Db,
    tenant: TenantId,
    /// A client id by account name, or why the account has none.
    found: HashMap<String, Result<i64, String>>,
}

impl Accounts<'_> {
    /// The client `account` names; `Err` says why there is none.
    async fn client(&mut self, account: &str) -> anyhow::Result<Result<i64, String>> {
        if account.is_empty() {
            return Ok(Err("no account".into()));
        }
        if let Some(found) = self.found.get(account) {
            return Ok(found.clone());
        }
        let found = match clients::ids_named(self.db, self.tenant, account)
            .await?
            .as_slice()
        {
            [id] => Ok(*id),
            [] => Err(format!("the account \"{account}\" is not a client")),
            _ => Err(format!("the account \"{account}\" names several clients")),
        };
        self.found.insert(account.to_owned(), found.clone());
        Ok(found)
    }
}

/// The value of a pipeline row's deal, as text in dollars, with remarks on what the row lacks.
///
/// Won and lost rows carry what the deal closed at (lost ones 0). Open rows carry no value at
/// all, so they take their product's list price from the products file: what the deal is worth
/// if it is won.
fn deal_value(
    stage: FileStage,
    close_date: Option<NaiveDate>,
    close_value: &str,
    product: Option<&Product>,
    remarks: &mut Vec<String>,
) -> Option<String> {
    if !stage.is_closed() {
        if close_date.is_some() || !close_value.is_empty() {
            remarks.push(
                "an open deal with a close_date or close_value; neither is kept, as the deal is \
                 not closed"
                    .into(),
            );
        }
        return product.map(|p| p.price.clone());
    }
    if close_date.is_none() {
        remarks.push(
            "a closed deal without a close_date; its close date is the day of loading".into(),
        );
    }
    if close_value.is_empty() {
        remarks.push("a closed deal without a close_value; its value is 0".into());
        return None;
    }
    Some(close_value.to_owned())
}

/// Loads the Maven sales pipeline as deals: each agent becomes a member who owns their deals,
/// each account is found among the clients by name, and each `deal_stage` lands in the stage
/// [`StageMap`] gives it. Run it after the accounts are loaded as clients.
pub async fn load_deals(db: &Db, tenant: TenantId) -> anyhow::Result<DealReport> {
    let mut report = DealReport::default();
    let workspace = tenants::get(db, tenant).await?;
    let board = stages::list(db, tenant).await?;
    let mut csv = csv_reader(PIPELINE);
    let mut reader = Reader {
        currency: workspace.currency.clone(),
        stages: StageMap::new(&board)?,
        lists: picklists::load(db, tenant).await?,
        products: read_products()?,
        agents: add_agents(db, tenant, &workspace.time_zone, &mut report).await?,
        columns: PipelineColumns::read(&mut csv)?,
        accounts: Accounts {
            db,
            tenant,
            found: HashMap::new(),
        },
        seen: HashMap::new(),
    };

    let mut planned = Vec::new();
    for (index, record) in csv.records().enumerate() {
        let row = index as u64 + 2;
        report.rows += 1;
        let outcome = match record {
            Ok(record) => reader.plan(row, &record).await?,
            Err(error) => Err(format!("could not be read as CSV: {error}")),
        };
        match outcome {
            Ok(deal) => planned.push(deal),
            Err(message) => report.failed.push(RowNote { row, message }),
        }
    }

    let today = today_in(&workspace.time_zone, Utc::now());
    let owners = save(db, tenant, today, &board, &planned, &mut report).await?;

    let mut agents: Vec<(&String, &i64)> = reader.agents.iter().collect();
    agents.sort();
    report.agents_without_deals = agents
        .into_iter()
        .filter(|(_, id)| !owners.contains(id))
        .map(|(name, _)| name.clone())
        .collect();
    report.failed.sort_by_key(|n| n.row);
    Ok(report)
}

/// Saves the deals a few hundred to a transaction and books what was saved: the count per
/// stage and each saved row's remarks. Returns the owners of the saved deals.
async fn save(
    db: &Db,
    tenant: TenantId,
    today: NaiveDate,
    board: &[Stage],
    planned: &[Planned],
    report: &mut DealReport,
) -> anyhow::Result<HashSet<i64>> {
    let mut per_stage: HashMap<i64, u64> = HashMap::new();
    let mut owners = HashSet::new();
    for batch in planned.chunks(BATCH) {
        let mut tx = db.begin().await?;
        let mut saved = Vec::with_capacity(batch.len());
        for deal in batch {
            match deals::create(&mut tx, tenant, &deal.fields, None, today, deal.close_date).await {
                Ok(id) => {
                    if let Some(day) = deal.entered {
                        let noon = day.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc();
                        deals::date_creation(&mut tx, tenant, id, noon).await?;
                    }
                    saved.push(deal);
                }
                // Refused before anything was written, so the transaction goes on.
                Err(StoreError::Invalid(invalid)) => report.failed.push(RowNote {
                    row: deal.row,
                    message: invalid.to_string(),
                }),
                Err(other) => {
                    report.stopped = Some(format!(
                        "row {} ({other}); the deals from row {} on were not saved",
                        deal.row, batch[0].row
                    ));
                    break;
                }
            }
        }
        if report.stopped.is_some() {
            break;
        }
        tx.commit().await?;

        report.created += saved.len() as u64;
        for deal in saved {
            *per_stage
                .entry(deal.fields.stage_id.unwrap_or_default())
                .or_default() += 1;
            owners.extend(deal.fields.owner_id);
            report.priced_from_products += u64::from(deal.priced_from_products);
            report
                .remarks
                .extend(deal.remarks.iter().map(|message| RowNote {
                    row: deal.row,
                    message: message.clone(),
                }));
        }
    }
    report.per_stage = board
        .iter()
        .filter_map(|s| Some((s.name.clone(), *per_stage.get(&s.id)?)))
        .collect();
    Ok(owners)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_emails_are_first_dot_last() {
        assert_eq!(
            agent_email("Moses Frase"),
            "moses.frase@agents.demo.example"
        );
        assert_eq!(
            agent_email("Mei-Mei  Johns"),
            "mei-mei.johns@agents.demo.example"
        );
    }

    #[test]
    fn a_product_spelled_without_its_space_is_found_but_not_as_an_exact_match() {
        let products = vec![Product {
            name: "GTX Pro".into(),
            price: "4821".into(),
        }];
        assert!(find_product(&products, "GTX Pro").is_ok());
        assert_eq!(
            find_product(&products, "GTXPro")
                .err()
                .flatten()
                .map(|p| p.price.as_str()),
            Some("4821")
        );
        assert!(matches!(find_product(&products, "GTK 500"), Err(None)));
    }
}
