//! Structured logs: human-readable by default, JSON on request. Request spans carry the route
//! and request id, never query strings or bodies. Logs go to stderr, so a command's stdout holds
//! only what it prints (`TOKEN=$(kith token create …)` captures the token alone).

use tracing_subscriber::EnvFilter;

pub fn init(filter: &str, format: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    let result = if format.eq_ignore_ascii_case("json") {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests, embedded use) keeps the first subscriber.
    let _ = result;
}
