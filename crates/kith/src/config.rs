//! Configuration from a TOML file and `KITH_*` environment variables (the environment wins).

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Every setting, with its default.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// The public URL, used in links and to decide on Secure cookies.
    pub base_url: Option<String>,
    /// Where the SQLite file and the generated secret key live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: `kith.db` in the data directory.
    pub database_url: Option<String>,
    /// Key for encryption at rest; generated into the data directory when unset.
    pub secret_key: Option<String>,
    /// Log filter, e.g. `info` or `kith=debug`.
    pub log: String,
    /// `text` or `json`.
    pub log_format: String,
    /// How many days a sign-in lasts.
    pub session_days: i64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            base_url: None,
            data_dir: PathBuf::from("./data"),
            database_url: None,
            secret_key: None,
            log: "info,sqlx=warn".into(),
            log_format: "text".into(),
            session_days: 14,
        }
    }
}

impl Config {
    /// Loads `file` (or `kith.toml` when present), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => {
                return Err(format!(
                    "the configuration file {} does not exist",
                    path.display()
                ));
            }
            Some(path) => figment = figment.merge(Toml::file(path)),
            None if Path::new("kith.toml").exists() => {
                figment = figment.merge(Toml::file("kith.toml"))
            }
            None => {}
        }
        figment = figment.merge(Env::prefixed("KITH_"));
        figment.extract().map_err(|e| format!("configuration: {e}"))
    }

    /// The database to use: the configured URL, or a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("kith.db").display()),
        }
    }

    /// The encryption key, generating and saving one on first run when none is configured.
    pub fn secret_key(&self) -> Result<String, String> {
        if let Some(key) = &self.secret_key {
            return Ok(key.clone());
        }
        let path = self.data_dir.join("secret.key");
        if let Ok(key) = std::fs::read_to_string(&path) {
            return Ok(key.trim().to_owned());
        }
        let key = kith_web::auth::random_secret();
        std::fs::write(&path, &key)
            .map_err(|e| format!("could not write {}: {e}", path.display()))?;
        tracing::warn!(path = %path.display(), "KITH_SECRET_KEY is not set; generated a key. Back it up: secrets stored later cannot be read without it");
        Ok(key)
    }

    pub fn web(&self) -> kith_web::WebConfig {
        kith_web::WebConfig {
            base_url: self.base_url.clone(),
            session_days: self.session_days,
        }
    }
}
