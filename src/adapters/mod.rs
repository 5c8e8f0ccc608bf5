//! Adapters behind the ports: AWS for Lambda, embedded for local use.

mod aws_error;
pub mod dynamo;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod sdk_http;
pub mod secrets;
pub mod sns;
pub mod ssm;
pub mod voice;

use std::sync::Arc;

use crate::config::{self, ConfigError, FunctionBudget};
use crate::delivery::DeliveryReceipts;
use crate::domain::Clock;
use crate::escalate::Escalator;
use crate::ingest::Ingestor;
use crate::pager::{Pager, Reach};
use crate::platforms::reply::{PlatformReplies, ReplyCredentials, ReplyEndpoints, ReplyHttp};
use crate::ports::{
    BurstLogStore, FollowUpStore, HandOverStore, MentionRevisions, MentionStore, PublicReplies,
    ReceiptStore, ReplyLedger, RosterStore, RotaStore, SmsBudget, SmsLimits, SmsSender,
    VoiceCaller, WatchStore,
};
use crate::public_reply::PublicReplyDesk;
use crate::sms_reply::SmsReplies;
use crate::triage::ModelTriage;
use crate::watch::WatchCache;

pub use aws_config::SdkConfig;

/// The AWS configuration a Lambda function runs with: the role's
/// credentials and the region from the environment Lambda sets, honouring
/// `AWS_ENDPOINT_URL` for emulators, with SDK timeouts sized to the
/// function's budget. A function needs nothing else of the standard chain
/// (profiles, SSO, instance metadata, web identity through STS), so none of
/// it is linked into a bootstrap.
pub async fn aws_sdk_config(budget: FunctionBudget) -> SdkConfig {
    use aws_config::environment::{
        EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
    };
    use aws_config::meta::region::ProvideRegion;
    let mut config = SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                EnvironmentVariableCredentialsProvider::new(),
            ),
        )
        .identity_cache(aws_config::identity::IdentityCache::lazy().build())
        .retry_config(aws_config::retry::RetryConfig::standard())
        .timeout_config(budget.sdk_timeouts())
        .http_client(sdk_http::sdk_http_client());
    config.set_region(EnvironmentVariableRegionProvider::new().region().await);
    config.set_endpoint_url(
        std::env::var("AWS_ENDPOINT_URL")
            .ok()
            .filter(|url| !url.is_empty()),
    );
    config.build()
}

/// The AWS configuration from the standard chain (environment, profile,
/// instance role), for the command-line tool run on a workstation.
pub async fn aws_sdk_config_from_standard_chain(budget: FunctionBudget) -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(sdk_http::sdk_http_client())
        .timeout_config(budget.sdk_timeouts())
        .load()
        .await
}

/// Everything a handler needs from outside, built once per cold start:
/// the ports of ingest and paging, and in `follow_through` those only
/// escalation and staff replies call. The functions that only page
/// (webhook, poll, firehose) hold `Deps<()>`, so the code of the ports they
/// never call is not linked into them.
#[derive(Clone)]
pub struct Deps<F = FollowThrough> {
    /// Posts, their edits, and the watches they are matched against.
    pub store: Arc<dyn MentionStore>,
    pub revisions: Arc<dyn MentionRevisions>,
    pub watches: Arc<dyn WatchStore>,
    /// The watches, cached; shared by every handler built from these deps.
    pub watch_cache: Arc<WatchCache>,
    /// Who is paged, how, and how often.
    pub roster: Arc<dyn RosterStore>,
    pub rota: Arc<dyn RotaStore>,
    pub sms: Arc<dyn SmsSender>,
    pub limits: SmsLimits,
    pub budget: Arc<dyn SmsBudget>,
    pub bursts: Arc<dyn BurstLogStore>,
    pub follow_up: Arc<dyn FollowUpStore>,
    /// What only escalation and staff replies call ([`FollowThrough`]), or
    /// `()` in the functions that only page.
    pub follow_through: F,
}

/// A store that keeps all ingest and paging need: DynamoDB, and SQLite for
/// local use.
pub trait PagingStore:
    MentionStore
    + RosterStore
    + FollowUpStore
    + WatchStore
    + MentionRevisions
    + SmsBudget
    + BurstLogStore
    + RotaStore
    + Clone
    + 'static
{
}

impl PagingStore for dynamo::DynamoStore {}

#[cfg(feature = "embedded")]
impl PagingStore for embedded::EmbeddedStore {}

