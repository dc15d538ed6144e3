//! Kith's integration suite. It runs unchanged on SQLite and PostgreSQL; see `harness.rs`.

mod harness;

mod activities;
mod activity_edges;
mod activity_pages;
mod api_activities;
mod api_clients;
mod api_contacts;
mod broad_search;
mod demo_data;
mod forecast;
mod hardening;
mod isolation;
mod pages;
mod pagination;
mod people;
mod pipeline;
mod pipeline_review;
mod quotes;
mod search;
mod security;
mod sign_in;
mod stage_settings;
