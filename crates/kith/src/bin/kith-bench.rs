//! `kith-bench`: generates a large tenant (100,000 clients and 1,000,000 contacts by default)
//! and measures the latency of the client list with two filters and of a contact search,
//! through the whole web stack (routing, auth, queries, rendering), on SQLite and PostgreSQL.
//!
//! It prints figures; it asserts nothing. Run it in release mode:
//!
//! ```sh
//! cargo run --release --bin kith-bench -- --backend both
//! ```
//!
//! PostgreSQL is reached at `KITH_BENCH_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), in a schema `kith_bench` that is dropped and
//! created anew.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, TimeDelta, Utc};
use clap::Parser;
use kith_domain::activity::{ActivityFields, Schedule};
use kith_domain::deal::{DealFields, DealInput};
use kith_domain::picklist::ListKind;
use kith_domain::search::{document, fold};
use kith_domain::tenant::NewTenant;
use kith_domain::{Email, Role, TenantId, UserId};
use kith_store::users::NewUser;
use kith_store::{Db, Tx, migrations, now, picklists, tenants, users};
use kith_web::{AppState, WebConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_query::{Expr, ExprTrait, Query};
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use std::collections::HashMap;
use std::str::FromStr;
use std::time::{Duration, Instant};
use tower::ServiceExt;

#[derive(Parser)]
#[command(about = "Measure Kith's list and search latency on a large tenant")]
struct Args {
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
    #[arg(long, default_value_t = 100_000)]
    clients: usize,
    #[arg(long, default_value_t = 1_000_000)]
    contacts: usize,
    /// Requests per measured endpoint.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Where the SQLite file goes (default: a temporary directory).
    #[arg(long)]
    data_dir: Option<std::path::PathBuf>,
    /// Measure the data a previous run left (same `--data-dir`) instead of generating anew.
    #[arg(long)]
    reuse: bool,
    /// `lists`: the client list and contact search over 100,000 clients and 1,000,000
    /// contacts. `board`: the pipeline board over the Maven demo deals and over 10,000 open
    /// deals. `activities`: the activity list's filters and search over 2,000,000 activities.
    #[arg(long, default_value = "lists")]
    suite: String,
    /// Activities of the `activities` suite.
    #[arg(long, default_value_t = 2_000_000)]
    activities: usize,
}

const FIRST_NAMES: &[&str] = &[
    "Ana", "Ben", "Chen", "Dana", "Eli", "Fatima", "George", "Hana", "Ivan", "Jordan", "Kai",
    "Lena", "Marlon", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tomás", "Uma", "Victor",
    "Wen", "Xavier", "Yara", "Zoe", "José", "Zoë", "Søren", "Łukasz", "Chloé", "Mateo", "Aisha",
    "Noah", "Emma", "Liam", "Olivia", "Lucas", "Mia", "Ethan",
];
const LAST_NAMES: &[&str] = &[
    "Silva",
    "Okafor",
    "Wu",
    "Kowalski",
    "Lopez",
    "Berg",
    "Dietz",
    "Ernst",
    "Shah",
    "Byrne",
    "Haddad",
    "Price",
    "O'Hara",
    "O'Connell",
    "García",
    "Müller",
    "Häusler",
    "Nguyen",
    "Schmidt",
    "Rossi",
    "Dubois",
    "Jensen",
    "Novak",
    "Tanaka",
    "Kim",
    "Singh",
    "Patel",
    "Cohen",
    "Murphy",
    "Walsh",
    "Larsen",
    "Costa",
    "Moreau",
    "Fischer",
    "Weber",
    "Romero",
    "Ivanova",
    "Sato",
    "Yilmaz",
    "Andersen",
];
/// Syllables that build a few thousand more surnames, so that names repeat the way real ones do
/// (a few common, most rare) instead of forty names covering a million people.
const SURNAME_STARTS: &[&str] = &[
    "An", "Ber", "Cal", "Dor", "El", "Fen", "Gal", "Har", "Ist", "Jon", "Kel", "Lin", "Mar", "Nor",
    "Ol", "Pet", "Quin", "Ros", "Sta", "Tor", "Ul", "Van", "Wil", "Yar", "Zel",
];
const SURNAME_MIDDLES: &[&str] = &["", "a", "e", "i", "o", "dr", "ns", "rt"];
const SURNAME_ENDS: &[&str] = &[
    "son", "berg", "ton", "ley", "man", "ski", "ez", "ini", "sen", "ford", "well", "stein", "ard",
    "ow", "ic",
];

/// Every surname the generator uses: the real ones above first (the most common), then
/// the built ones.
fn surnames() -> Vec<String> {
    let mut names: Vec<String> = LAST_NAMES.iter().map(|s| (*s).to_owned()).collect();
    for start in SURNAME_STARTS {
        for middle in SURNAME_MIDDLES {
            for end in SURNAME_ENDS {
                names.push(format!("{start}{middle}{end}"));
            }
        }
    }
    names
}

/// Picks an index with a long tail: low indexes often, high ones rarely (roughly Zipf-like).
fn skewed(rng: &mut StdRng, len: usize) -> usize {
    let u: f64 = rng.random();
    ((u * u * u) * len as f64) as usize % len
}

const WORDS: &[&str] = &[
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Litware",
    "Adatum",
    "Proseware",
    "Wingtip",
    "Lucerne",
    "Humongous",
    "Coho",
    "Margie",
    "Alpine",
    "Blue",
    "Yonder",
    "Trey",
    "Woodgrove",
    "Relecloud",
    "Bellows",
    "Graphic",
    "Fourth",
    "Coffee",
    "Datum",
    "Southridge",
    "Lamna",
    "Consolidated",
    "Fineart",
    "Wide",
    "World",
    "Brückner",
    "Café",
    "Lumière",
];
const SUFFIXES: &[&str] = &[
    "Ltd", "GmbH", "Inc", "LLC", "AG", "Group", "Partners", "Services", "Holdings", "SA",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let backends: Vec<&str> = match args.backend.as_str() {
        "both" => vec!["sqlite", "postgres"],
        one => vec![one],
    };
    if args.suite == "board" {
        println!(
            "kith-bench: the pipeline board, {} requests per measurement",
            args.requests
        );
        for backend in backends {
            let db = open(backend, &args).await?;
            run_board(backend, db, &args).await?;
        }
        return Ok(());
    }
    if args.suite == "activities" {
        println!(
            "kith-bench: {} activities of {ACTIVITY_USERS} users on {ACTIVITY_CLIENTS} clients in \
             one tenant, {} requests per measurement",
            args.activities, args.requests
        );
        for backend in backends {
            let db = open(backend, &args).await?;
            run_activities(backend, db, &args).await?;
        }
        return Ok(());
    }
    println!(
        "kith-bench: {} clients and {} contacts in one tenant, {} requests per measurement",
        args.clients, args.contacts, args.requests
    );
    for backend in backends {
        let db = open(backend, &args).await?;
        run(backend, db, &args).await?;
    }
    Ok(())
}

async fn open(backend: &str, args: &Args) -> anyhow::Result<Db> {
    let db = match backend {
        "sqlite" => {
            let dir = match &args.data_dir {
                Some(dir) => dir.clone(),
                None => std::env::temp_dir().join("kith-bench"),
            };
            std::fs::create_dir_all(&dir)?;
            let path = dir.join(format!("{}.db", args.suite));
            if !args.reuse {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Db::connect_sqlite(SqliteConnectOptions::new().filename(&path)).await?
        }
        "postgres" => {
            let schema = match args.suite.as_str() {
                "board" => "kith_bench_board",
                "activities" => "kith_bench_activities",
                _ => "kith_bench",
            };
            let url = std::env::var("KITH_BENCH_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
            if !args.reuse {
                let admin = Db::connect(&url).await?;
                admin
                    .execute_script(&format!(
                        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
                    ))
                    .await?;
                admin.close().await;
            }
            let options = PgConnectOptions::from_str(&url)?
                .options([("search_path", format!("{schema},public"))]);
            Db::connect_postgres(options).await?
        }
        other => anyhow::bail!("unknown backend {other}; use sqlite, postgres or both"),
    };
    migrations::run(&db).await?;
    Ok(db)
}

async fn run(backend: &str, db: Db, args: &Args) -> anyhow::Result<()> {
    println!("\n== {backend} ==");
    if !args.reuse {
        generate(&db, args).await?;
    }

    let (user, _) = users::find_for_login(&db, "bench@example.com")
        .await?
        .ok_or_else(|| anyhow::anyhow!("no bench data; run once without --reuse"))?;
    let tenant_id = TenantId(user.tenant_id);
    let lists = picklists::load(&db, tenant_id).await?;
    let token = kith_web::auth::create_api_token(&db, &user, "bench", true).await?;
    let app = kith_web::app(AppState::new(db.clone(), WebConfig::default()));

    let labels = |kind| lists.of(kind).map(|v| v.label.clone()).collect::<Vec<_>>();
    let industry_labels = labels(ListKind::Industry);
    let lifecycle_labels = labels(ListKind::Lifecycle);
    let mut pick = StdRng::seed_from_u64(11);

    let mut client_paths = Vec::new();
    for _ in 0..args.requests {
        let industry = &industry_labels[pick.random_range(0..industry_labels.len())];
        let lifecycle = &lifecycle_labels[pick.random_range(0..lifecycle_labels.len())];
        client_paths.push(format!(
            "/api/v1/clients?industry={}&lifecycle={}&limit=50",
            enc(industry),
            enc(lifecycle)
        ));
    }
    let surnames = surnames();
    let mut search_paths = Vec::new();
    for _ in 0..args.requests {
        let last = surnames[skewed(&mut pick, surnames.len())].as_str();
        let first = FIRST_NAMES[pick.random_range(0..FIRST_NAMES.len())];
        // A mix of what people type: a surname fragment, a full name, an email fragment.
        let query = match pick.random_range(0..3) {
            0 => fold(last).chars().take(5).collect::<String>(),
            1 => format!("{first} {last}"),
            _ => format!("{}.{}", fold(first), fold(last)).replace(' ', ""),
        };
        search_paths.push(format!("/api/v1/contacts?search={}&limit=50", enc(&query)));
    }

    measure(
        &app,
        &token,
        "client list, industry + lifecycle (API)",
        &client_paths,
    )
    .await?;
    measure(&app, &token, "contact search (API)", &search_paths).await?;
    // The worst case: the most common surname, matching one contact in twenty or so.
    let common: Vec<String> = (0..args.requests.min(50))
        .map(|_| {
            format!(
                "/api/v1/contacts?search={}&limit=50",
                enc(&fold(LAST_NAMES[0]))
            )
        })
        .collect();
    measure(
        &app,
        &token,
        "contact search, most common surname (API)",
        &common,
    )
    .await?;
    let page_paths: Vec<String> = client_paths
        .iter()
        .map(|p| {
            p.replace("/api/v1/clients", "/crm/clients")
                .replace("&limit=50", "")
        })
        .collect();
    let session = page_session(&app, "bench@example.com").await?;
    measure_page(
        &app,
        &session,
        "client list, industry + lifecycle (HTML page)",
        &page_paths,
    )
    .await?;
    let search_pages: Vec<String> = search_paths
        .iter()
        .map(|p| {
            p.replace("/api/v1/contacts", "/crm/contacts")
                .replace("&limit=50", "")
        })
        .collect();
    measure_page(&app, &session, "contact search (HTML page)", &search_pages).await?;
    db.close().await;
    Ok(())
}

/// One tenant with its owner, `args.clients` clients and `args.contacts` contacts.
/// A workspace called `name` whose owner signs in as `email` with the bench password.
async fn workspace(db: &Db, name: &str, email: &str) -> anyhow::Result<(TenantId, UserId)> {
    let tenant = NewTenant::parse(name, "USD", "US", "UTC").map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut tx = db.begin().await?;
    let tenant_id = tenants::create(&mut tx, &tenant).await?;
    let owner = NewUser {
        email: Email::parse(email).map_err(anyhow::Error::msg)?,
        name: "Bench Owner".into(),
        password_hash: kith_web::password::hash(PASSWORD).map_err(anyhow::Error::msg)?,
        role: Role::Owner,
        time_zone: "UTC".into(),
    };
    let owner_id = users::create(&mut tx, tenant_id, &owner).await?;
    tx.commit().await?;
    Ok((tenant_id, owner_id))
}

const PASSWORD: &str = "bench password 123";

async fn generate(db: &Db, args: &Args) -> anyhow::Result<()> {
    let (tenant_id, owner_id) = workspace(db, "Bench MSP", "bench@example.com").await?;

    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(7);
    let lists = picklists::load(db, tenant_id).await?;
    let industries: Vec<i64> = lists.of(ListKind::Industry).map(|v| v.id).collect();
    let lifecycles: Vec<i64> = lists.of(ListKind::Lifecycle).map(|v| v.id).collect();
    insert_clients(
        db,
        tenant_id,
        owner_id.0,
        args.clients,
        &industries,
        &lifecycles,
        &mut rng,
    )
    .await?;
    println!(
        "generated {} clients in {:.1}s",
        args.clients,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    insert_contacts(db, tenant_id, args.clients, args.contacts, &mut rng).await?;
    println!(
        "generated {} contacts in {:.1}s",
        args.contacts,
        started.elapsed().as_secs_f64()
    );
    analyze(db).await?;

    Ok(())
}

/// The board over the Maven demo's 8,800 deals, then over 10,000 open deals in one tenant:
/// the JSON figures and the whole HTML page, with and without a filter.
async fn run_board(backend: &str, db: Db, args: &Args) -> anyhow::Result<()> {
    println!("\n== {backend} ==");
    let app = kith_web::app(AppState::new(db.clone(), WebConfig::default()));

    let started = Instant::now();
    let (maven, _) = workspace(&db, "Maven MSP", "maven@example.com").await?;
    kith::demo::load(&db, maven).await?;
    println!(
        "loaded the Maven demo (8,800 deals) in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    measure_board(&app, &db, "maven@example.com", "Maven deals", args.requests).await?;

    let started = Instant::now();
    let (open, owner) = workspace(&db, "Open Deals MSP", "open@example.com").await?;
    insert_open_deals(&db, open, owner, 10_000).await?;
    analyze(&db).await?;
    println!(
        "generated 10,000 open deals in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    measure_board(
        &app,
        &db,
        "open@example.com",
        "10,000 open deals",
        args.requests,
    )
    .await?;
    db.close().await;
    Ok(())
}

async fn measure_board(
    app: &axum::Router,
    db: &Db,
    email: &str,
    label: &str,
    requests: usize,
) -> anyhow::Result<()> {
    let (user, _) = users::find_for_login(db, email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{email} missing"))?;
    let token = kith_web::auth::create_api_token(db, &user, "bench", true).await?;
    let session = page_session(app, email).await?;
    let everything: Vec<String> = (0..requests)
        .map(|_| "/api/v1/pipeline/board".to_owned())
        .collect();
    measure(app, &token, &format!("board, {label} (API)"), &everything).await?;
    let owned: Vec<String> = (0..requests)
        .map(|_| format!("/api/v1/pipeline/board?owner={}", user.id))
        .collect();
    measure(
        app,
        &token,
        &format!("board, {label}, one owner (API)"),
        &owned,
    )
    .await?;
    let pages: Vec<String> = (0..requests).map(|_| "/crm/pipeline".to_owned()).collect();
    measure_page(
        app,
        &session,
        &format!("board, {label} (HTML page)"),
        &pages,
    )
    .await
}

/// `count` open deals spread over the open stages, in two currencies, with a few owners'
/// worth of expected close dates.
async fn insert_open_deals(
    db: &Db,
    tenant: TenantId,
    owner: UserId,
    count: usize,
) -> anyhow::Result<()> {
    let stages = kith_store::stages::list(db, tenant).await?;
    let open: Vec<i64> = stages
        .iter()
        .filter(|s| !s.is_won && !s.is_lost)
        .map(|s| s.id)
        .collect();
    let lists = picklists::load(db, tenant).await?;
    let today = chrono::Utc::now().date_naive();
    let mut rng = StdRng::seed_from_u64(5);
    let mut done = 0;
    while done < count {
        let mut tx = db.begin().await?;
        for n in done..(done + 500).min(count) {
            let input = DealInput {
                title: format!("{} renewal {n}", WORDS[rng.random_range(0..WORDS.len())]),
                value: Some(format!(
                    "{}.{:02}",
                    rng.random_range(500..90_000),
                    rng.random_range(0..100)
                )),
                currency: Some(if n % 5 == 0 { "EUR" } else { "USD" }.into()),
                owner_id: (n % 3 == 0).then_some(owner.0),
                expected_close: Some(
                    (today + chrono::Days::new(rng.random_range(0..365))).to_string(),
                ),
                stage_id: Some(open[n % open.len()]),
                ..Default::default()
            };
            let fields =
                DealFields::parse(&input, &lists, "USD").map_err(|e| anyhow::anyhow!("{e}"))?;
            kith_store::deals::create(&mut tx, tenant, &fields, None, today, None).await?;
        }
        tx.commit().await?;
        done = (done + 500).min(count);
    }
    Ok(())
}

/// The `activities` suite's workspace: its owner signs in as this, and the other users,
/// clients and contacts its activities refer to.
const ACTIVITY_EMAIL: &str = "activities@example.com";
const ACTIVITY_USERS: usize = 20;
const ACTIVITY_CLIENTS: usize = 2_000;
const ACTIVITY_CONTACTS: usize = 20_000;

/// What activities are about: a subject is one of these and a client-like word.
const TOPICS: &[&str] = &[
    "Quarterly business review",
    "Firewall renewal",
    "Backup check",
    "Microsoft 365 licences",
    "Onboarding new starters",
    "Laptop refresh",
    "Phishing incident",
    "Printer fleet",
    "VPN access",
    "Server patching",
    "Wi-Fi survey",
    "Invoice query",
    "Contract renewal",
    "Cloud migration",
    "Password manager rollout",
    "Helpdesk escalation",
    "Security awareness training",
    "Disaster recovery test",
    "Domain transfer",
    "Teams telephony",
    "SharePoint clean-up",
    "Budget planning",
    "Hardware quote",
    "Antivirus alerts",
    "Offboarding",
    "Network upgrade",
    "Compliance audit",
    "Café Wi-Fi hotspot",
    "Übergabe Dokumentation",
];
const NOTES: &[&str] = &[
    "Agreed next steps with the office manager",
    "Sent the quote for approval",
    "Waiting on the client's IT lead",
    "Walked through the report together",
    "Needs a follow-up call next week",
    "Escalated to the second line",
];
const OUTCOMES: &[&str] = &[
    "Left voicemail",
    "Agreed",
    "Declined",
    "Rescheduled",
    "Resolved",
];

/// The activity list over `args.activities` activities: the filters people use most and a
/// search through the API, and one owner's open work as the HTML page.
async fn run_activities(backend: &str, db: Db, args: &Args) -> anyhow::Result<()> {
    println!("\n== {backend} ==");
    if !args.reuse {
        generate_activities(&db, args).await?;
    }

    let (user, _) = users::find_for_login(&db, ACTIVITY_EMAIL)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no bench data; run once without --reuse"))?;
    let mix = ActivityMix::load(&db, TenantId(user.tenant_id)).await?;
    let token = kith_web::auth::create_api_token(&db, &user, "bench", true).await?;
    let app = kith_web::app(AppState::new(db.clone(), WebConfig::default()));
    let measurements = activity_paths(&mix, args.requests);
    for (label, paths) in &measurements {
        measure(&app, &token, label, paths).await?;
    }
    let pages: Vec<String> = measurements[0]
        .1
        .iter()
        .map(|p| {
            p.replace("/api/v1/activities", "/crm/activities")
                .replace("&limit=50", "")
        })
        .collect();
    let session = page_session(&app, ACTIVITY_EMAIL).await?;
    measure_page(
        &app,
        &session,
        "activities, owner + open (HTML page)",
        &pages,
    )
    .await?;
    db.close().await;
    Ok(())
}

/// One workspace with [`ACTIVITY_USERS`] users, [`ACTIVITY_CLIENTS`] clients,
/// [`ACTIVITY_CONTACTS`] contacts and `args.activities` activities.
async fn generate_activities(db: &Db, args: &Args) -> anyhow::Result<()> {
    let (tenant_id, owner_id) = workspace(db, "Activities MSP", ACTIVITY_EMAIL).await?;

    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(13);
    insert_users(db, tenant_id, ACTIVITY_USERS - 1).await?;
    let lists = picklists::load(db, tenant_id).await?;
    let industries: Vec<i64> = lists.of(ListKind::Industry).map(|v| v.id).collect();
    let lifecycles: Vec<i64> = lists.of(ListKind::Lifecycle).map(|v| v.id).collect();
    insert_clients(
        db,
        tenant_id,
        owner_id.0,
        ACTIVITY_CLIENTS,
        &industries,
        &lifecycles,
        &mut rng,
    )
    .await?;
    insert_contacts(db, tenant_id, ACTIVITY_CLIENTS, ACTIVITY_CONTACTS, &mut rng).await?;
    println!(
        "generated {ACTIVITY_USERS} users, {ACTIVITY_CLIENTS} clients and {ACTIVITY_CONTACTS} \
         contacts in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let mix = ActivityMix::load(db, tenant_id).await?;
    insert_activities(db, tenant_id, &mix, args.activities, &mut rng).await?;
    println!(
        "generated {} activities in {:.1}s",
        args.activities,
        started.elapsed().as_secs_f64()
    );
    analyze(db).await?;
    Ok(())
}

/// `count` members besides the owner, signing in as `rep1@activities.example` and on.
async fn insert_users(db: &Db, tenant: TenantId, count: usize) -> anyhow::Result<()> {
    let password_hash = kith_web::password::hash(PASSWORD).map_err(anyhow::Error::msg)?;
    let mut tx = db.begin().await?;
    for n in 1..=count {
        let user = NewUser {
            email: Email::parse(&format!("rep{n}@activities.example"))
                .map_err(anyhow::Error::msg)?,
            name: format!(
                "{} {}",
                FIRST_NAMES[n % FIRST_NAMES.len()],
                LAST_NAMES[n % LAST_NAMES.len()]
            ),
            password_hash: password_hash.clone(),
            role: Role::Member,
            time_zone: "UTC".into(),
        };
        users::create(&mut tx, tenant, &user).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What activities refer to in the workspace: its activity types, users, clients, and
/// contacts by client.
struct ActivityMix {
    types: Vec<i64>,
    type_labels: Vec<String>,
    owners: Vec<i64>,
    clients: Vec<i64>,
    contacts: HashMap<i64, Vec<i64>>,
}

impl ActivityMix {
    async fn load(db: &Db, tenant: TenantId) -> anyhow::Result<Self> {
        let lists = picklists::load(db, tenant).await?;
        let query = Query::select()
            .columns(["id", "client_id"])
            .from("contacts")
            .and_where(Expr::col("tenant_id").eq(tenant.0))
            .to_owned();
        let mut contacts: HashMap<i64, Vec<i64>> = HashMap::new();
        for (id, client) in db.fetch_all::<(i64, Option<i64>), _>(&query).await? {
            if let Some(client) = client {
                contacts.entry(client).or_default().push(id);
            }
        }
        Ok(Self {
            types: lists.of(ListKind::ActivityType).map(|v| v.id).collect(),
            type_labels: lists
                .of(ListKind::ActivityType)
                .map(|v| v.label.clone())
                .collect(),
            owners: users::list(db, tenant)
                .await?
                .iter()
                .map(|u| u.id)
                .collect(),
            clients: client_ids(db, tenant).await?,
            contacts,
        })
    }

    fn owner(&self, rng: &mut StdRng) -> i64 {
        self.owners[rng.random_range(0..self.owners.len())]
    }

    fn client(&self, rng: &mut StdRng) -> i64 {
        self.clients[rng.random_range(0..self.clients.len())]
    }
}

async fn client_ids(db: &Db, tenant: TenantId) -> anyhow::Result<Vec<i64>> {
    let query = Query::select()
        .column("id")
        .from("clients")
        .and_where(Expr::col("tenant_id").eq(tenant.0))
        .to_owned();
    let rows: Vec<(i64,)> = db.fetch_all(&query).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// The columns of a new activity's row besides those of kith-store's `field_values`.
const ROW_COLUMNS: [&str; 6] = [
    "tenant_id",
    "completed_at",
    "completed_by",
    "created_at",
    "updated_at",
    "version",
];

/// `count` activities, a thousand to a statement, each batch with its contacts.
async fn insert_activities(
    db: &Db,
    tenant: TenantId,
    mix: &ActivityMix,
    count: usize,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    const BATCH: usize = 1000;
    let stamp = now();
    let mut done = 0;
    let mut last_report = Instant::now();
    while done < count {
        let rows: Vec<_> = (done..(done + BATCH).min(count))
            .map(|_| activity_row(tenant, mix, stamp, rng))
            .collect();
        let mut insert = Query::insert();
        insert
            .into_table("activities")
            .columns(rows[0].0.iter().copied().chain(ROW_COLUMNS))
            .returning(Query::returning().columns(["id", "client_id"]));
        for (_, values) in rows {
            insert.values_panic(values);
        }
        let mut tx = db.begin().await?;
        let inserted: Vec<(i64, Option<i64>)> = tx.fetch_all(&insert).await?;
        link_contacts(&mut tx, tenant, mix, &inserted, rng).await?;
        tx.commit().await?;
        done = (done + BATCH).min(count);
        if last_report.elapsed() > Duration::from_secs(30) {
            println!("  … {done} activities");
            last_report = Instant::now();
        }
    }
    Ok(())
}

/// One activity's columns and values, its fields' first, as kith-store writes them, then
/// [`ROW_COLUMNS`]: nine in ten on a client, owned by any user.
fn activity_row(
    tenant: TenantId,
    mix: &ActivityMix,
    stamp: DateTime<Utc>,
    rng: &mut StdRng,
) -> (Vec<&'static str>, Vec<Expr>) {
    let owner = mix.owner(rng);
    let (schedule, completed_at) = activity_schedule(stamp, rng);
    let subject = format!(
        "{} – {}",
        TOPICS[skewed(rng, TOPICS.len())],
        WORDS[rng.random_range(0..WORDS.len())]
    );
    let notes = rng.random_bool(0.4).then(|| {
        let note = NOTES[rng.random_range(0..NOTES.len())];
        format!("{note}. Ticket {}.", rng.random_range(100_000..1_000_000))
    });
    let outcome = (completed_at.is_some() && rng.random_bool(0.2))
        .then(|| OUTCOMES[rng.random_range(0..OUTCOMES.len())].to_owned());
    let fields = ActivityFields {
        type_id: mix.types[skewed(rng, mix.types.len())],
        subject,
        notes,
        client_id: rng.random_bool(0.9).then(|| mix.client(rng)),
        contact_ids: Vec::new(),
        deal_id: None,
        owner_id: Some(owner),
        schedule,
        duration: schedule.occurred_at().map(|_| rng.random_range(5..120i32)),
        outcome,
        follow_up_date: None,
        completed: completed_at.is_some(),
    };

    let (columns, mut values) = kith_store::activities::field_values(&fields);
    values.extend([
        tenant.0.into(),
        completed_at.into(),
        completed_at.map(|_| owner).into(),
        stamp.into(),
        stamp.into(),
        1i64.into(),
    ]);
    (columns, values)
}

/// Seven in ten activities were logged at an instant of the last three years and are done;
/// the rest are due from 60 days ago to 90 days ahead, open unless due over a week ago (most
/// of those were done that day).
fn activity_schedule(now: DateTime<Utc>, rng: &mut StdRng) -> (Schedule, Option<DateTime<Utc>>) {
    if rng.random_bool(0.7) {
        let at = now - TimeDelta::seconds(rng.random_range(60..3 * 365 * 86_400));
        return (Schedule::At(at), Some(at));
    }
    let today = now.date_naive();
    let due = Schedule::Due(today + TimeDelta::days(rng.random_range(-60..=90)));
    let old = due.sort_at()
        < (today - TimeDelta::days(7))
            .and_time(NaiveTime::MIN)
            .and_utc();
    let completed_at = (old && rng.random_bool(0.85))
        .then(|| due.sort_at() + TimeDelta::hours(rng.random_range(8..18)));
    (due, completed_at)
}

/// Links a quarter of the activities on a client to one of its contacts, one in five of those
/// to two.
async fn link_contacts(
    tx: &mut Tx,
    tenant: TenantId,
    mix: &ActivityMix,
    inserted: &[(i64, Option<i64>)],
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let mut insert = Query::insert();
    insert
        .into_table("activity_contacts")
        .columns(["tenant_id", "activity_id", "contact_id"]);
    let mut links = 0;
    for (id, client) in inserted {
        let Some(contacts) = client.and_then(|c| mix.contacts.get(&c)) else {
            continue;
        };
        if !rng.random_bool(0.25) {
            continue;
        }
        let first = rng.random_range(0..contacts.len());
        let count = if contacts.len() > 1 && rng.random_bool(0.2) {
            2
        } else {
            1
        };
        for k in 0..count {
            let contact = contacts[(first + k) % contacts.len()];
            insert.values_panic([tenant.0.into(), (*id).into(), contact.into()]);
            links += 1;
        }
    }
    if links > 0 {
        tx.execute(&insert).await?;
    }
    Ok(())
}

/// The measured requests, their parameters varied per request: one owner's open work (the
/// "my open work" view), their overdue work, one client's activities of one type in one month,
/// and a search.
fn activity_paths(mix: &ActivityMix, requests: usize) -> Vec<(&'static str, Vec<String>)> {
    let mut pick = StdRng::seed_from_u64(17);
    let today = Utc::now().date_naive();
    let open = vary(requests, &mut pick, |rng| {
        format!(
            "/api/v1/activities?owner={}&status=open&limit=50",
            mix.owner(rng)
        )
    });
    let overdue = vary(requests, &mut pick, |rng| {
        format!(
            "/api/v1/activities?status=overdue&owner={}&limit=50",
            mix.owner(rng)
        )
    });
    let month = vary(requests, &mut pick, |rng| {
        let label = &mix.type_labels[rng.random_range(0..mix.type_labels.len())];
        let (from, to) = some_month(today, rng);
        format!(
            "/api/v1/activities?client={}&type={}&from={from}&to={to}&limit=50",
            mix.client(rng),
            enc(label)
        )
    });
    let search = vary(requests, &mut pick, |rng| {
        format!(
            "/api/v1/activities?search={}&limit=50",
            enc(&activity_search(rng))
        )
    });
    vec![
        ("activities, owner + open (API)", open),
        ("activities, owner + overdue (API)", overdue),
        ("activities, client + type + month (API)", month),
        ("activities, search (API)", search),
    ]
}

fn vary(
    requests: usize,
    rng: &mut StdRng,
    mut make: impl FnMut(&mut StdRng) -> String,
) -> Vec<String> {
    (0..requests).map(|_| make(rng)).collect()
}

/// The first and last day of a month of the last three years.
fn some_month(today: NaiveDate, rng: &mut StdRng) -> (NaiveDate, NaiveDate) {
    let day = today - TimeDelta::days(rng.random_range(0..3 * 365));
    let first = day.with_day(1).unwrap_or(day);
    let last = first
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(first);
    (first, last)
}

/// What people type: a word of a subject's topic, a ticket number from the notes, a
/// client-like word of a subject.
fn activity_search(rng: &mut StdRng) -> String {
    match rng.random_range(0..3) {
        0 => {
            let words: Vec<&str> = TOPICS
                .iter()
                .flat_map(|t| t.split_whitespace())
                .filter(|w| w.chars().count() >= 4)
                .collect();
            words[rng.random_range(0..words.len())].to_owned()
        }
        1 => rng.random_range(100_000..1_000_000).to_string(),
        _ => fold(WORDS[rng.random_range(0..WORDS.len())]),
    }
}

fn enc(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

async fn insert_clients(
    db: &Db,
    tenant: TenantId,
    owner: i64,
    count: usize,
    industries: &[i64],
    lifecycles: &[i64],
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    const BATCH: usize = 1000;
    let stamp = now();
    let mut done = 0;
    while done < count {
        let mut insert = Query::insert();
        insert.into_table("clients").columns([
            "tenant_id",
            "name",
            "name_sort",
            "domains",
            "industry_id",
            "lifecycle_id",
            "owner_id",
            "search_text",
            "created_at",
            "updated_at",
            "version",
        ]);
        for i in done..(done + BATCH).min(count) {
            let name = format!(
                "{} {} {} {i}",
                WORDS[rng.random_range(0..WORDS.len())],
                WORDS[rng.random_range(0..WORDS.len())],
                SUFFIXES[rng.random_range(0..SUFFIXES.len())]
            );
            let domain = format!("{}{i}.example", fold(WORDS[i % WORDS.len()]));
            let values: Vec<Expr> = vec![
                tenant.0.into(),
                name.clone().into(),
                fold(&name).into(),
                domain.clone().into(),
                industries[rng.random_range(0..industries.len())].into(),
                lifecycles[rng.random_range(0..lifecycles.len())].into(),
                owner.into(),
                document([name.as_str(), domain.as_str()]).into(),
                stamp.into(),
                stamp.into(),
                1i64.into(),
            ];
            insert.values_panic(values);
        }
        let mut tx = db.begin().await?;
        tx.execute(&insert).await?;
        tx.commit().await?;
        done = (done + BATCH).min(count);
    }
    Ok(())
}

async fn insert_contacts(
    db: &Db,
    tenant: TenantId,
    clients: usize,
    count: usize,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let surnames = surnames();
    const BATCH: usize = 1000;
    let first_client: i64 = {
        let query = Query::select()
            .expr(Expr::col("id").min())
            .from("clients")
            .and_where(Expr::col("tenant_id").eq(tenant.0))
            .to_owned();
        db.scalar::<Option<i64>, _>(&query).await?.unwrap_or(1)
    };
    let stamp = now();
    let mut done = 0;
    let mut last_report = Instant::now();
    while done < count {
        let mut insert = Query::insert();
        insert.into_table("contacts").columns([
            "tenant_id",
            "client_id",
            "first_name",
            "last_name",
            "name_sort",
            "email",
            "email_normalized",
            "types",
            "preferred_channel",
            "email_opt_out",
            "phone_opt_out",
            "sms_opt_out",
            "search_text",
            "created_at",
            "updated_at",
            "version",
        ]);
        for i in done..(done + BATCH).min(count) {
            let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
            let last = surnames[skewed(rng, surnames.len())].as_str();
            let email = format!(
                "{}.{}.{i}@mail{}.example",
                fold(first),
                fold(last).replace(' ', ""),
                i % 997
            );
            let client = first_client + rng.random_range(0..clients.max(1)) as i64;
            let values: Vec<Expr> = vec![
                tenant.0.into(),
                client.into(),
                first.into(),
                last.into(),
                kith_domain::contact::sort_name(Some(first), Some(last)).into(),
                email.clone().into(),
                email.to_lowercase().into(),
                ",technical,".into(),
                "email".into(),
                false.into(),
                false.into(),
                false.into(),
                document([first, last, email.as_str(), &format!("{first} {last}")]).into(),
                stamp.into(),
                stamp.into(),
                1i64.into(),
            ];
            insert.values_panic(values);
        }
        let mut tx = db.begin().await?;
        tx.execute(&insert).await?;
        tx.commit().await?;
        done = (done + BATCH).min(count);
        if last_report.elapsed() > Duration::from_secs(30) {
            println!("  … {done} contacts");
            last_report = Instant::now();
        }
    }
    Ok(())
}

/// Fresh planner statistics, as a live database would have.
async fn analyze(db: &Db) -> anyhow::Result<()> {
    match db.backend() {
        kith_store::Backend::Sqlite => db.execute_script("ANALYZE; PRAGMA optimize;").await?,
        kith_store::Backend::Postgres => {
            // VACUUM sets the visibility map as autovacuum would soon after a bulk load: without
            // it every index-only count reads the table as well (200 ms for 21,000 open
            // activities instead of 4 ms). It cannot run in a transaction: one table at a time.
            let query = Query::select()
                .column("tablename")
                .from(("pg_catalog", "pg_tables"))
                .and_where(Expr::col("schemaname").eq(Expr::cust("current_schema()")))
                .to_owned();
            let tables: Vec<(String,)> = db.fetch_all(&query).await?;
            for (table,) in tables {
                db.execute_script(&format!("VACUUM (ANALYZE) \"{table}\""))
                    .await?;
            }
        }
    }
    Ok(())
}

/// Signs a session in directly and returns its cookie, for measuring the HTML pages.
async fn page_session(app: &axum::Router, email: &str) -> anyhow::Result<String> {
    let body = format!("email={}&password={}", enc(email), enc(PASSWORD));
    let request = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))?;
    let response = app.clone().oneshot(request).await?;
    let cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .ok_or_else(|| anyhow::anyhow!("sign-in failed with {}", response.status()))?;
    Ok(cookie.to_owned())
}

async fn measure(
    app: &axum::Router,
    token: &str,
    label: &str,
    paths: &[String],
) -> anyhow::Result<()> {
    let auth = format!("Bearer {token}");
    time(label, paths, |path| {
        let request = Request::get(path)
            .header(header::AUTHORIZATION, auth.clone())
            .body(Body::empty());
        (app.clone(), request)
    })
    .await
}

async fn measure_page(
    app: &axum::Router,
    cookie: &str,
    label: &str,
    paths: &[String],
) -> anyhow::Result<()> {
    time(label, paths, |path| {
        let request = Request::get(path)
            .header(header::COOKIE, cookie.to_owned())
            .body(Body::empty());
        (app.clone(), request)
    })
    .await
}

async fn time<F>(label: &str, paths: &[String], make: F) -> anyhow::Result<()>
where
    F: Fn(&str) -> (axum::Router, Result<Request<Body>, axum::http::Error>),
{
    // One warm-up pass over a few requests, as a running server would be warm.
    for path in paths.iter().take(5) {
        let (app, request) = make(path);
        app.oneshot(request?).await?;
    }
    let mut samples = Vec::with_capacity(paths.len());
    let mut rows = 0usize;
    for path in paths {
        let (app, request) = make(path);
        let started = Instant::now();
        let response = app.oneshot(request?).await?;
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        samples.push((started.elapsed(), path));
        anyhow::ensure!(status == StatusCode::OK, "{path} answered {status}");
        rows += body.len();
    }
    samples.sort_unstable();
    if std::env::var_os("KITH_BENCH_SLOWEST").is_some() {
        for (took, path) in samples.iter().rev().take(5) {
            println!("    {:>7.2} ms  {path}", ms(*took));
        }
    }
    let samples: Vec<Duration> = samples.into_iter().map(|(took, _)| took).collect();
    let pick = |q: f64| {
        samples[((samples.len() as f64 * q).ceil() as usize)
            .saturating_sub(1)
            .min(samples.len() - 1)]
    };
    println!(
        "{label:<48} p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   ({} requests, {:.0} KB/response)",
        ms(pick(0.50)),
        ms(pick(0.99)),
        ms(samples[samples.len() - 1]),
        samples.len(),
        rows as f64 / samples.len() as f64 / 1024.0
    );
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
