//! Picks the embedded or AWS backend and runs handlers on it.

use std::path::Path;

use anyhow::{Context, Result, bail};
use earshot::adapters::dynamo::DynamoStore;
use earshot::adapters::embedded::{EmbeddedStore, OutboxMessage};
use earshot::adapters::{Deps, FollowThrough};
use earshot::domain::Clock;
use earshot::http::HttpRequest;
use earshot::poll::Poller;
use earshot::ports::{SourceStore, WatchStore};
use earshot::sms_reply::SnsEvent;
use earshot::webhook::{Webhook, WebhookSecrets};
use std::sync::Arc;

use crate::GlobalArgs;

pub const BACKEND_VAR: &str = "EARSHOT_BACKEND";

enum Storage {
    Embedded(EmbeddedStore),
    Aws {
        table: DynamoStore,
        sdk: Box<earshot::adapters::SdkConfig>,
    },
}

pub struct Backend {
    pub deps: Deps,
    storage: Storage,
    clock: Clock,
}

fn wants_aws(global: &GlobalArgs) -> Result<bool> {
    if global.aws {
        return Ok(true);
    }
    match std::env::var(BACKEND_VAR).as_deref() {
        Err(_) | Ok("") | Ok("embedded") => Ok(false),
        Ok("aws") => Ok(true),
        Ok(other) => bail!("{BACKEND_VAR} must be `aws` or `embedded`, not `{other}`"),
    }
}

impl Backend {
    pub async fn open(global: &GlobalArgs) -> Result<Self> {
        let clock = global.now.map_or(Clock::System, Clock::Fixed);
        if wants_aws(global)? {
            let sdk = earshot::adapters::aws_sdk_config_from_standard_chain(
                earshot::config::FunctionBudget::Escalate,
            )
            .await;
            let (deps, table) = Deps::aws_from_env(&sdk)?;
            let deps = deps.with_follow_through(
                FollowThrough::on_store(table.clone()).with_voice_from_env(&sdk),
            );
            return Ok(Self {
                deps,
                storage: Storage::Aws {
                    table,
                    sdk: Box::new(sdk),
                },
                clock,
            });
        }
        Self::embedded(&global.home, clock, true)
    }

    /// `echo_sms` also prints each SMS to standard error as it is sent.
    pub fn embedded(home: &Path, clock: Clock, echo_sms: bool) -> Result<Self> {
        let (mut deps, store) = Deps::embedded(home, echo_sms, clock)
            .with_context(|| format!("cannot open the embedded store in {}", home.display()))?;
        deps.limits = earshot::config::sms_limits()?;
        Ok(Self {
            deps,
            storage: Storage::Embedded(store),
            clock,
        })
    }

    /// Staff SMS replies on this backend, posting public replies with the
    /// credentials its functions would have.
    pub async fn sms_replies(&self) -> Result<earshot::sms_reply::SmsReplies> {
        let platforms = match &self.storage {
            Storage::Aws { sdk, .. } => earshot::adapters::aws_public_replies(sdk).await?,
            Storage::Embedded(_) => earshot::adapters::public_replies(
                earshot::platforms::reply::ReplyCredentials::from_env(),
            )?,
        };
        Ok(self.deps.sms_replies(self.clock, Arc::new(platforms))?)
    }

    /// Runs `function`'s handler on the event in `path`; returns its JSON
    /// response.
    pub async fn invoke(&self, function: &str, path: &Path) -> Result<String> {
        let event = crate::read_file(path)?;
        match function {
            "webhook" => {
                let request: HttpRequest = serde_json::from_slice(&event).with_context(|| {
                    format!("{} is not an HTTP (payload 2.0) event", path.display())
                })?;
                let secrets = match &self.storage {
                    Storage::Aws { sdk, .. } => WebhookSecrets::resolve(sdk).await?,
                    Storage::Embedded(_) => WebhookSecrets::from_env()?,
                };
                let response = Webhook::new(secrets, &self.deps, self.clock)?
                    .handle(&request)
                    .await;
                Ok(serde_json::to_string_pretty(&response)?)
            }
            "sms-reply" => {
                let event: SnsEvent = serde_json::from_slice(&event)
                    .with_context(|| format!("{} is not an SNS event", path.display()))?;
                let summary = self.sms_replies().await?.handle(&event).await?;
                Ok(serde_json::to_string_pretty(&summary)?)
            }
            "escalate" => {
                // The schedule's payload carries nothing; it only has to be JSON.
                serde_json::from_slice::<serde_json::Value>(&event)
                    .with_context(|| format!("{} is not JSON", path.display()))?;
                let summary = self.deps.escalator(self.clock)?.run().await?;
                Ok(serde_json::to_string_pretty(&summary)?)
            }
            "poll" => {
                let event: serde_json::Value = serde_json::from_slice(&event)
                    .with_context(|| format!("{} is not JSON", path.display()))?;
                let summary = self.poll(&event).await?;
                Ok(serde_json::to_string_pretty(&summary)?)
            }
            "firehose" => {
                let summary = self.firehose(path, &event).await?;
                Ok(serde_json::to_string_pretty(&summary)?)
            }
            "delivery" => {
                let event: earshot::delivery::LogsEvent = serde_json::from_slice(&event)
                    .with_context(|| {
                        format!("{} is not a CloudWatch Logs event", path.display())
                    })?;
                let summary = self.deps.delivery_receipts().handle(&event).await?;
                Ok(serde_json::to_string_pretty(&summary)?)
            }
            other => bail!(
                "no function named `{other}`; try: webhook, sms-reply, escalate, poll, firehose, delivery"
            ),
        }
    }

