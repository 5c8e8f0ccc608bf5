//! The webhook function: platform challenges and signed deliveries in,
//! stored mentions and alerts out. One route per platform: X, Meta
//! (Facebook Pages and Instagram) and Mastodon.

mod mastodon;
mod meta;
mod x;

use std::sync::Arc;

use serde_json::json;
use tracing::{error, info, warn};

use crate::adapters::Deps;
use crate::adapters::secrets::Secrets;
use crate::config::{self, ConfigError, FunctionBudget, Secret};
use crate::domain::Clock;
use crate::domain::Watch;
use crate::domain::{Mention, Platform};
use crate::http::{HttpRequest, HttpResponse};
use crate::ingest::{IngestError, Ingestor, Outcome};
use crate::pager::PagerError;
use crate::platforms::http::{FetchError, Http};
use crate::platforms::meta::GraphClient;
use crate::platforms::{PayloadError, RejectedPost};
use crate::ports::{MentionRevisions, Revision, StoreError};
use crate::signature;
use crate::watch::WatchCache;

/// Larger bodies are refused before any parsing. Real deliveries are a few
/// kilobytes; this bounds the work an unauthenticated caller can cause.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub const X_SIGNATURE_HEADER: &str = "x-twitter-webhooks-signature";
pub const X_PATH: &str = "/webhooks/x";
pub const META_SIGNATURE_HEADER: &str = "x-hub-signature-256";
pub const META_PATH: &str = "/webhooks/meta";
pub const MASTODON_SIGNATURE_HEADER: &str = "x-hub-signature";
pub const MASTODON_PATH: &str = "/webhooks/mastodon";

/// The routes whose deliveries carry a `sha256=<hex>` HMAC of the body,
/// keyed with a secret the platform and the deployment share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HexSignedRoute {
    Meta,
    Mastodon,
}

impl HexSignedRoute {
    pub fn platform(self) -> &'static str {
        match self {
            Self::Meta => "Meta",
            Self::Mastodon => "Mastodon",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Self::Meta => META_PATH,
            Self::Mastodon => MASTODON_PATH,
        }
    }

    pub fn signature_header(self) -> &'static str {
        match self {
            Self::Meta => META_SIGNATURE_HEADER,
            Self::Mastodon => MASTODON_SIGNATURE_HEADER,
        }
    }

    /// The environment variable holding the signing secret.
    pub fn secret_var(self) -> &'static str {
        match self {
            Self::Meta => config::META_APP_SECRET_VAR,
            Self::Mastodon => config::MASTODON_WEBHOOK_SECRET_VAR,
        }
    }
}

/// Secrets the webhook verifies deliveries with. Only X is required; a
/// platform whose secret is unset answers 404 on its route.
pub struct WebhookSecrets {
    pub x_consumer_secret: Secret,
    pub meta_app_secret: Option<Secret>,
    pub meta_verify_token: Option<Secret>,
    /// Reads the text of Instagram mentions, which the webhook omits.
    pub meta_access_token: Option<Secret>,
    pub mastodon_webhook_secret: Option<Secret>,
}

pub struct Webhook {
    secrets: WebhookSecrets,
    ingestor: Ingestor,
    watches: Arc<WatchCache>,
    revisions: Arc<dyn MentionRevisions>,
    graph: Option<GraphClient>,
}

/// A post Earshot could read but can never store: why, in a few words.
#[derive(Debug, serde::Serialize)]
struct RefusedPost {
    id: String,
    reason: String,
}

/// What one delivery came to, before it is turned into an answer.
#[derive(Default)]
struct Tally {
    outcomes: Vec<Outcome>,
    revised: usize,
    rejected: Vec<RejectedPost>,
    /// Posts whose storing failed for good (a validation error, an
    /// unreadable stored item): answered, not retried.
    refused: Vec<RefusedPost>,
    ignored: Vec<String>,
    /// The answer for the first failure; the platform will retry.
    failure: Option<HttpResponse>,
}

impl Webhook {
    /// Fails only if the HTTP client for Graph API look-ups cannot be built.
    pub fn new<F>(
        secrets: WebhookSecrets,
        deps: &Deps<F>,
        clock: Clock,
    ) -> Result<Self, FetchError> {
        let graph = match &secrets.meta_access_token {
            Some(token) => Some(GraphClient::new(
                Http::new()?,
                config::META_GRAPH_API.url(),
                token.clone(),
            )),
            None => None,
        };
        Ok(Self {
            secrets,
            ingestor: deps.ingestor(clock, FunctionBudget::Webhook),
            watches: deps.watch_cache.clone(),
            revisions: deps.revisions.clone(),
            graph,
        })
    }

