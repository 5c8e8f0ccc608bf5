//! `earshot event`: signed webhook events for raw platform payloads, so real
//! deliveries can be replayed through `earshot invoke` or `cargo lambda`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Subcommand;
use earshot::config::{self, Secret};
use earshot::http::HttpRequest;
use earshot::signature;
use earshot::webhook::{HexSignedRoute, META_PATH, X_PATH, X_SIGNATURE_HEADER};

#[derive(Subcommand)]
pub enum EventCommand {
    /// POST /webhooks/x carrying the payload, signed with X_CONSUMER_SECRET.
    X { payload: PathBuf },
    /// GET /webhooks/x?crc_token=TOKEN: X's challenge.
    XCrc { token: String },
    /// POST /webhooks/meta carrying the payload, signed with META_APP_SECRET.
    Meta { payload: PathBuf },
    /// GET /webhooks/meta: Meta's subscription handshake with
    /// META_VERIFY_TOKEN and the given challenge.
    MetaVerify { challenge: String },
    /// POST /webhooks/mastodon carrying the payload, signed with
    /// MASTODON_WEBHOOK_SECRET.
    Mastodon { payload: PathBuf },
}

pub fn run(command: EventCommand) -> Result<()> {
    let event = match command {
        EventCommand::X { payload } => {
            let secret = config::required_secret(config::X_SECRET_VAR)?;
            signed_x_delivery(&secret, String::from_utf8(crate::read_file(&payload)?)?)
        }
        EventCommand::XCrc { token } => x_challenge(&token),
        EventCommand::Meta { payload } => hex_signed_event(HexSignedRoute::Meta, &payload)?,
        EventCommand::MetaVerify { challenge } => {
            let token = config::required(config::META_VERIFY_TOKEN_VAR)?;
            meta_verification(&token, &challenge)
        }
        EventCommand::Mastodon { payload } => hex_signed_event(HexSignedRoute::Mastodon, &payload)?,
    };
    println!("{}", serde_json::to_string_pretty(&event)?);
    Ok(())
}

pub fn signed_x_delivery(secret: &Secret, body: String) -> HttpRequest {
    let signature = signature::x_signature(secret.expose(), body.as_bytes());
    HttpRequest::new(
        "POST",
        X_PATH,
        "",
        &[
            ("content-type", "application/json"),
            (X_SIGNATURE_HEADER, &signature),
        ],
        Some(body),
    )
}

pub fn x_challenge(token: &str) -> HttpRequest {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("crc_token", token)
        .finish();
    HttpRequest::new("GET", X_PATH, &query, &[], None)
}

/// The payload as `route` delivers it, signed with the secret from the
/// environment the way Meta and Mastodon sign: `sha256=<hex>`.
fn hex_signed_event(route: HexSignedRoute, payload: &Path) -> Result<HttpRequest> {
    let secret = config::required_secret(route.secret_var())?;
    let body = String::from_utf8(crate::read_file(payload)?)?;
    let signature = signature::hex_signature(secret.expose(), body.as_bytes());
    Ok(HttpRequest::new(
        "POST",
        route.path(),
        "",
        &[
            ("content-type", "application/json"),
            (route.signature_header(), &signature),
        ],
        Some(body),
    ))
}

pub fn meta_verification(token: &str, challenge: &str) -> HttpRequest {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("hub.mode", "subscribe")
        .append_pair("hub.challenge", challenge)
        .append_pair("hub.verify_token", token)
        .finish();
    HttpRequest::new("GET", META_PATH, &query, &[], None)
}
