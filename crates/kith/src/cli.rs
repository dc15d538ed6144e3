//! The command line.

use crate::config::Config;
use crate::import::{self, Entity};
use crate::{demo, logging, serve};
use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use kith_domain::tenant::NewTenant;
use kith_domain::{Email, Role, TenantId};
use kith_store::users::NewUser;
use kith_store::{Db, migrations, tenants, users};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kith",
    version,
    about = "Kith, a self-hosted CRM for managed-service providers"
)]
struct Cli {
    /// Configuration file (default: kith.toml when present). KITH_* variables override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web app and the API (migrates the database first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Workspaces.
    Tenant {
        #[command(subcommand)]
        action: TenantAction,
    },
    /// Users of a workspace.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// API tokens.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Import clients, contacts or deals from a CSV file (columns mapped by header name).
    Import {
        entity: Entity,
        file: PathBuf,
        /// The workspace to import into; may be left out when there is only one.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Create a demo workspace and load public sample data into it.
    Demo {
        #[arg(long, default_value = "demo@example.com")]
        email: String,
        #[arg(long, default_value = "kith-demo-password")]
        password: String,
    },
}

#[derive(Subcommand)]
enum TenantAction {
    /// Create a workspace and its owner.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        owner_email: String,
        #[arg(long)]
        owner_password: String,
        #[arg(long, default_value = "Owner")]
        owner_name: String,
        /// ISO 4217 base currency.
        #[arg(long, default_value = "USD")]
        currency: String,
        /// Default country for phone numbers (ISO 3166 alpha-2).
        #[arg(long, default_value = "US")]
        country: String,
        /// IANA time zone.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Add a user to a workspace.
    Create {
        /// The workspace's name.
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        /// owner, admin, member or viewer.
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Set a user's password (for someone locked out); their sessions end.
    Password {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Create an API token and print only the token.
    Create {
        /// The user's email.
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        read_only: bool,
    },
}

pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("kith: {message}");
            return ExitCode::from(2);
        }
    };
    logging::init(&config.log, &config.log_format);

    match run(cli.command, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("kith: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    if let Command::Serve = command {
        return serve::run(config).await;
    }
    let db = serve::open_database(&config).await?;
    match command {
        Command::Serve => unreachable!("handled above"),
        Command::Migrate => {
            migrations::run(&db).await?;
            println!("The database is up to date.");
        }
        Command::Tenant {
            action:
                TenantAction::Create {
                    name,
                    owner_email,
                    owner_password,
                    owner_name,
                    currency,
                    country,
                    time_zone,
                },
        } => {
            let tenant = NewTenant::parse(&name, &currency, &country, &time_zone)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let id =
                create_tenant(&db, &tenant, &owner_email, &owner_password, &owner_name).await?;
            println!(
                "Created workspace \"{}\" (#{}) with owner {owner_email}.",
                tenant.name, id.0
            );
        }
        Command::User {
            action:
                UserAction::Create {
                    tenant,
                    email,
                    password,
                    role,
                    name,
                },
        } => {
            let tenant = find_tenant(&db, Some(&tenant)).await?;
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let name = name.unwrap_or_else(|| email.split('@').next().unwrap_or("User").to_owned());
            let user = new_user(&email, &password, &name, role, &tenant.time_zone)?;
            let mut tx = db.begin().await?;
            users::create(&mut tx, TenantId(tenant.id), &user)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            tx.commit().await?;
            println!("Added {email} to \"{}\" as {}.", tenant.name, role.as_str());
        }
        Command::User {
            action: UserAction::Password { email, password },
        } => {
            let (user, _) = users::find_for_login(&db, &email)
                .await?
                .with_context(|| format!("no user signs in with {email}"))?;
            kith_web::password::check(&password).map_err(|m| anyhow::anyhow!("password: {m}"))?;
            let hash = kith_web::password::hash(&password).map_err(anyhow::Error::msg)?;
            let mut tx = db.begin().await?;
            users::set_password(
                &mut tx,
                TenantId(user.tenant_id),
                kith_domain::UserId(user.id),
                &hash,
                None,
            )
            .await?;
            tx.commit().await?;
            println!("Set a new password for {email}; their sessions have ended.");
        }
        Command::Token {
            action:
                TokenAction::Create {
                    user,
                    name,
                    read_only,
                },
        } => {
            let (found, _) = users::find_for_login(&db, &user)
                .await?
                .with_context(|| format!("no user signs in with {user}"))?;
            let token = kith_web::auth::create_api_token(&db, &found, &name, read_only).await?;
            println!("{token}");
        }
        Command::Import {
            entity,
            file,
            tenant,
        } => {
            let tenant = find_tenant(&db, tenant.as_deref()).await?;
            let input = std::fs::File::open(&file)
                .with_context(|| format!("could not open {}", file.display()))?;
            let report = import::run(&db, TenantId(tenant.id), entity, input).await?;
            print!("{report}");
            if report.stopped.is_some() {
                bail!("the import did not finish");
            }
        }
        Command::Demo { email, password } => demo::run(&db, &email, &password).await?,
    }
    db.close().await;
    Ok(())
}

fn new_user(
    email: &str,
    password: &str,
    name: &str,
    role: Role,
    time_zone: &str,
) -> anyhow::Result<NewUser> {
    let email = Email::parse(email).map_err(|m| anyhow::anyhow!("email: {m}"))?;
    kith_web::password::check(password).map_err(|m| anyhow::anyhow!("password: {m}"))?;
    let password_hash = kith_web::password::hash(password).map_err(anyhow::Error::msg)?;
    Ok(NewUser {
        email,
        name: name.to_owned(),
        password_hash,
        role,
        time_zone: time_zone.to_owned(),
    })
}

pub(crate) async fn create_tenant(
    db: &Db,
    tenant: &NewTenant,
    email: &str,
    password: &str,
    name: &str,
) -> anyhow::Result<TenantId> {
    let owner = new_user(email, password, name, Role::Owner, &tenant.time_zone)?;
    let mut tx = db.begin().await?;
    let id = tenants::create(&mut tx, tenant).await?;
    users::create(&mut tx, id, &owner)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.commit().await?;
    Ok(id)
}

/// The workspace called `name`, or the only one when no name is given.
async fn find_tenant(db: &Db, name: Option<&str>) -> anyhow::Result<tenants::Tenant> {
    if let Some(name) = name {
        return tenants::find_by_name(db, name)
            .await?
            .with_context(|| format!("no workspace is called \"{name}\""));
    }
    let mut all = tenants::list(db).await?;
    match all.len() {
        0 => bail!("there is no workspace yet; run `kith tenant create` or open /setup"),
        1 => Ok(all.remove(0)),
        n => bail!("there are {n} workspaces; name one with --tenant"),
    }
}
