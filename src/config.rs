//! Settings read from the environment once per cold start.

use std::fmt;

use chrono::Duration;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// A secret string that never shows up in Debug output or logs.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The secret as text, for a header or a form field.
    pub fn expose_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where a platform's API lives: the public service, unless the variable
/// names another base URL (a fake server in tests, an own instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiBase {
    pub var: &'static str,
    pub default: &'static str,
}

impl ApiBase {
    const fn new(var: &'static str, default: &'static str) -> Self {
        Self { var, default }
    }

    pub fn url(self) -> String {
        optional(self.var).unwrap_or_else(|| self.default.to_owned())
    }
}

pub fn required(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ConfigError::Missing(name)),
    }
}

pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

pub fn required_secret(name: &'static str) -> Result<Secret, ConfigError> {
    required(name).map(Secret)
}

pub const TABLE_VAR: &str = "EARSHOT_TABLE";
pub const RETENTION_VAR: &str = "EARSHOT_RETENTION_DAYS";
pub const X_SECRET_VAR: &str = "X_CONSUMER_SECRET";
pub const SMS_SENDER_ID_VAR: &str = "EARSHOT_SMS_SENDER_ID";
pub const SMS_ORIGINATION_VAR: &str = "EARSHOT_SMS_ORIGINATION_NUMBER";
/// A voice-capable phone number, pool id or ARN to call from; voice calls
/// are off when it is unset.
pub const VOICE_ORIGINATION_VAR: &str = "EARSHOT_VOICE_ORIGINATION";
pub const ESCALATE_AFTER_VAR: &str = "EARSHOT_ESCALATE_AFTER_MINUTES";
pub const REMIND_AFTER_VAR: &str = "EARSHOT_REMIND_AFTER_HOURS";
pub const SMS_PER_PHONE_HOURLY_VAR: &str = "EARSHOT_SMS_PER_PHONE_HOURLY";
pub const SMS_DAILY_CAP_VAR: &str = "EARSHOT_SMS_DAILY_CAP";
// Polling: where each platform's API lives and the tokens it needs.
pub const X_API_BASE_URL_VAR: &str = "X_API_BASE_URL";
pub const BLUESKY_API_BASE_URL_VAR: &str = "BLUESKY_API_BASE_URL";
pub const MASTODON_BASE_URL_VAR: &str = "MASTODON_BASE_URL";
pub const REDDIT_API_BASE_URL_VAR: &str = "REDDIT_API_BASE_URL";
pub const X_BEARER_TOKEN_VAR: &str = "X_BEARER_TOKEN";
pub const MASTODON_ACCESS_TOKEN_VAR: &str = "MASTODON_ACCESS_TOKEN";
pub const META_APP_SECRET_VAR: &str = "META_APP_SECRET";
pub const META_VERIFY_TOKEN_VAR: &str = "META_VERIFY_TOKEN";
pub const META_ACCESS_TOKEN_VAR: &str = "META_ACCESS_TOKEN";
pub const META_GRAPH_BASE_URL_VAR: &str = "META_GRAPH_BASE_URL";
pub const MASTODON_WEBHOOK_SECRET_VAR: &str = "MASTODON_WEBHOOK_SECRET";
// Public replies (`REPLY <code> <n>`): each platform's token, all optional.
pub const X_REPLY_TOKEN_VAR: &str = "X_REPLY_TOKEN";
pub const BLUESKY_PDS_URL_VAR: &str = "BLUESKY_PDS_URL";
pub const BLUESKY_REPLY_HANDLE_VAR: &str = "BLUESKY_REPLY_HANDLE";
pub const BLUESKY_APP_PASSWORD_VAR: &str = "BLUESKY_APP_PASSWORD";
pub const MASTODON_REPLY_TOKEN_VAR: &str = "MASTODON_REPLY_TOKEN";
pub const META_REPLY_TOKEN_VAR: &str = "META_REPLY_TOKEN";
// The Bluesky firehose (Jetstream).
/// `on` to read Bluesky from the firehose; the poll function then skips
/// Bluesky search, which stays the fallback when it is `off` (the default).
pub const BLUESKY_FIREHOSE_VAR: &str = "EARSHOT_BLUESKY_FIREHOSE";
/// Comma-separated Jetstream `/subscribe` URLs, in the order to try them.
pub const JETSTREAM_ENDPOINTS_VAR: &str = "EARSHOT_JETSTREAM_ENDPOINTS";
pub const FIREHOSE_LAG_ALARM_VAR: &str = "EARSHOT_FIREHOSE_LAG_ALARM_MINUTES";

