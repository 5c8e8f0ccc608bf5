//! Structured logs: JSON for CloudWatch, plain text for the CLI. Both are
//! filtered by `RUST_LOG`.

use tracing_subscriber::EnvFilter;

fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
}

/// One JSON object a line, for Lambda.
pub fn init_json() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter("info"))
        .with_current_span(false)
        .without_time() // CloudWatch stamps each line already.
        .try_init();
}

/// Plain text on standard error, for the CLI; `default_level` applies when
/// `RUST_LOG` is not set.
pub fn init_cli(default_level: &str) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter(default_level))
        .with_writer(std::io::stderr)
        .try_init();
}
