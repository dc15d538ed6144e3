//! `kith import clients|contacts|deals FILE`: CSV import from the command line, with columns mapped
//! by header name (common synonyms included). Every row that is not imported is reported with
//! its row number and reason; nothing disappears silently.
//!
//! Rows are numbered as a spreadsheet shows them: the header is row 1, the first record row 2
//! (a record with line breaks inside quotes is still one row).

use anyhow::Context;
use kith_domain::client::{ClientFields, ClientInput};
use kith_domain::contact::{ConsentSource, ContactFields, ContactInput, PhoneInput};
use kith_domain::deal::{DealFields, DealInput, parse_date};
use kith_domain::money::format_amount;
use kith_domain::picklist::{ListKind, PickLists};
use kith_domain::{ClientId, DealId, TenantId};
use kith_store::contacts::Actor;
use kith_store::{Db, StoreError, clients, contacts, deals, picklists, tenants};
use std::collections::HashMap;
use std::fmt;
use std::io::Read;

// TODO(#8): encoding detection, delimiter detection, manual mapping, dry run, duplicate
// policies, background jobs with progress and undo belong to the import screen; this CLI path
// reads UTF-8 comma-separated files and skips rows that match an existing record.

/// What can be imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Entity {
    Clients,
    Contacts,
    Deals,
}

/// One row that was not imported, or imported with a remark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowNote {
    pub row: u64,
    pub message: String,
}

/// The outcome of one import.
#[derive(Debug, Default)]
pub struct Report {
    pub rows: u64,
    pub created: u64,
    /// Deals found again by their external id and brought up to date.
    pub updated: u64,
    pub skipped: Vec<RowNote>,
    pub failed: Vec<RowNote>,
    pub remarks: Vec<RowNote>,
    pub clients_created: u64,
    pub ignored_columns: Vec<String>,
    pub new_list_values: Vec<String>,
    /// Set when the import stopped early; rows after that point were not read.
    pub stopped: Option<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} rows read: {} created, {} updated, {} skipped, {} failed.",
            self.rows,
            self.created,
            self.updated,
            self.skipped.len(),
            self.failed.len()
        )?;
        if let Some(reason) = &self.stopped {
            writeln!(
                f,
                "The import stopped at {reason}. Rows after it were not read; rows before it are saved."
            )?;
        }
        if self.clients_created > 0 {
            writeln!(
                f,
                "{} clients created for the contacts' companies.",
                self.clients_created
            )?;
        }
        if !self.ignored_columns.is_empty() {
            writeln!(
                f,
                "Columns not imported: {}.",
                self.ignored_columns.join(", ")
            )?;
        }
        if !self.new_list_values.is_empty() {
            writeln!(
                f,
                "Values added to the lists: {}.",
                self.new_list_values.join(", ")
            )?;
        }
        for (title, notes) in [("Skipped", &self.skipped), ("Failed", &self.failed)] {
            for note in notes {
                writeln!(f, "{title}: row {}: {}", note.row, note.message)?;
            }
        }
        // Remarks repeat (the same typo, many odd phone numbers): one line per remark.
        let mut grouped: Vec<(&str, Vec<u64>)> = Vec::new();
        for note in &self.remarks {
            match grouped
                .iter_mut()
                .find(|(message, _)| *message == note.message)
            {
                Some((_, rows)) if rows.last() == Some(&note.row) => {}
                Some((_, rows)) => rows.push(note.row),
                None => grouped.push((&note.message, vec![note.row])),
            }
        }
        for (message, rows) in grouped {
            let listed: Vec<String> = rows.iter().take(12).map(u64::to_string).collect();
            let more = if rows.len() > 12 {
                format!(" and {} more", rows.len() - 12)
            } else {
                String::new()
            };
            let noun = if rows.len() == 1 { "row" } else { "rows" };
            writeln!(f, "Note: {message} ({noun} {}{more})", listed.join(", "))?;
        }
        Ok(())
    }
}

