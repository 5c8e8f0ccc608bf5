//! Builds the poller from the environment: base URLs and tokens per
//! platform, read once per cold start.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Poller, SearchSource};
use crate::adapters::Deps;
use crate::adapters::secrets::Secrets;
use crate::config::{self, ConfigError, FunctionBudget, Secret};
use crate::domain::Clock;
use crate::domain::{HealthPolicy, Platform};
use crate::platforms;
use crate::platforms::http::{FetchError, Http};
use crate::ports::{SourceStore, WatchStore};

/// Tokens for the platforms that need one, by variable name; a platform
/// without its token fails (and says why in `earshot sources`) instead of
/// stopping the rest.
#[derive(Default)]
pub struct PollSecrets {
    tokens: BTreeMap<&'static str, Secret>,
}

fn token_vars() -> impl Iterator<Item = &'static str> {
    platforms::POLLED.iter().filter_map(|p| p.token_var)
}

impl PollSecrets {
    /// From the environment only, for local use.
    pub fn from_env() -> Self {
        Self {
            tokens: token_vars()
                .filter_map(|var| Some((var, Secret::new(config::optional(var)?))))
                .collect(),
        }
    }

    /// From the environment or SSM (`<NAME>_PARAM`); all are optional.
    pub async fn resolve(sdk: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let vars: Vec<&'static str> = token_vars().collect();
        let mut secrets = Secrets::fetch(sdk, &vars).await?;
        let tokens = vars
            .into_iter()
            .filter_map(|var| Some((var, secrets.optional(var)?)))
            .collect();
        Ok(Self { tokens })
    }
}

/// Every polled platform's search, at the base URLs the environment names
/// (the public services by default). Bluesky is left out when the firehose
/// reads it (`EARSHOT_BLUESKY_FIREHOSE=on`); an unreadable switch keeps
/// search on, so no mention is missed.
pub fn search_sources(secrets: PollSecrets) -> Result<Vec<Arc<dyn SearchSource>>, FetchError> {
    let firehose = config::bluesky_firehose_on().unwrap_or_else(|err| {
        tracing::warn!(error = %err, "Bluesky search stays on");
        false
    });
    search_sources_for(secrets, firehose)
}

/// Every polled platform's search; Bluesky's only without the firehose.
pub fn search_sources_for(
    mut secrets: PollSecrets,
    bluesky_firehose: bool,
) -> Result<Vec<Arc<dyn SearchSource>>, FetchError> {
    let http = Http::new()?;
    Ok(platforms::POLLED
        .iter()
        .filter(|p| !(bluesky_firehose && p.platform == Platform::Bluesky))
        .map(|p| {
            let base_url = p.api.url();
            let token = p.token_var.and_then(|var| secrets.tokens.remove(var));
            (p.build)(http.clone(), base_url, token)
        })
        .collect())
}

impl Poller {
    /// A poller over `store` (which keeps watches and source state) that
    /// ingests through `deps`.
    pub fn new<S, F>(
        deps: &Deps<F>,
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
            ingestor: deps.ingestor(clock, FunctionBudget::Poll),
            platforms,
            health: HealthPolicy::default(),
        }
    }
}
