//! Logging: lines on stderr, filtered by `RUST_LOG` (default `info`, with the database drivers and
//! the HTTP trace layer quiet unless asked), as text or, with `COURSEBRIDGE_LOG_FORMAT=json`, one
//! JSON object a line. Logging starts before the configuration is read, so the format comes from
//! the environment alone; the configuration checks the same key's value.
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls are ignored (tests start many apps).
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,tower_http=warn")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let json = std::env::var("COURSEBRIDGE_LOG_FORMAT").is_ok_and(|format| format == "json");
    let _ = if json {
        // The event's fields at the top level beside `timestamp`, `level` and `target`; the
        // request's span (its id and route) under `span`.
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
}
