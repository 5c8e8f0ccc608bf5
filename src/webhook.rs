//! The webhook function: platform challenges and signed deliveries in,
//! stored mentions and alerts out.

use serde_json::json;
use tracing::{error, info, warn};

use crate::adapters::secrets;
use crate::config::{self, ConfigError, Secret};
use crate::http::{HttpRequest, HttpResponse};
use crate::ingest::{IngestError, Ingestor};
use crate::platforms::{self, PayloadError};
use crate::signature;

/// Larger bodies are refused before any parsing. Real deliveries are a few
/// kilobytes; this bounds the work an unauthenticated caller can cause.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub const X_SIGNATURE_HEADER: &str = "x-twitter-webhooks-signature";
pub const X_PATH: &str = "/webhooks/x";

/// Secrets the webhook verifies deliveries with.
pub struct WebhookSecrets {
    pub x_consumer_secret: Secret,
}

pub struct Webhook {
    secrets: WebhookSecrets,
    ingestor: Ingestor,
}

impl Webhook {
    pub fn new(secrets: WebhookSecrets, ingestor: Ingestor) -> Self {
        Self { secrets, ingestor }
    }

    #[tracing::instrument(skip_all, fields(method = %request.method(), path = %request.path()))]
    pub async fn handle(&self, request: &HttpRequest) -> HttpResponse {
        let response = match (request.path(), request.method()) {
            (X_PATH, "GET") => self.x_challenge(request),
            (X_PATH, "POST") => self.x_delivery(request).await,
            (X_PATH, _) => {
                HttpResponse::error(405, "use GET for the challenge or POST for deliveries")
                    .with_header("allow", "GET, POST")
            }
            _ => HttpResponse::error(404, "no webhook at this path"),
        };
        info!(status = response.status_code, "webhook answered");
        response
    }

    fn x_challenge(&self, request: &HttpRequest) -> HttpResponse {
        let Some(token) = request.query("crc_token").filter(|t| !t.is_empty()) else {
            return HttpResponse::error(400, "missing crc_token query parameter");
        };
        let response_token =
            signature::x_signature(self.secrets.x_consumer_secret.expose(), token.as_bytes());
        HttpResponse::json(200, &json!({ "response_token": response_token }))
    }

    async fn x_delivery(&self, request: &HttpRequest) -> HttpResponse {
        let body = match signed_body(request) {
            Ok(body) => body,
            Err(response) => return response,
        };
        let signature = request.header(X_SIGNATURE_HEADER).unwrap_or_default();
        if !signature::verify_x(self.secrets.x_consumer_secret.expose(), &body, signature) {
            warn!(
                has_header = !signature.is_empty(),
                "X delivery with a bad signature"
            );
            return HttpResponse::error(401, format!("missing or invalid {X_SIGNATURE_HEADER}"));
        }
        let delivery = match platforms::x::parse_delivery(&body, self.ingestor.clock.now()) {
            Ok(delivery) => delivery,
            Err(err) => return payload_error(&err),
        };
        self.ingest_all(delivery).await
    }

    /// Stores every readable post, even when one fails, then answers 5xx if
    /// any failed so the platform retries; duplicates are absorbed by then.
    async fn ingest_all(&self, delivery: platforms::Delivery) -> HttpResponse {
        for rejected in &delivery.rejected {
            warn!(index = rejected.index, reason = %rejected.reason, "post rejected");
        }
        let received = delivery.mentions.len() + delivery.rejected.len();
        let mut outcomes = Vec::with_capacity(delivery.mentions.len());
        let mut failure: Option<IngestError> = None;
        for mention in delivery.mentions {
            match self.ingestor.ingest(mention).await {
                Ok(outcome) => outcomes.push(outcome),
                Err(err) => {
                    error!(error = %err, "ingest failed");
                    failure.get_or_insert(err);
                }
            }
        }
        if let Some(err) = failure {
            return match err {
                IngestError::AlertNotDelivered { .. } => {
                    HttpResponse::error(502, "stored, but the alert SMS was not delivered; retry")
                }
                IngestError::NoFreeCode(_) => {
                    HttpResponse::error(500, "could not allocate an alert code")
                }
                IngestError::Store(_) => HttpResponse::error(503, "storage unavailable; retry"),
            };
        }
        HttpResponse::json(
            200,
            &json!({
                "received": received,
                "stored": outcomes.iter().filter(|o| !o.duplicate).count(),
                "duplicates": outcomes.iter().filter(|o| o.duplicate).count(),
                "sms_sent": outcomes.iter().map(|o| o.sms_sent).sum::<usize>(),
                "mentions": outcomes,
                "rejected": delivery.rejected,
                "ignored": delivery.ignored,
            }),
        )
    }
}

/// The raw body, bounded in size, or the 4xx answer that explains why not.
fn signed_body(request: &HttpRequest) -> Result<Vec<u8>, HttpResponse> {
    let too_large = || HttpResponse::error(413, format!("body exceeds {MAX_BODY_BYTES} bytes"));
    let encoded_len = request.body.as_ref().map_or(0, String::len);
    // Base64 grows data by 4/3; check before decoding anything.
    if encoded_len > MAX_BODY_BYTES * 4 / 3 + 4 {
        return Err(too_large());
    }
    let body = request
        .raw_body()
        .map_err(|_| HttpResponse::error(400, "body is marked base64 but does not decode"))?;
    if body.len() > MAX_BODY_BYTES {
        return Err(too_large());
    }
    Ok(body)
}

fn payload_error(err: &PayloadError) -> HttpResponse {
    warn!(error = %err, "unusable payload");
    HttpResponse::error(400, err.to_string())
}

impl WebhookSecrets {
    /// From the environment only, for local use.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            x_consumer_secret: config::required_secret(config::X_SECRET_VAR)?,
        })
    }

    /// From the environment or SSM; fails naming the first missing secret.
    pub async fn resolve(sdk: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            x_consumer_secret: secrets::resolve(sdk, config::X_SECRET_VAR).await?,
        })
    }
}