// Where each platform's API lives unless the environment says otherwise.
pub const X_API: ApiBase = ApiBase::new(X_API_BASE_URL_VAR, "https://api.x.com");
/// Bluesky's public AppView, which searches; posting goes to the PDS.
pub const BLUESKY_APP_VIEW: ApiBase =
    ApiBase::new(BLUESKY_API_BASE_URL_VAR, "https://public.api.bsky.app");
pub const BLUESKY_PDS: ApiBase = ApiBase::new(BLUESKY_PDS_URL_VAR, "https://bsky.social");
pub const MASTODON_API: ApiBase = ApiBase::new(MASTODON_BASE_URL_VAR, "https://mastodon.social");
pub const REDDIT_API: ApiBase = ApiBase::new(REDDIT_API_BASE_URL_VAR, "https://www.reddit.com");
pub const META_GRAPH_API: ApiBase =
    ApiBase::new(META_GRAPH_BASE_URL_VAR, "https://graph.facebook.com/v21.0");

/// Secrets may be given directly (local use) or, on Lambda, as the name of
/// an SSM SecureString parameter in `<NAME>_PARAM`, read once at cold start.
pub const SECRET_PARAM_SUFFIX: &str = "_PARAM";

/// Where mentions are stored, read by every function.
const STORE_SETTINGS: &[&str] = &[TABLE_VAR, RETENTION_VAR];
/// How an SMS is sent, read by every function that sends one.
const SMS_SETTINGS: &[&str] = &[SMS_SENDER_ID_VAR, SMS_ORIGINATION_VAR];
/// The SMS caps, read by every function that pages.
const SMS_CAP_SETTINGS: &[&str] = &[SMS_PER_PHONE_HOURLY_VAR, SMS_DAILY_CAP_VAR];

/// What each Lambda function reads from its environment. Secrets are listed
/// by their plain name; the deployed form is `<NAME>_PARAM`. The deployment
/// template is checked against this list.
pub const FUNCTION_ENVIRONMENT: &[FunctionEnvironment] = &[
    FunctionEnvironment {
        function: "webhook",
        settings: &[
            STORE_SETTINGS,
            SMS_SETTINGS,
            SMS_CAP_SETTINGS,
            &[META_GRAPH_BASE_URL_VAR],
        ],
        secrets: &[
            X_SECRET_VAR,
            META_APP_SECRET_VAR,
            META_VERIFY_TOKEN_VAR,
            META_ACCESS_TOKEN_VAR,
            MASTODON_WEBHOOK_SECRET_VAR,
        ],
    },
    FunctionEnvironment {
        function: "poll",
        settings: &[
            STORE_SETTINGS,
            SMS_SETTINGS,
            SMS_CAP_SETTINGS,
            &[
                X_API_BASE_URL_VAR,
                BLUESKY_API_BASE_URL_VAR,
                MASTODON_BASE_URL_VAR,
                REDDIT_API_BASE_URL_VAR,
                BLUESKY_FIREHOSE_VAR,
            ],
        ],
        secrets: &[X_BEARER_TOKEN_VAR, MASTODON_ACCESS_TOKEN_VAR],
    },
    FunctionEnvironment {
        function: "firehose",
        settings: &[
            STORE_SETTINGS,
            SMS_SETTINGS,
            SMS_CAP_SETTINGS,
            &[
                BLUESKY_FIREHOSE_VAR,
                JETSTREAM_ENDPOINTS_VAR,
                FIREHOSE_LAG_ALARM_VAR,
            ],
        ],
        secrets: &[],
    },
    FunctionEnvironment {
        function: "sms-reply",
        settings: &[
            STORE_SETTINGS,
            SMS_SETTINGS,
            &[
                REMIND_AFTER_VAR,
                X_API_BASE_URL_VAR,
                BLUESKY_PDS_URL_VAR,
                BLUESKY_REPLY_HANDLE_VAR,
                MASTODON_BASE_URL_VAR,
                META_GRAPH_BASE_URL_VAR,
            ],
        ],
        secrets: &[
            X_REPLY_TOKEN_VAR,
            BLUESKY_APP_PASSWORD_VAR,
            MASTODON_REPLY_TOKEN_VAR,
            META_REPLY_TOKEN_VAR,
        ],
    },
    FunctionEnvironment {
        function: "escalate",
        settings: &[
            STORE_SETTINGS,
            SMS_SETTINGS,
            SMS_CAP_SETTINGS,
            &[ESCALATE_AFTER_VAR, REMIND_AFTER_VAR, VOICE_ORIGINATION_VAR],
        ],
        secrets: &[],
    },
    FunctionEnvironment {
        function: "delivery",
        settings: &[STORE_SETTINGS],
        secrets: &[],
    },
];