/// A field of a record and the header names that mean it.
struct Target {
    field: &'static str,
    headers: &'static [&'static str],
}

const CLIENT_COLUMNS: &[Target] = &[
    Target {
        field: "name",
        headers: &[
            "name",
            "account",
            "account_name",
            "company",
            "company_name",
            "organization",
            "organisation",
            "client",
            "client_name",
        ],
    },
    Target {
        field: "domains",
        headers: &["domain", "domains", "email_domain"],
    },
    Target {
        field: "website",
        headers: &["website", "url", "web", "homepage", "web_site"],
    },
    Target {
        field: "phone",
        headers: &["phone", "phone_number", "telephone", "tel", "main_phone"],
    },
    Target {
        field: "address",
        headers: &[
            "address",
            "street_address",
            "full_address",
            "office_location",
            "location",
            "country",
        ],
    },
    Target {
        field: "type",
        headers: &["type", "client_type", "account_type"],
    },
    Target {
        field: "lifecycle",
        headers: &["lifecycle", "lifecycle_stage", "stage", "status"],
    },
    Target {
        field: "industry",
        headers: &["industry", "sector", "vertical"],
    },
    Target {
        field: "tags",
        headers: &["tags", "labels", "categories"],
    },
    Target {
        field: "notes",
        headers: &["notes", "note", "description", "comments"],
    },
    Target {
        field: "parent",
        headers: &[
            "parent",
            "parent_account",
            "parent_company",
            "subsidiary_of",
        ],
    },
];

const CONTACT_COLUMNS: &[Target] = &[
    Target {
        field: "first_name",
        headers: &["first_name", "firstname", "first", "given_name"],
    },
    Target {
        field: "last_name",
        headers: &["last_name", "lastname", "last", "surname", "family_name"],
    },
    Target {
        field: "full_name",
        headers: &["name", "full_name", "contact_name"],
    },
    Target {
        field: "title",
        headers: &["title", "job_title", "position", "job"],
    },
    Target {
        field: "company",
        headers: &[
            "company",
            "company_name",
            "account",
            "account_name",
            "organization",
            "organisation",
            "client",
            "client_name",
        ],
    },
    Target {
        field: "email",
        headers: &[
            "email",
            "e_mail",
            "email_address",
            "primary_email",
            "email_1",
            "work_email",
            "email_work",
            "email_2",
            "email_home",
            "email_other",
            "other_email",
        ],
    },
    Target {
        field: "phone",
        headers: &[
            "phone",
            "phone_number",
            "telephone",
            "phone_1",
            "work_phone",
            "phone_work",
            "mobile",
            "mobile_phone",
            "cell",
            "phone_2",
            "phone_home",
            "home_phone",
            "phone_other",
            "other_phone",
        ],
    },
    Target {
        field: "tags",
        headers: &["tags", "labels"],
    },
    Target {
        field: "notes",
        headers: &["notes", "note", "background", "description", "comments"],
    },
];

const DEAL_COLUMNS: &[Target] = &[
    Target {
        field: "external_id",
        headers: &[
            "id",
            "external_id",
            "deal_id",
            "opportunity_id",
            "record_id",
        ],
    },
    Target {
        field: "title",
        headers: &[
            "title",
            "name",
            "deal",
            "deal_name",
            "opportunity",
            "opportunity_name",
            "product",
        ],
    },
    Target {
        field: "client",
        headers: &[
            "client",
            "client_name",
            "account",
            "account_name",
            "company",
            "organization",
        ],
    },
    Target {
        field: "value",
        headers: &["value", "amount", "deal_value", "close_value"],
    },
    Target {
        field: "currency",
        headers: &["currency", "currency_code"],
    },
    Target {
        field: "stage",
        headers: &["stage", "deal_stage", "pipeline_stage", "status"],
    },
    Target {
        field: "expected_close",
        headers: &["expected_close", "expected_close_date", "close_by"],
    },
    Target {
        field: "close_date",
        headers: &["close_date", "closed_on", "date_closed", "closed_at"],
    },
    Target {
        field: "owner",
        headers: &[
            "owner",
            "owner_email",
            "deal_owner",
            "sales_agent",
            "assigned_to",
        ],
    },
    Target {
        field: "source",
        headers: &["source", "lead_source", "deal_source"],
    },
    Target {
        field: "lost_reason",
        headers: &["lost_reason", "loss_reason"],
    },
    Target {
        field: "notes",
        headers: &["notes", "note", "description", "comments"],
    },
];