    /// Reads Instagram mentions through this client instead.
    pub fn with_graph(mut self, graph: GraphClient) -> Self {
        self.graph = Some(graph);
        self
    }

    #[tracing::instrument(skip_all, fields(method = %request.method(), path = %request.path()))]
    pub async fn handle(&self, request: &HttpRequest) -> HttpResponse {
        let response = match (request.path(), request.method()) {
            (X_PATH, "GET") => self.x_challenge(request),
            (X_PATH, "POST") => self.x_delivery(request).await,
            (META_PATH, "GET") => self.meta_challenge(request),
            (META_PATH, "POST") => match self.hex_signed_body(request, HexSignedRoute::Meta) {
                Ok(body) => self.meta_delivery(&body).await,
                Err(refusal) => refusal,
            },
            (MASTODON_PATH, "POST") => {
                match self.hex_signed_body(request, HexSignedRoute::Mastodon) {
                    Ok(body) => self.mastodon_delivery(&body).await,
                    Err(refusal) => refusal,
                }
            }
            (X_PATH | META_PATH, _) => {
                HttpResponse::error(405, "use GET for the challenge or POST for deliveries")
                    .with_header("allow", "GET, POST")
            }
            (MASTODON_PATH, _) => {
                HttpResponse::error(405, "use POST for deliveries").with_header("allow", "POST")
            }
            _ => HttpResponse::error(404, "no webhook at this path"),
        };
        info!(status = response.status_code, "webhook answered");
        response
    }

    /// Stores the post; a failure is kept for the answer, the rest go on.
    async fn ingest(&self, mention: Mention, tally: &mut Tally) {
        let id = mention.id.clone();
        match self.ingestor.ingest(mention).await {
            Ok(outcome) => tally.outcomes.push(outcome),
            // Delivering it again would fail the same way: say so and
            // answer 200, so the platform does not retry it for ever.
            Err(err) if !err.is_retryable() => {
                error!(mention = %id, error = %err, "post refused for good");
                tally.refused.push(RefusedPost {
                    id: id.to_string(),
                    reason: err.to_string(),
                });
            }
            Err(err) => {
                error!(error = %err, "ingest failed");
                tally.failed(retry_answer(&err));
            }
        }
    }

    /// Updates the stored post's text, or stores it if this is the first
    /// Earshot hears of it.
    async fn edit(&self, mention: Mention, tally: &mut Tally) {
        let revision = Revision::Edited {
            text: mention.text.clone(),
            at: mention.received_at,
        };
        match self.revisions.revise_mention(&mention.id, &revision).await {
            Ok(true) => tally.revised += 1,
            Ok(false) => self.ingest(mention, tally).await,
            Err(err) => tally.failed(store_unavailable(&err)),
        }
    }
}

impl Tally {
    /// Starts with what the parser refused or skipped.
    fn noting(rejected: Vec<RejectedPost>, ignored: Vec<String>) -> Self {
        Self {
            rejected,
            ignored,
            ..Self::default()
        }
    }

    fn failed(&mut self, answer: HttpResponse) {
        self.failure.get_or_insert(answer);
    }

    /// 200 with what happened, or 5xx if anything failed so the platform
    /// retries; what was stored is absorbed as duplicates by then.
    fn answer(self) -> HttpResponse {
        for rejected in &self.rejected {
            warn!(index = rejected.index, reason = %rejected.reason, "post rejected");
        }
        if let Some(answer) = self.failure {
            return answer;
        }
        let outcomes = &self.outcomes;
        HttpResponse::json(
            200,
            &json!({
                "received": outcomes.len() + self.revised + self.rejected.len() + self.refused.len() + self.ignored.len(),
                "stored": outcomes.iter().filter(|o| !o.duplicate).count(),
                "duplicates": outcomes.iter().filter(|o| o.duplicate).count(),
                "revised": self.revised,
                "sms_sent": outcomes.iter().map(|o| o.sms_sent).sum::<usize>(),
                "mentions": outcomes,
                "rejected": self.rejected,
                "refused": self.refused,
                "ignored": self.ignored,
            }),
        )
    }
}

