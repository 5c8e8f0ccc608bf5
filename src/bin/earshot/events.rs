//! `earshot event`: signed webhook events for raw platform payloads, so real
//! deliveries can be replayed through `earshot invoke` or `cargo lambda`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use earshot::config::{self, Secret};
use earshot::http::HttpRequest;
use earshot::signature;
use earshot::webhook::{X_PATH, X_SIGNATURE_HEADER};

#[derive(Subcommand)]
pub enum EventCommand {
    /// POST /webhooks/x carrying the payload, signed with X_CONSUMER_SECRET.
    X { payload: PathBuf },
    /// GET /webhooks/x?crc_token=TOKEN: X's challenge.
    XCrc { token: String },
}

pub fn run(command: EventCommand) -> Result<()> {
    let event = match command {
        EventCommand::X { payload } => {
            let secret = config::required_secret(config::X_SECRET_VAR)?;
            signed_x_delivery(&secret, String::from_utf8(crate::read_file(&payload)?)?)
        }
        EventCommand::XCrc { token } => x_challenge(&token),
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
