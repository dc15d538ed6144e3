//! Kith's background work. For now: housekeeping that keeps the database tidy. Queued jobs
//! (imports, campaign sends) will be claimed here too.

use kith_store::{Db, sessions};
use std::time::Duration;
use tokio::sync::watch;

/// How often housekeeping runs.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(10 * 60);

/// Runs until `shutdown` turns true.
pub async fn run(db: Db, mut shutdown: watch::Receiver<bool>) {
    tracing::info!("background worker started");
    loop {
        housekeeping(&db).await;
        tokio::select! {
            _ = tokio::time::sleep(HOUSEKEEPING_EVERY) => {}
            _ = shutdown.changed() => break,
        }
    }
    tracing::info!("background worker stopped");
}

/// Removes expired sessions. Safe to run on several instances at once.
pub async fn housekeeping(db: &Db) {
    match sessions::delete_expired(db).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "expired sessions removed"),
        Err(error) => tracing::warn!(%error, "could not remove expired sessions"),
    }
}