/// The ports that make sure a page reaches someone and is acted on,
/// beyond the SMS itself: receipts, hand-overs, voice calls and the ledger
/// of public replies.
#[derive(Clone)]
pub struct FollowThrough {
    pub receipts: Arc<dyn ReceiptStore>,
    pub handover: Arc<dyn HandOverStore>,
    /// Calls for alerts texts did not settle; `None` leaves calls off.
    pub voice: Option<Arc<dyn VoiceCaller>>,
    /// Which approved public replies went out.
    pub ledger: Arc<dyn ReplyLedger>,
}

impl FollowThrough {
    /// Every follow-through port on `store`; no voice calls.
    pub fn on_store<S>(store: S) -> Self
    where
        S: ReceiptStore + HandOverStore + ReplyLedger + Clone + 'static,
    {
        Self {
            receipts: Arc::new(store.clone()),
            handover: Arc::new(store.clone()),
            voice: None,
            ledger: Arc::new(store),
        }
    }

    /// Calls through End User Messaging from the origination identity in
    /// `EARSHOT_VOICE_ORIGINATION`; left off when it is not set. Only the
    /// functions that place calls link the voice client.
    pub fn with_voice_from_env(self, sdk: &aws_config::SdkConfig) -> Self {
        Self {
            voice: config::optional(config::VOICE_ORIGINATION_VAR).map(|origination| {
                Arc::new(voice::EndUserMessagingVoice::new(
                    aws_sdk_pinpointsmsvoicev2::Client::new(sdk),
                    origination,
                )) as Arc<dyn VoiceCaller>
            }),
            ..self
        }
    }
}

/// The reply clients at the configured base URLs with `credentials`.
pub fn public_replies(credentials: ReplyCredentials) -> Result<PlatformReplies, ConfigError> {
    let http = ReplyHttp::new().map_err(|err| ConfigError::Invalid {
        name: "reply HTTP client",
        reason: err.to_string(),
    })?;
    Ok(PlatformReplies::new(
        http,
        ReplyEndpoints::from_env(),
        credentials,
    ))
}

/// The DynamoDB store on the table `EARSHOT_TABLE` names, keeping posts for
/// `EARSHOT_RETENTION_DAYS`.
pub fn dynamo_store_from_env(sdk: &SdkConfig) -> Result<dynamo::DynamoStore, ConfigError> {
    let table = config::required(config::TABLE_VAR)?;
    let retention = config::retention()?;
    Ok(dynamo::DynamoStore::new(
        aws_sdk_dynamodb::Client::new(sdk),
        table,
        retention,
    ))
}

/// The reply clients for a Lambda function: each credential from the
/// environment or its SSM parameter, read once per cold start.
pub async fn aws_public_replies(sdk: &SdkConfig) -> Result<PlatformReplies, ConfigError> {
    public_replies(secrets::reply_credentials(sdk).await?)
}

impl Deps {
    /// Every port on `store`, which implements them all, with `sms`; the
    /// default SMS caps and no voice calls.
    pub fn on_store<S>(store: S, sms: Arc<dyn SmsSender>) -> Self
    where
        S: PagingStore + ReceiptStore + HandOverStore + ReplyLedger,
    {
        Deps::paging_on_store(store.clone(), sms)
            .with_follow_through(FollowThrough::on_store(store))
    }

    /// SQLite under `home` and the local SMS outbox, with the default SMS
    /// caps (the CLI applies the environment's).
    #[cfg(feature = "embedded")]
    pub fn embedded(
        home: &std::path::Path,
        echo_sms: bool,
        clock: Clock,
    ) -> Result<(Self, embedded::EmbeddedStore), crate::ports::StoreError> {
        let store = embedded::EmbeddedStore::open(home)?;
        let sms = Arc::new(embedded::OutboxSms::new(store.clone(), echo_sms, clock));
        Ok((Self::on_store(store.clone(), sms), store))
    }
}

impl Deps<()> {
    /// The ingest and paging ports on `store`, with `sms`; the default SMS
    /// caps.
    pub fn paging_on_store<S: PagingStore>(store: S, sms: Arc<dyn SmsSender>) -> Self {
        Self {
            store: Arc::new(store.clone()),
            revisions: Arc::new(store.clone()),
            watches: Arc::new(store.clone()),
            watch_cache: Arc::new(WatchCache::new(Arc::new(store.clone()))),
            roster: Arc::new(store.clone()),
            rota: Arc::new(store.clone()),
            sms,
            limits: SmsLimits::default(),
            budget: Arc::new(store.clone()),
            bursts: Arc::new(store.clone()),
            follow_up: Arc::new(store),
            follow_through: (),
        }
    }