pub struct FunctionEnvironment {
    /// The folder under `functions/`.
    pub function: &'static str,
    /// Groups of plain settings; see [`FunctionEnvironment::settings`].
    pub settings: &'static [&'static [&'static str]],
    pub secrets: &'static [&'static str],
}

impl FunctionEnvironment {
    /// Every plain setting the function reads.
    pub fn settings(&self) -> impl Iterator<Item = &'static str> {
        self.settings.iter().flat_map(|group| group.iter().copied())
    }
}

/// How long mentions are kept before DynamoDB's TTL removes them.
pub const DEFAULT_RETENTION_DAYS: i64 = 400;

pub fn retention() -> Result<Duration, ConfigError> {
    duration(RETENTION_VAR, DEFAULT_RETENTION_DAYS, 3650, TimeUnit::Days)
}

/// Minutes an urgent alert may wait for an ACK before the next tier is paged.
pub const DEFAULT_ESCALATE_AFTER_MINUTES: i64 = 5;

pub fn escalate_after() -> Result<Duration, ConfigError> {
    duration(
        ESCALATE_AFTER_VAR,
        DEFAULT_ESCALATE_AFTER_MINUTES,
        1440,
        TimeUnit::Minutes,
    )
}

/// Hours an acknowledged alert may stay open before its owner is reminded.
pub const DEFAULT_REMIND_AFTER_HOURS: i64 = 4;

pub fn remind_after() -> Result<Duration, ConfigError> {
    duration(
        REMIND_AFTER_VAR,
        DEFAULT_REMIND_AFTER_HOURS,
        72,
        TimeUnit::Hours,
    )
}

/// SMS to one phone in one clock hour, by default: enough for a busy hour,
/// few enough that a flood cannot bury someone's phone.
pub const DEFAULT_SMS_PER_PHONE_HOURLY: u32 = 10;
/// SMS from the whole deployment in one UTC day, by default.
pub const DEFAULT_SMS_DAILY_CAP: u32 = 200;

/// The SMS caps, from `EARSHOT_SMS_PER_PHONE_HOURLY` and
/// `EARSHOT_SMS_DAILY_CAP`.
pub fn sms_limits() -> Result<crate::ports::SmsLimits, ConfigError> {
    // Either cap may be set far above any real volume, never to zero.
    let cap = |name, default| bounded(name, optional(name), default, 1..=100_000, "SMS");
    Ok(crate::ports::SmsLimits {
        per_phone_hourly: cap(SMS_PER_PHONE_HOURLY_VAR, DEFAULT_SMS_PER_PHONE_HOURLY)?,
        daily: cap(SMS_DAILY_CAP_VAR, DEFAULT_SMS_DAILY_CAP)?,
    })
}

/// Minutes the firehose cursor may lag real time before the source-health
/// alarm goes up.
pub const DEFAULT_FIREHOSE_LAG_ALARM_MINUTES: i64 = 10;

pub fn firehose_lag_alarm() -> Result<Duration, ConfigError> {
    duration(
        FIREHOSE_LAG_ALARM_VAR,
        DEFAULT_FIREHOSE_LAG_ALARM_MINUTES,
        1440,
        TimeUnit::Minutes,
    )
}

/// Whether Bluesky is read from the firehose (`on`) or searched (`off`,
/// the default).
pub fn bluesky_firehose_on() -> Result<bool, ConfigError> {
    parse_switch(BLUESKY_FIREHOSE_VAR, optional(BLUESKY_FIREHOSE_VAR))
}

fn parse_switch(name: &'static str, raw: Option<String>) -> Result<bool, ConfigError> {
    match raw
        .as_deref()
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("off" | "false" | "0") => Ok(false),
        Some("on" | "true" | "1") => Ok(true),
        Some(other) => Err(ConfigError::Invalid {
            name,
            reason: format!("{other:?} is not on or off"),
        }),
    }
}

/// The Jetstream endpoints, if the environment names any; each must be a
/// `ws://` or `wss://` URL.
pub fn jetstream_endpoints() -> Result<Option<Vec<String>>, ConfigError> {
    parse_endpoints(JETSTREAM_ENDPOINTS_VAR, optional(JETSTREAM_ENDPOINTS_VAR))
}

fn parse_endpoints(
    name: &'static str,
    raw: Option<String>,
) -> Result<Option<Vec<String>>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let endpoints: Vec<String> = raw
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(bad) = endpoints
        .iter()
        .find(|e| !(e.starts_with("wss://") || e.starts_with("ws://")))
    {
        return Err(ConfigError::Invalid {
            name,
            reason: format!("{bad:?} is not a ws:// or wss:// URL"),
        });
    }
    Ok((!endpoints.is_empty()).then_some(endpoints))
}