/// Normalises a header for matching: BOM and spaces gone, lower case, separators as `_`.
fn header_key(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase()
        .replace([' ', '-', '.'], "_")
}

/// Which columns feed which field; a field may take several columns (emails, phones).
struct Mapping {
    columns: HashMap<&'static str, Vec<(usize, String)>>,
    ignored: Vec<String>,
}

impl Mapping {
    fn new(headers: &csv::StringRecord, targets: &[Target]) -> Self {
        let mut columns: HashMap<&'static str, Vec<(usize, String)>> = HashMap::new();
        let mut ignored = Vec::new();
        for (index, header) in headers.iter().enumerate() {
            let key = header_key(header);
            let target = targets.iter().find(|t| t.headers.contains(&key.as_str()));
            match target {
                // A single-valued field takes its first matching column only.
                Some(t)
                    if t.field == "email"
                        || t.field == "phone"
                        || !columns.contains_key(t.field) =>
                {
                    columns.entry(t.field).or_default().push((index, key));
                }
                Some(t) => {
                    let first = columns
                        .get(t.field)
                        .and_then(|c| c.first())
                        .map(|(i, _)| headers.get(*i).unwrap_or_default())
                        .unwrap_or_default();
                    ignored.push(format!(
                        "{} (\"{}\" already gives the {})",
                        header.trim(),
                        first.trim_start_matches('\u{feff}').trim(),
                        t.field.replace('_', " ")
                    ));
                }
                None => ignored.push(header.trim_start_matches('\u{feff}').trim().to_owned()),
            }
        }
        Self { columns, ignored }
    }

    /// The first non-blank value of `field` in `record`.
    fn value(&self, record: &csv::StringRecord, field: &str) -> Option<String> {
        self.values(record, field)
            .into_iter()
            .next()
            .map(|(_, v)| v)
    }