    /// The ingest and paging ports on DynamoDB and SNS through `sdk`, with
    /// the SMS caps the environment sets; the table comes from
    /// `EARSHOT_TABLE`. A function that follows through adds
    /// [`FollowThrough::on_store`] on the returned store.
    pub fn aws_from_env(
        sdk: &aws_config::SdkConfig,
    ) -> Result<(Self, dynamo::DynamoStore), ConfigError> {
        let store = dynamo_store_from_env(sdk)?;
        let sms = sns::SnsSms::new(
            aws_sdk_sns::Client::new(sdk),
            config::optional(config::SMS_SENDER_ID_VAR),
            config::optional(config::SMS_ORIGINATION_VAR),
        );
        let deps = Self {
            limits: config::sms_limits()?,
            ..Self::paging_on_store(store.clone(), Arc::new(sms))
        };
        Ok((deps, store))
    }
}

impl<F> Deps<F> {
    /// These ports with `follow_through` in place of the current ones.
    pub fn with_follow_through<G>(self, follow_through: G) -> Deps<G> {
        Deps {
            store: self.store,
            revisions: self.revisions,
            watches: self.watches,
            watch_cache: self.watch_cache,
            roster: self.roster,
            rota: self.rota,
            sms: self.sms,
            limits: self.limits,
            budget: self.budget,
            bursts: self.bursts,
            follow_up: self.follow_up,
            follow_through,
        }
    }

    /// Ingest for the function with `budget`, whose claims last just past
    /// its timeout.
    pub fn ingestor(&self, clock: Clock, budget: FunctionBudget) -> Ingestor {
        Ingestor {
            store: self.store.clone(),
            triage: Arc::new(ModelTriage::shipped()),
            watches: self.watch_cache.clone(),
            pager: self.pager(clock, budget),
            clock,
        }
    }

    /// Delivery, holds, caps, incidents and follow-ups over these stores,
    /// for the function with `budget`.
    pub fn pager(&self, clock: Clock, budget: FunctionBudget) -> Pager {
        Pager {
            store: self.store.clone(),
            roster: self.roster.clone(),
            rota: self.rota.clone(),
            on_call: Default::default(),
            follow_up: self.follow_up.clone(),
            sms: self.sms.clone(),
            budget: self.budget.clone(),
            limits: self.limits,
            bursts: self.bursts.clone(),
            last_written_bursts: Default::default(),
            delivery_lease: budget.delivery_lease(),
            clock,
        }
    }
}

impl Deps {
    /// The escalation run, paced by `EARSHOT_ESCALATE_AFTER_MINUTES`.
    pub fn escalator(&self, clock: Clock) -> Result<Escalator, ConfigError> {
        let step = config::escalate_after()?;
        Ok(Escalator {
            pager: self.pager(clock, FunctionBudget::Escalate),
            reach: self.reach(),
            step,
            // Past the last tier's turn, and a few more, stop paging.
            give_up_after: step * 12,
            remind_after: config::remind_after()?,
        })
    }

    /// What makes sure a page reaches someone beyond the SMS itself.
    pub fn reach(&self) -> Reach {
        Reach {
            store: self.store.clone(),
            roster: self.roster.clone(),
            rota: self.rota.clone(),
            receipts: self.follow_through.receipts.clone(),
            handover: self.follow_through.handover.clone(),
            sms: self.sms.clone(),
            voice: self.follow_through.voice.clone(),
        }
    }

    pub fn delivery_receipts(&self) -> DeliveryReceipts {
        DeliveryReceipts::new(self.follow_through.receipts.clone())
    }

    /// The SMS replies of staff, with public replies posted through
    /// `platforms`.
    pub fn sms_replies(
        &self,
        clock: Clock,
        platforms: Arc<dyn PublicReplies>,
    ) -> Result<SmsReplies, ConfigError> {
        Ok(SmsReplies {
            reach: self.reach(),
            store: self.store.clone(),
            follow_up: self.follow_up.clone(),
            roster: self.roster.clone(),
            sms: self.sms.clone(),
            clock,
            remind_after: config::remind_after()?,
            public: PublicReplyDesk {
                store: self.store.clone(),
                follow_up: self.follow_up.clone(),
                watches: self.watches.clone(),
                ledger: self.follow_through.ledger.clone(),
                platforms,
                clock,
            },
        })
    }
}