    /// One firehose run. A file of Jetstream frames (one JSON event per
    /// line) is replayed from the stored cursor; any other JSON event reads
    /// the endpoints in EARSHOT_JETSTREAM_ENDPOINTS (a local server, say)
    /// for 55 s, or for the event's `"seconds"` (1 to 55).
    async fn firehose(
        &self,
        path: &Path,
        event: &[u8],
    ) -> Result<earshot::firehose::FirehoseSummary> {
        use earshot::firehose::{
            Connector, Firehose, FirehoseSettings, ReplayConnector, WebSocketConnector,
        };
        use earshot::platforms::bluesky_profiles::BlueskyProfiles;
        let text = String::from_utf8_lossy(event);
        let first = text.lines().find(|line| !line.trim().is_empty());
        let replay =
            first.is_some_and(|line| earshot::platforms::jetstream::frame_position(line).is_some());
        let mut settings = FirehoseSettings::from_env()?;
        let mut seconds = 55;
        let margin = settings.margin;
        let connector: Arc<dyn Connector> = if replay {
            // Replaying a file is asking for the firehose.
            settings.enabled = true;
            Arc::new(ReplayConnector {
                path: path.to_owned(),
            })
        } else {
            let event: serde_json::Value = serde_json::from_slice(event).with_context(|| {
                format!("{} is neither Jetstream frames nor JSON", path.display())
            })?;
            if let Some(asked) = event.get("seconds") {
                seconds = asked
                    .as_u64()
                    .filter(|s| (1..=55).contains(s))
                    .with_context(|| format!("\"seconds\" must be 1 to 55, not {asked}"))?;
            }
            Arc::new(WebSocketConnector)
        };
        let mut firehose = match &self.storage {
            Storage::Aws { table, .. } => {
                Firehose::new(&self.deps, table.clone(), connector, settings, self.clock)
            }
            Storage::Embedded(store) => {
                Firehose::new(&self.deps, store.clone(), connector, settings, self.clock)
            }
        };
        if !replay {
            // A live stream's authors are looked up as on Lambda; a
            // replayed file stays offline.
            firehose = firehose.with_profiles(BlueskyProfiles::from_env()?);
        }
        // Read for `seconds`, then save and report, as a Lambda run would.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds) + margin;
        Ok(firehose.run(deadline).await?)
    }

    /// One poll run with the platforms the environment configures, and as
    /// long as a Lambda run would have.
    async fn poll(&self, event: &serde_json::Value) -> Result<earshot::poll::PollSummary> {
        use earshot::poll::setup::{PollSecrets, search_sources};
        let request = earshot::poll::PollRequest::from_event(event)?;
        let secrets = match &self.storage {
            Storage::Aws { sdk, .. } => PollSecrets::resolve(sdk).await?,
            Storage::Embedded(_) => PollSecrets::from_env(),
        };
        let platforms = search_sources(secrets)?;
        let poller = match &self.storage {
            Storage::Aws { table, .. } => {
                Poller::new(&self.deps, table.clone(), platforms, self.clock)
            }
            Storage::Embedded(store) => {
                Poller::new(&self.deps, store.clone(), platforms, self.clock)
            }
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(50);
        Ok(poller.run(&request, deadline).await?)
    }

    pub fn watch_store(&self) -> Arc<dyn WatchStore> {
        match &self.storage {
            Storage::Aws { table, .. } => Arc::new(table.clone()),
            Storage::Embedded(store) => Arc::new(store.clone()),
        }
    }

    pub fn source_store(&self) -> Arc<dyn SourceStore> {
        match &self.storage {
            Storage::Aws { table, .. } => Arc::new(table.clone()),
            Storage::Embedded(store) => Arc::new(store.clone()),
        }
    }

    pub fn outbox(&self) -> Result<Vec<OutboxMessage>> {
        match &self.storage {
            Storage::Embedded(store) => Ok(store.outbox()?),
            Storage::Aws { .. } => bail!(
                "the outbox belongs to the embedded backend; with --aws, SMS go to SNS (see its delivery logs)"
            ),
        }
    }

    /// Creates the storage; says what it did.
    pub async fn setup(&self) -> Result<String> {
        match &self.storage {
            Storage::Embedded(_) => Ok("embedded store ready".into()),
            Storage::Aws { table, .. } => {
                let created = table.create_table().await?;
                Ok(if created {
                    format!("created DynamoDB table {}", table.table())
                } else {
                    format!("DynamoDB table {} already exists", table.table())
                })
            }
        }
    }
}
