//! Builds the poller from the environment: base URLs and tokens per
//! platform, read once per cold start.

use std::sync::Arc;

use super::fetch::{FetchError, Http};
use super::{Poller, SearchSource};
use crate::adapters::{Deps, secrets};
use crate::config::{self, ConfigError, Secret};
use crate::ingest::Clock;
use crate::platforms::{bluesky, mastodon, reddit, x_search};
use crate::ports::{SourceStore, WatchStore};
use crate::watch::HealthPolicy;

/// Tokens for the platforms that need one; a platform without its token
/// fails (and says why in `earshot sources`) instead of stopping the rest.
#[derive(Default)]
pub struct PollSecrets {
    pub x_bearer_token: Option<Secret>,
    pub mastodon_access_token: Option<Secret>,
}

impl PollSecrets {
    /// From the environment only, for local use.
    pub fn from_env() -> Self {
        Self {
            x_bearer_token: config::optional(config::X_BEARER_TOKEN_VAR).map(Secret::new),
            mastodon_access_token: config::optional(config::MASTODON_ACCESS_TOKEN_VAR)
                .map(Secret::new),
        }
    }

    /// From the environment or SSM (`<NAME>_PARAM`); both are optional.
    pub async fn resolve(sdk: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        Ok(Self {
            x_bearer_token: optional_secret(sdk, config::X_BEARER_TOKEN_VAR).await?,
            mastodon_access_token: optional_secret(sdk, config::MASTODON_ACCESS_TOKEN_VAR).await?,
        })
    }
}

pub(crate) async fn optional_secret(
    sdk: &aws_config::SdkConfig,
    name: &'static str,
) -> Result<Option<Secret>, ConfigError> {
    match secrets::resolve(sdk, name).await {
        Ok(secret) => Ok(Some(secret)),
        Err(ConfigError::Missing(_)) => Ok(None),
        Err(err) => Err(err),
    }
}

fn base_url(name: &'static str, default: &str) -> String {
    config::optional(name).unwrap_or_else(|| default.to_owned())
}

/// Every platform's search, at the base URLs the environment names (the
/// public services by default). Bluesky is left out when the firehose reads
/// it (`EARSHOT_BLUESKY_FIREHOSE=on`); an unreadable switch keeps search on,
/// so no mention is missed.
pub fn search_sources(secrets: PollSecrets) -> Result<Vec<Arc<dyn SearchSource>>, FetchError> {
    let firehose = config::bluesky_firehose_on().unwrap_or_else(|err| {
        tracing::warn!(error = %err, "Bluesky search stays on");
        false
    });
    search_sources_for(secrets, firehose)
}

/// Every platform's search; Bluesky's only without the firehose.
pub fn search_sources_for(
    secrets: PollSecrets,
    bluesky_firehose: bool,
) -> Result<Vec<Arc<dyn SearchSource>>, FetchError> {
    let http = Http::new()?;
    let mut sources: Vec<Arc<dyn SearchSource>> = vec![
        Arc::new(x_search::XSearch::new(
            http.clone(),
            base_url(config::X_API_BASE_URL_VAR, x_search::DEFAULT_BASE_URL),
            secrets.x_bearer_token,
        )),
        Arc::new(mastodon::MastodonSearch::new(
            http.clone(),
            base_url(config::MASTODON_BASE_URL_VAR, mastodon::DEFAULT_BASE_URL),
            secrets.mastodon_access_token,
        )),
        Arc::new(reddit::RedditSearch::new(
            http.clone(),
            base_url(config::REDDIT_API_BASE_URL_VAR, reddit::DEFAULT_BASE_URL),
        )),
    ];
    if !bluesky_firehose {
        sources.push(Arc::new(bluesky::BlueskySearch::new(
            http,
            base_url(config::BLUESKY_API_BASE_URL_VAR, bluesky::DEFAULT_BASE_URL),
        )));
    }
    Ok(sources)
}

impl Poller {
    /// A poller over `store` (which keeps watches and source state) that
    /// ingests through `deps`.
    pub fn new<S>(
        deps: &Deps,
        store: S,
        platforms: Vec<Arc<dyn SearchSource>>,
        clock: Clock,
    ) -> Self
    where
        S: WatchStore + SourceStore + Clone + 'static,
    {
        Self {
            watches: Arc::new(store.clone()),
            sources: Arc::new(store),
            ingestor: deps.ingestor(clock),
            platforms,
            health: HealthPolicy::default(),
        }
    }
}
