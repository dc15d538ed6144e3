//! Kith's command line: configuration, logging and the commands (`serve`, `migrate`, `demo`,
//! `import`, and the tenant, user and token tools).

pub mod cli;
pub mod config;
pub mod demo;
pub mod demo_activities;
pub mod import;
mod logging;
pub mod serve;
