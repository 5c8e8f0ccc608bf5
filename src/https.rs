//! The one HTTPS set-up of a process: rustls on ring, checking servers
//! against the system's root certificates. Reading and parsing those roots
//! takes milliseconds, so it is done once and shared by every client: the
//! platform searches and public replies, the AWS SDK's, the firehose's
//! WebSocket.

use std::sync::OnceLock;

use rustls_platform_verifier::ConfigVerifierExt;
use thiserror::Error;

/// An HTTPS client could not be set up (no readable root certificates).
#[derive(Debug, Clone, Error)]
#[error("cannot set up HTTPS: {0}")]
pub struct HttpSetupError(String);

/// The shared TLS configuration, for clients that take rustls directly.
pub fn tls_config() -> Result<rustls::ClientConfig, HttpSetupError> {
    static CONFIG: OnceLock<Result<rustls::ClientConfig, rustls::Error>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            // reqwest and tungstenite are built without a crypto provider of
            // their own; installing fails harmlessly once one is installed.
            let _ = rustls::crypto::ring::default_provider().install_default();
            rustls::ClientConfig::with_platform_verifier()
        })
        .clone()
        .map_err(|err| HttpSetupError(err.to_string()))
}

/// A reqwest client builder on the shared TLS configuration; each caller
/// adds its own timeouts and headers.
pub fn client_builder() -> Result<reqwest::ClientBuilder, HttpSetupError> {
    Ok(reqwest::Client::builder().tls_backend_preconfigured(tls_config()?))
}

impl From<reqwest::Error> for HttpSetupError {
    fn from(err: reqwest::Error) -> Self {
        HttpSetupError(err.to_string())
    }
}