fn retry_answer(err: &IngestError) -> HttpResponse {
    match err {
        IngestError::Paging(PagerError::AlertNotDelivered { .. }) => {
            HttpResponse::error(502, "stored, but the alert SMS was not delivered; retry")
        }
        IngestError::Paging(PagerError::NoFreeCode(_)) => {
            HttpResponse::error(500, "could not allocate an alert code")
        }
        IngestError::Store(_) | IngestError::Paging(PagerError::Store(_)) => {
            // Only retryable store errors reach here.
            HttpResponse::error(503, "storage unavailable; retry")
        }
    }
}

/// The brand that owns a Page or Instagram account, or the account itself
/// when no watch lists it.
fn brand_of(watches: &[Watch], platform: Platform, account: &str) -> String {
    watches
        .iter()
        .find(|watch| watch.is_own(platform, account, account))
        .map(|watch| watch.brand.clone())
        .unwrap_or_else(|| format!("{platform}:{account}"))
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

/// The bounded raw body, if `verify` accepts the signature in `header`;
/// otherwise the 4xx answer.
fn verified_body(
    request: &HttpRequest,
    header: &str,
    verify: impl Fn(&[u8], &str) -> bool,
) -> Result<Vec<u8>, HttpResponse> {
    let body = signed_body(request)?;
    let signature = request.header(header).unwrap_or_default();
    if !verify(&body, signature) {
        warn!(
            header,
            has_header = !signature.is_empty(),
            "delivery with a bad signature"
        );
        return Err(HttpResponse::error(
            401,
            format!("missing or invalid {header}"),
        ));
    }
    Ok(body)
}

impl Webhook {
    /// The body of a Meta or Mastodon delivery whose `sha256=<hex>`
    /// signature holds; otherwise the answer, a 404 while the route's
    /// secret is unset.
    fn hex_signed_body(
        &self,
        request: &HttpRequest,
        route: HexSignedRoute,
    ) -> Result<Vec<u8>, HttpResponse> {
        let secret = match route {
            HexSignedRoute::Meta => &self.secrets.meta_app_secret,
            HexSignedRoute::Mastodon => &self.secrets.mastodon_webhook_secret,
        };
        let Some(secret) = secret else {
            return Err(not_configured(route.platform(), route.secret_var()));
        };
        verified_body(request, route.signature_header(), |body, signature| {
            signature::verify_hex(secret.expose(), body, signature)
        })
    }
}

fn not_configured(platform: &str, secret: &str) -> HttpResponse {
    warn!(platform, secret, "webhook route called but not configured");
    HttpResponse::error(
        404,
        format!("the {platform} webhook is not configured here"),
    )
}

fn store_unavailable(err: &StoreError) -> HttpResponse {
    error!(error = %err, "storage failed");
    HttpResponse::error(503, "storage unavailable; retry")
}

impl WebhookSecrets {
    /// Only X's secret; the other routes stay off.
    pub fn x_only(x_consumer_secret: Secret) -> Self {
        Self {
            x_consumer_secret,
            meta_app_secret: None,
            meta_verify_token: None,
            meta_access_token: None,
            mastodon_webhook_secret: None,
        }
    }

    /// From the environment only, for local use.
    pub fn from_env() -> Result<Self, ConfigError> {
        let optional = |name| config::optional(name).map(Secret::new);
        Ok(Self {
            x_consumer_secret: config::required_secret(config::X_SECRET_VAR)?,
            meta_app_secret: optional(config::META_APP_SECRET_VAR),
            meta_verify_token: optional(config::META_VERIFY_TOKEN_VAR),
            meta_access_token: optional(config::META_ACCESS_TOKEN_VAR),
            mastodon_webhook_secret: optional(config::MASTODON_WEBHOOK_SECRET_VAR),
        })
    }

    /// From the environment or SSM; fails naming the first missing secret.
    pub async fn resolve(sdk: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let mut secrets = Secrets::fetch(
            sdk,
            &[
                config::X_SECRET_VAR,
                config::META_APP_SECRET_VAR,
                config::META_VERIFY_TOKEN_VAR,
                config::META_ACCESS_TOKEN_VAR,
                config::MASTODON_WEBHOOK_SECRET_VAR,
            ],
        )
        .await?;
        Ok(Self {
            x_consumer_secret: secrets.required(config::X_SECRET_VAR)?,
            meta_app_secret: secrets.optional(config::META_APP_SECRET_VAR),
            meta_verify_token: secrets.optional(config::META_VERIFY_TOKEN_VAR),
            meta_access_token: secrets.optional(config::META_ACCESS_TOKEN_VAR),
            mastodon_webhook_secret: secrets.optional(config::MASTODON_WEBHOOK_SECRET_VAR),
        })
    }
}
