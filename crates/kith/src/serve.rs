//! `kith serve`: the web app and the background worker, with graceful shutdown.

use crate::config::Config;
use anyhow::Context;
use kith_store::{Db, migrations};
use kith_web::AppState;
use std::net::SocketAddr;
use tokio::sync::watch;

/// Opens the configured database, creating the data directory for SQLite, and migrates it.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "could not create the data directory {}",
            config.data_dir.display()
        )
    })?;
    let url = config.database_url();
    let db = Db::connect(&url)
        .await
        .context("could not open the database")?;
    migrations::run(&db)
        .await
        .context("could not migrate the database")?;
    Ok(db)
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    let db = open_database(&config).await?;
    config.secret_key().map_err(anyhow::Error::msg)?;

    let (stop, stopped) = watch::channel(false);
    let worker = tokio::spawn(kith_worker::run(db.clone(), stopped));

    let app = kith_web::app(AppState::new(db.clone(), config.web()));
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("could not listen on {}", config.listen))?;
    tracing::info!(address = %listener.local_addr()?, backend = ?db.backend(), "Kith is serving");

    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("the server stopped with an error")?;

    tracing::info!("shutting down");
    let _ = stop.send(true);
    let _ = worker.await;
    db.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}