    /// Every non-blank value of `field`, with the header it came from.
    fn values(&self, record: &csv::StringRecord, field: &str) -> Vec<(String, String)> {
        self.columns
            .get(field)
            .map(|columns| {
                columns
                    .iter()
                    .filter_map(|(index, key)| {
                        let value = record.get(*index)?.trim();
                        (!value.is_empty()).then(|| (key.clone(), value.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Imports `input` into `tenant`.
pub async fn run(
    db: &Db,
    tenant: TenantId,
    entity: Entity,
    input: impl Read,
) -> anyhow::Result<Report> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers = reader
        .headers()
        .context("could not read the header row")?
        .clone();
    let workspace = tenants::get(db, tenant).await?;
    let country = workspace.default_country;
    let targets = match entity {
        Entity::Clients => CLIENT_COLUMNS,
        Entity::Contacts => CONTACT_COLUMNS,
        Entity::Deals => DEAL_COLUMNS,
    };
    let mapping = Mapping::new(&headers, targets);
    let required = match entity {
        Entity::Clients => vec!["name"],
        Entity::Contacts => vec!["first_name", "last_name", "full_name", "email"],
        // An id alone finds deals to update; a new deal's row without a title is reported.
        Entity::Deals => vec!["title", "external_id"],
    };
    if !required.iter().any(|f| mapping.columns.contains_key(f)) {
        anyhow::bail!(
            "no column could be used: the header row needs one of {}; it has {}",
            required.join(", "),
            headers.iter().collect::<Vec<_>>().join(", ")
        );
    }

    let mut importer = Importer {
        db,
        tenant,
        country,
        currency: workspace.currency,
        time_zone: workspace.time_zone,
        mapping,
        report: Report::default(),
        seen: HashMap::new(),
        parents: Vec::new(),
        pending_clients: 0,
        pending_values: Vec::new(),
    };
    importer.report.ignored_columns = importer.mapping.ignored.clone();

    for (index, record) in reader.records().enumerate() {
        let row = index as u64 + 2;
        importer.report.rows += 1;
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                importer.fail(row, format!("could not be read as CSV: {error}"));
                continue;
            }
        };
        if record.len() != headers.len() {
            importer.fail(
                row,
                format!(
                    "has {} fields where the header has {}; values would land in the wrong columns",
                    record.len(),
                    headers.len()
                ),
            );
            continue;
        }
        importer.pending_clients = 0;
        importer.pending_values.clear();
        let outcome = match entity {
            Entity::Clients => importer.client_row(row, &record).await,
            Entity::Contacts => importer.contact_row(row, &record).await,
            Entity::Deals => importer.deal_row(row, &record).await,
        };
        // A failure the row itself did not cause (the database went away): stop, and say
        // where, so the report still accounts for every row read so far.
        if let Err(error) = outcome {
            importer.report.stopped = Some(format!("row {row}: {error:#}"));
            return Ok(importer.report);
        }
    }
    if let Err(error) = importer.link_parents().await {
        importer.report.stopped = Some(format!("while linking parent clients: {error:#}"));
    }
    Ok(importer.report)
}

struct Importer<'a> {
    db: &'a Db,
    tenant: TenantId,
    country: String,
    /// The workspace's currency, for deals that name none.
    currency: String,
    /// Whose "today" a deal closed by the import gets when the file has no close date.
    time_zone: String,
    mapping: Mapping,
    report: Report,
    /// Natural keys seen in this file, with the row that had them first.
    seen: HashMap<String, u64>,
    /// Clients whose parent is named in the file: (row, client, parent name).
    parents: Vec<(u64, ClientId, String)>,
    /// What the current row added, booked only if its transaction commits.
    pending_clients: u64,
    pending_values: Vec<String>,
}

impl Importer<'_> {
    fn fail(&mut self, row: u64, message: impl Into<String>) {
        self.report.failed.push(RowNote {
            row,
            message: message.into(),
        });
    }

    fn skip(&mut self, row: u64, message: impl Into<String>) {
        self.report.skipped.push(RowNote {
            row,
            message: message.into(),
        });
    }

    async fn client_row(&mut self, row: u64, record: &csv::StringRecord) -> anyhow::Result<()> {
        let Some(name) = self.mapping.value(record, "name") else {
            self.fail(row, "has no name");
            return Ok(());
        };
        let key = kith_domain::search::fold(&name);
        if let Some(first) = self.seen.get(&key) {
            self.skip(row, format!("same client name as row {first}"));
            return Ok(());
        }

        let mut tx = self.db.begin().await?;
        if clients::find_by_name(&mut tx, self.tenant, &name)
            .await?
            .is_some()
        {
            self.skip(row, "a client with this name already exists");
            return Ok(());
        }
        let lists = picklists::load(self.db, self.tenant).await?;
        let mut input = ClientInput {
            name,
            domains: self.mapping.value(record, "domains"),
            website: self.mapping.value(record, "website"),
            phone: self.mapping.value(record, "phone"),
            address: self.mapping.value(record, "address"),
            tags: self.mapping.value(record, "tags").into_iter().collect(),
            notes: self.mapping.value(record, "notes"),
            ..Default::default()
        };
        let mut labels = Vec::with_capacity(3);
        for (kind, field) in [
            (ListKind::ClientType, "type"),
            (ListKind::Lifecycle, "lifecycle"),
            (ListKind::Industry, "industry"),
        ] {
            let typed = self.mapping.value(record, field);
            labels.push(self.list_label(&mut tx, &lists, kind, row, typed).await?);
        }
        let [client_type, lifecycle, industry]: [Option<String>; 3] =
            labels.try_into().unwrap_or_default();
        input.client_type = client_type;
        input.lifecycle = lifecycle;
        input.industry = industry;
        let lists = picklists::load_in(&mut tx, self.tenant).await?;

        let fields = match ClientFields::parse(&input, &lists, &self.country) {
            Ok(fields) => fields,
            Err(invalid) => {
                self.fail(row, invalid.to_string());
                return Ok(());
            }
        };
        let id = match clients::create(&mut tx, self.tenant, &fields, None).await {
            Ok(id) => id,
            Err(StoreError::Invalid(invalid)) => {
                self.fail(row, invalid.to_string());
                return Ok(());
            }
            Err(other) => return Err(other.into()),
        };
        tx.commit().await?;
        self.committed(row, key);
        if let Some(parent) = self.mapping.value(record, "parent") {
            self.parents.push((row, id, parent));
        }
        Ok(())
    }

    /// Reads a pick-list label: an exact match (ignoring case and accents), else a value one
    /// typo away ("technolgy" → "Technology"), else a new value added to the list.
    async fn list_label(
        &mut self,
        tx: &mut kith_store::Tx,
        lists: &PickLists,
        kind: ListKind,
        row: u64,
        label: Option<String>,
    ) -> anyhow::Result<Option<String>> {
        let Some(label) = label else { return Ok(None) };
        if let Some(value) = lists.find(kind, &label) {
            return Ok(Some(value.label.clone()));
        }
        let folded = kith_domain::search::fold(&label);
        let close: Vec<&str> = lists
            .of(kind)
            .filter(|v| {
                v.label.len() >= 6
                    && strsim::damerau_levenshtein(&kith_domain::search::fold(&v.label), &folded)
                        == 1
            })
            .map(|v| v.label.as_str())
            .collect();
        if let [only] = close.as_slice() {
            self.report.remarks.push(RowNote {
                row,
                message: format!("{} \"{label}\" read as \"{only}\"", kind.as_str()),
            });
            return Ok(Some((*only).to_owned()));
        }
        picklists::ensure(tx, self.tenant, kind, &label).await?;
        let added = format!("{} \"{}\"", kind.as_str(), label.trim());
        if !self.report.new_list_values.contains(&added) {
            self.pending_values.push(added);
        }
        Ok(Some(label))
    }

    async fn contact_row(&mut self, row: u64, record: &csv::StringRecord) -> anyhow::Result<()> {
        let emails: Vec<String> = self
            .mapping
            .values(record, "email")
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        let (mut first_name, mut last_name) = (
            self.mapping.value(record, "first_name"),
            self.mapping.value(record, "last_name"),
        );
        if first_name.is_none()
            && last_name.is_none()
            && let Some(full) = self.mapping.value(record, "full_name")
        {
            let (first, last) = full
                .rsplit_once(' ')
                .map_or((None, Some(full.clone())), |(f, l)| {
                    (Some(f.to_owned()), Some(l.to_owned()))
                });
            first_name = first;
            last_name = last;
        }
        let phones = self
            .mapping
            .values(record, "phone")
            .into_iter()
            .map(|(header, number)| PhoneInput {
                label: phone_label(&header).into(),
                number,
            })
            .collect();

        if let Some(email) = emails.first() {
            let key = kith_domain::Email::parse(email)
                .map(|e| e.normalized())
                .unwrap_or_else(|_| email.trim().to_lowercase());
            if let Some(first) = self.seen.get(&key) {
                self.skip(row, format!("same email as row {first}"));
                return Ok(());
            }
        }

        let input = ContactInput {
            first_name,
            last_name,
            title: self.mapping.value(record, "title"),
            email: emails.first().cloned(),
            other_emails: emails.iter().skip(1).cloned().collect(),
            phones,
            tags: self.mapping.value(record, "tags").into_iter().collect(),
            notes: self.mapping.value(record, "notes"),
            ..Default::default()
        };
        let mut fields = match ContactFields::parse(&input, &self.country) {
            Ok(fields) => fields,
            Err(invalid) => {
                self.fail(row, invalid.to_string());
                return Ok(());
            }
        };
        for _ in fields.phones.iter().filter(|p| p.phone.e164.is_none()) {
            self.report.remarks.push(RowNote {
                row,
                message:
                    "a phone number is not valid for its country; kept as typed, without E.164"
                        .into(),
            });
        }

        let mut tx = self.db.begin().await?;
        if let Some(email) = &fields.email
            && let Some(existing) =
                contacts::find_by_email(&mut tx, self.tenant, email.as_str()).await?
        {
            self.skip(
                row,
                format!("the email is already the primary email of contact #{existing}"),
            );
            return Ok(());
        }
        if let Some(company) = self.mapping.value(record, "company") {
            match self.client_for(&mut tx, &company).await? {
                Ok(id) => fields.client_id = Some(id),
                Err(message) => {
                    self.fail(row, format!("company: {message}"));
                    return Ok(());
                }
            }
        }
        let actor = Actor {
            user: None,
            source: ConsentSource::Import,
        };
        match contacts::create(&mut tx, self.tenant, &fields, actor).await {
            Ok(_) => {
                tx.commit().await?;
                let key = fields
                    .email
                    .as_ref()
                    .map(|e| e.normalized())
                    .unwrap_or_default();
                self.committed(row, key);
            }
            Err(StoreError::Invalid(invalid)) => self.fail(row, invalid.to_string()),
            Err(other) => return Err(other.into()),
        }
        Ok(())
    }

    /// The client called `name`, created when none exists yet.
    /// The client called `name`, created (inside the row's transaction) when none exists yet.
    /// `Err` says why the company cannot become a client.
    async fn client_for(
        &mut self,
        tx: &mut kith_store::Tx,
        name: &str,
    ) -> anyhow::Result<Result<i64, String>> {
        if let Some(id) = clients::find_by_name(tx, self.tenant, name).await? {
            return Ok(Ok(id));
        }
        let lists = picklists::load(self.db, self.tenant).await?;
        let input = ClientInput {
            name: name.to_owned(),
            ..Default::default()
        };
        let fields = match ClientFields::parse(&input, &lists, &self.country) {
            Ok(fields) => fields,
            Err(invalid) => return Ok(Err(invalid.to_string())),
        };
        let id = clients::create(tx, self.tenant, &fields, None).await?;
        self.pending_clients += 1;
        Ok(Ok(id.0))
    }

    /// Books a row whose transaction committed: its key, and what it added along the way.
    /// One deal: created, or — when its external id is known — brought up to date, its stage
    /// through the same rule as every other path. A close date in the file is kept for a won
    /// or lost deal; an open deal has none.
    async fn deal_row(&mut self, row: u64, record: &csv::StringRecord) -> anyhow::Result<()> {
        let title = self.mapping.value(record, "title");
        let external_id = self.mapping.value(record, "external_id");
        if let Some(key) = &external_id
            && let Some(first) = self.seen.get(key)
        {
            self.skip(row, format!("same id as row {first}"));
            return Ok(());
        }

        let mut tx = self.db.begin().await?;
        let lists = picklists::load_in(&mut tx, self.tenant).await?;
        let stages = kith_store::stages::list_in(&mut tx, self.tenant).await?;
        let existing = match &external_id {
            Some(key) => deals::find_by_external_id(&mut tx, self.tenant, key).await?,
            None => None,
        };
        // A known deal keeps whatever the file leaves blank or does not have.
        let base = match &existing {
            Some(deal) => self.current_input(deal, &lists).await?,
            None => DealInput::default(),
        };
        let Some(title) = title.or_else(|| existing.as_ref().map(|d| d.title.clone())) else {
            self.fail(row, "has no title");
            return Ok(());
        };
        let stage = match self.mapping.value(record, "stage") {
            None => None,
            Some(name) => {
                let folded = kith_domain::search::fold(&name);
                match stages
                    .iter()
                    .find(|s| kith_domain::search::fold(&s.name) == folded)
                {
                    Some(stage) => Some(stage),
                    None => {
                        let names: Vec<&str> = stages.iter().map(|s| s.name.as_str()).collect();
                        self.fail(
                            row,
                            format!(
                                "stage \"{name}\" is not a stage here; use one of {}",
                                names.join(", ")
                            ),
                        );
                        return Ok(());
                    }
                }
            }
        };
        let client = match self.mapping.value(record, "client") {
            None => base.client_id,
            Some(name) => match clients::find_by_name(&mut tx, self.tenant, &name).await? {
                Some(id) => Some(id),
                None => {
                    self.remark(
                        row,
                        format!("no client is called \"{name}\"; the deal has none"),
                    );
                    None
                }
            },
        };
        let owner = match self.mapping.value(record, "owner") {
            None => base.owner_id,
            Some(who) => match self.owner_id(&who).await? {
                Some(id) => Some(id),
                None => {
                    self.remark(row, format!("no user is \"{who}\"; the deal has no owner"));
                    None
                }
            },
        };
        let source = self
            .list_label(
                &mut tx,
                &lists,
                ListKind::DealSource,
                row,
                self.mapping.value(record, "source"),
            )
            .await?;
        let lists = picklists::load_in(&mut tx, self.tenant).await?;
        let value = self.mapping.value(record, "value");
        let currency = self.mapping.value(record, "currency");
        if let (Some(deal), Some(code), None) = (&existing, &currency, &value)
            && !code.trim().eq_ignore_ascii_case(&deal.currency)
        {
            self.fail(
                row,
                format!(
                    "currency: changing it from {} needs the value in the new currency too",
                    deal.currency
                ),
            );
            return Ok(());
        }
        let input = DealInput {
            title,
            client_id: client,
            value: value.or(base.value),
            currency: currency.or(base.currency),
            owner_id: owner,
            expected_close: self
                .mapping
                .value(record, "expected_close")
                .or(base.expected_close),
            source: source.or(base.source),
            stage_id: stage.map(|s| s.id).or(base.stage_id),
            lost_reason: self
                .mapping
                .value(record, "lost_reason")
                .or(base.lost_reason),
            notes: self.mapping.value(record, "notes").or(base.notes),
            recurring_value: base.recurring_value,
            recurring_period: base.recurring_period,
            contacts: base.contacts,
        };
        let fields = match DealFields::parse(&input, &lists, &self.currency) {
            Ok(fields) => fields,
            Err(invalid) => {
                self.fail(row, invalid.to_string());
                return Ok(());
            }
        };
        let closed = stage.is_some_and(|s| s.is_won || s.is_lost);
        let close_date = match parse_date(self.mapping.value(record, "close_date").as_deref()) {
            Ok(date) if closed => date,
            Ok(Some(_)) => {
                self.remark(row, "close date left out: the deal's stage is open");
                None
            }
            Ok(None) => None,
            Err(message) => {
                self.fail(row, format!("close_date: {message}"));
                return Ok(());
            }
        };

        let today = kith_domain::pipeline::today_in(&self.time_zone, chrono::Utc::now());
        let saved = match &existing {
            Some(deal) => deals::update(
                &mut tx,
                self.tenant,
                DealId(deal.id),
                deal.version,
                &fields,
                None,
                today,
                close_date,
            )
            .await
            .map(|_| DealId(deal.id)),
            None => deals::create(&mut tx, self.tenant, &fields, None, today, close_date).await,
        };
        let id = match saved {
            Ok(id) => id,
            Err(StoreError::Invalid(invalid)) => {
                self.fail(row, invalid.to_string());
                return Ok(());
            }
            Err(other) => return Err(other.into()),
        };
        if let (Some(key), None) = (&external_id, &existing) {
            deals::set_external_id(&mut tx, self.tenant, id, key).await?;
        }
        tx.commit().await?;
        if existing.is_some() {
            self.report.updated += 1;
            if let Some(key) = external_id {
                self.seen.insert(key, row);
            }
        } else {
            self.committed(row, external_id.unwrap_or_default());
        }
        Ok(())
    }

    /// A stored deal as the input that would save it unchanged: the base a file row updates.
    async fn current_input(
        &self,
        deal: &deals::Deal,
        lists: &PickLists,
    ) -> anyhow::Result<DealInput> {
        let amount = |minor: i64| format_amount(minor, &deal.currency);
        let contacts = deals::contacts_of(self.db, self.tenant, &[deal.id])
            .await?
            .remove(&deal.id)
            .unwrap_or_default();
        Ok(DealInput {
            title: deal.title.clone(),
            client_id: deal.client_id,
            value: Some(amount(deal.value)),
            recurring_value: deal.recurring_value.map(amount),
            recurring_period: deal.recurring_period.clone(),
            currency: Some(deal.currency.clone()),
            owner_id: deal.owner_id,
            expected_close: deal.expected_close.map(|d| d.to_string()),
            source: lists.label(deal.source_id).map(str::to_owned),
            stage_id: Some(deal.stage_id),
            lost_reason: deal.lost_reason.clone(),
            notes: deal.notes.clone(),
            contacts: contacts
                .into_iter()
                .map(|c| (c.contact_id, c.role))
                .collect(),
        })
    }

    /// A user of the tenant named by email or by name.
    async fn owner_id(&self, who: &str) -> anyhow::Result<Option<i64>> {
        let users = kith_store::users::list(self.db, self.tenant).await?;
        let folded = kith_domain::search::fold(who);
        Ok(users
            .iter()
            .find(|u| {
                u.email.eq_ignore_ascii_case(who.trim())
                    || kith_domain::search::fold(&u.name) == folded
            })
            .map(|u| u.id))
    }

    fn remark(&mut self, row: u64, message: impl Into<String>) {
        self.report.remarks.push(RowNote {
            row,
            message: message.into(),
        });
    }

    fn committed(&mut self, row: u64, key: String) {
        self.report.created += 1;
        if !key.is_empty() {
            self.seen.insert(key, row);
        }
        self.report.clients_created += std::mem::take(&mut self.pending_clients);
        for value in std::mem::take(&mut self.pending_values) {
            if !self.report.new_list_values.contains(&value) {
                self.report.new_list_values.push(value);
            }
        }
    }

    /// Links clients to parents named in the file, once every row is in.
    async fn link_parents(&mut self) -> anyhow::Result<()> {
        for (row, id, parent) in std::mem::take(&mut self.parents) {
            let mut tx = self.db.begin().await?;
            let Some(parent_id) = clients::find_by_name(&mut tx, self.tenant, &parent).await?
            else {
                self.report.remarks.push(RowNote {
                    row,
                    message: format!("parent \"{parent}\" is not a client; left without a parent"),
                });
                continue;
            };
            match clients::set_parent(&mut tx, self.tenant, id, ClientId(parent_id)).await {
                Ok(()) => tx.commit().await?,
                Err(StoreError::Invalid(invalid)) => {
                    self.report.remarks.push(RowNote {
                        row,
                        message: format!("parent \"{parent}\" {invalid}"),
                    });
                }
                Err(other) => return Err(other.into()),
            }
        }
        Ok(())
    }
}

/// The phone label implied by a column header.
fn phone_label(header: &str) -> &'static str {
    if header.contains("mobile") || header.contains("cell") {
        "mobile"
    } else if header.contains("home") {
        "home"
    } else if header.contains("other") || header.ends_with('2') {
        "other"
    } else {
        "work"
    }
}