/// The unit a length of time is given in, named in the error that refuses it.
#[derive(Debug, Clone, Copy)]
enum TimeUnit {
    Minutes,
    Hours,
    Days,
}

impl TimeUnit {
    fn name(self) -> &'static str {
        match self {
            Self::Minutes => "minutes",
            Self::Hours => "hours",
            Self::Days => "days",
        }
    }

    fn of(self, count: i64) -> Duration {
        match self {
            Self::Minutes => Duration::minutes(count),
            Self::Hours => Duration::hours(count),
            Self::Days => Duration::days(count),
        }
    }
}

/// A length of time from the environment: a whole number of `unit`s from
/// 1 to `most`, or `default` when unset.
fn duration(
    name: &'static str,
    default: i64,
    most: i64,
    unit: TimeUnit,
) -> Result<Duration, ConfigError> {
    bounded(name, optional(name), default, 1..=most, unit.name()).map(|count| unit.of(count))
}

/// A number from the environment (`raw`, read from `name`) within `range`,
/// or `default` when unset; anything else names the variable and the range.
fn bounded<T>(
    name: &'static str,
    raw: Option<String>,
    default: T,
    range: std::ops::RangeInclusive<T>,
    unit: &str,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + fmt::Display,
{
    let Some(raw) = raw else {
        return Ok(default);
    };
    match raw.trim().parse::<T>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(ConfigError::Invalid {
            name,
            reason: format!(
                "{raw:?} is not a number of {unit} from {} to {}",
                range.start(),
                range.end()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_firehose_switch_and_endpoints_are_read_or_refused_by_name() {
        let switch = |raw: Option<&str>| parse_switch(BLUESKY_FIREHOSE_VAR, raw.map(str::to_owned));
        assert!(!switch(None).unwrap());
        assert!(switch(Some(" ON ")).unwrap());
        assert!(!switch(Some("off")).unwrap());
        assert!(switch(Some("maybe")).is_err());
        let endpoints = |raw: &str| parse_endpoints(JETSTREAM_ENDPOINTS_VAR, Some(raw.to_owned()));
        assert_eq!(
            endpoints("wss://a/subscribe, ws://127.0.0.1:9/subscribe").unwrap(),
            Some(vec![
                "wss://a/subscribe".to_owned(),
                "ws://127.0.0.1:9/subscribe".to_owned()
            ])
        );
        assert!(endpoints("https://a/subscribe").is_err());
        assert_eq!(endpoints(" , ").unwrap(), None);
    }

    #[test]
    fn numbers_are_read_within_their_range_or_refused_by_name() {
        let read = |raw: Option<&str>| {
            bounded(REMIND_AFTER_VAR, raw.map(str::to_owned), 4, 1..=72, "hours")
        };
        assert_eq!(read(None).unwrap(), 4);
        assert_eq!(read(Some(" 12 ")).unwrap(), 12);
        for bad in ["0", "73", "four", "1.5", ""] {
            let Err(ConfigError::Invalid { name, reason }) = read(Some(bad)) else {
                panic!("{bad:?} was accepted");
            };
            assert_eq!(name, REMIND_AFTER_VAR);
            assert!(reason.contains("from 1 to 72"), "{reason}");
        }
    }
}

/// How long each function may run: its Lambda timeout in
/// infra/template.yaml. A delivery claim outlives the function that took
/// it by [`LEASE_MARGIN`], and its SDK calls end well before the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionBudget {
    Webhook,
    Poll,
    SmsReply,
    Escalate,
    Firehose,
    Delivery,
}

/// A claim lasts this much longer than the function that took it.
pub const LEASE_MARGIN: Duration = Duration::seconds(5);

impl FunctionBudget {
    pub fn timeout(self) -> Duration {
        Duration::seconds(match self {
            FunctionBudget::Webhook => 10,
            // Posting a public reply waits on a platform's API.
            FunctionBudget::SmsReply | FunctionBudget::Delivery => 30,
            FunctionBudget::Poll => 50,
            FunctionBudget::Escalate | FunctionBudget::Firehose => 60,
        })
    }

    /// How long a delivery claim taken by this function holds.
    pub fn delivery_lease(self) -> Duration {
        self.timeout() + LEASE_MARGIN
    }

    /// SDK timeouts for this function: an attempt that hangs is cut after
    /// two seconds (so the SDK's retries still fit), and one operation with
    /// its retries may take a quarter of the budget, leaving time to
    /// release a claim and answer.
    pub fn sdk_timeouts(self) -> aws_config::timeout::TimeoutConfig {
        let budget = self.timeout().to_std().unwrap_or_default();
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(std::time::Duration::from_secs(1))
            .operation_attempt_timeout(std::time::Duration::from_secs(2))
            .operation_timeout(budget / 4)
            .build()
    }
}
