//! SSM GetParameters, the one SSM call Earshot makes (once per cold start,
//! for a function's secrets): SigV4-signed with the signer the SDK itself
//! uses and sent on the process's reqwest client. The generated SSM client
//! cost about 0.7 MiB in every bootstrap that reads secrets, for this one
//! call.
//!
//! The call is a read, so retrying it is always safe: throttling, 5xx
//! answers and lost connections are tried again, up to the SDK
//! configuration's attempt limit, with jittered exponential backoff.

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4::SigningParams;
use aws_smithy_runtime_api::client::identity::Identity;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::aws_error::is_throttling;
use crate::https;

/// The JSON protocol version of the SSM API.
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const GET_PARAMETERS_TARGET: &str = "AmazonSSM.GetParameters";
/// The most names one GetParameters call takes.
const GET_PARAMETERS_LIMIT: usize = 10;
/// SigV4's name for the service.
const SIGNING_NAME: &str = "ssm";
/// First backoff; doubled each retry, then jittered.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest service message kept in an error.
const MESSAGE_LIMIT: usize = 160;

/// A GetParameters call that did not give an answer.
#[derive(Debug, Error)]
pub enum SsmError {
    #[error("no AWS region is configured")]
    NoRegion,
    #[error("no AWS credentials: {0}")]
    Credentials(String),
    #[error("cannot build the SSM request: {0}")]
    Request(String),
    #[error("cannot set up HTTPS for SSM: {0}")]
    Setup(String),
    #[error("SSM could not be reached: {0}")]
    Unreachable(String),
    #[error("SSM did not answer within {0:?}, retries included")]
    TimedOut(Duration),
    #[error("SSM answered {status}: {code}: {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("SSM's answer could not be read: {0}")]
    Unreadable(String),
}

impl SsmError {
    /// Whether the same call may succeed if tried again.
    fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Refused { status, code, .. } => {
                *status >= 500 || *status == 429 || is_throttling(code)
            }
            _ => false,
        }
    }
}

/// One parameter of an answer. Its `Debug` leaves the value out: it is a
/// secret.
#[derive(Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    pub name: String,
    #[serde(default)]
    pub value: String,
    #[serde(rename = "ARN", default)]
    pub arn: Option<String>,
    /// The version or label asked for (`:3`), when one was.
    #[serde(default)]
    pub selector: Option<String>,
}

impl std::fmt::Debug for Parameter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parameter")
            .field("name", &self.name)
            .field("arn", &self.arn)
            .field("selector", &self.selector)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetParametersInput<'a> {
    names: &'a [String],
    with_decryption: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetParametersOutput {
    #[serde(default)]
    parameters: Vec<Parameter>,
}

/// The JSON protocol's error body.
#[derive(Deserialize)]
struct ErrorBody {
    #[serde(rename = "__type", default)]
    kind: String,
    #[serde(alias = "Message", default)]
    message: String,
}

/// SSM's parameter store, reached with the credentials, region, endpoint,
/// timeouts and attempt limit of an SDK configuration.
pub struct ParameterStore {
    http: reqwest::Client,
    endpoint: String,
    region: String,
    credentials: SharedCredentialsProvider,
    max_attempts: u32,
    /// For the whole call, retries included.
    operation_timeout: Option<Duration>,
}

impl ParameterStore {
    pub fn new(sdk: &SdkConfig) -> Result<Self, SsmError> {
        let region = sdk.region().ok_or(SsmError::NoRegion)?.to_string();
        let credentials = sdk
            .credentials_provider()
            .ok_or_else(|| SsmError::Credentials("no credentials provider".into()))?;
        let endpoint = match sdk.endpoint_url() {
            Some(url) => url.to_owned(),
            None => regional_endpoint(&region, sdk.use_fips().unwrap_or(false)),
        };
        let timeouts = sdk.timeout_config();
        let mut builder =
            https::client_builder().map_err(|err| SsmError::Setup(err.to_string()))?;
        if let Some(connect) = timeouts.and_then(|t| t.connect_timeout()) {
            builder = builder.connect_timeout(connect);
        }
        if let Some(attempt) = timeouts.and_then(|t| t.operation_attempt_timeout()) {
            builder = builder.timeout(attempt);
        }
        let http = builder
            .build()
            .map_err(|err| SsmError::Setup(err.to_string()))?;
        let max_attempts = sdk.retry_config().map_or(3, |retry| retry.max_attempts());
        let operation_timeout = timeouts.and_then(|t| t.operation_timeout());
        Ok(Self {
            http,
            endpoint,
            region,
            credentials,
            max_attempts: max_attempts.max(1),
            operation_timeout,
        })
    }

    /// The parameters `names`, decrypted, in as few calls as the API
    /// allows (ten names a call). Names SSM does not know are simply absent
    /// from the answer.
    pub async fn get_parameters(&self, names: &[String]) -> Result<Vec<Parameter>, SsmError> {
        let mut answered = Vec::new();
        for batch in names.chunks(GET_PARAMETERS_LIMIT) {
            answered.extend(self.get_batch(batch).await?);
        }
        Ok(answered)
    }

    /// One GetParameters call, bounded by the operation timeout.
    async fn get_batch(&self, names: &[String]) -> Result<Vec<Parameter>, SsmError> {
        match self.operation_timeout {
            Some(limit) => tokio::time::timeout(limit, self.get_with_retries(names))
                .await
                .unwrap_or(Err(SsmError::TimedOut(limit))),
            None => self.get_with_retries(names).await,
        }
    }

    async fn get_with_retries(&self, names: &[String]) -> Result<Vec<Parameter>, SsmError> {
        let body = serde_json::to_vec(&GetParametersInput {
            names,
            with_decryption: true,
        })
        .map_err(|err| SsmError::Request(err.to_string()))?;
        let mut attempt = 1;
        loop {
            match self.attempt(&body).await {
                Err(err) if err.is_transient() && attempt < self.max_attempts => {
                    tracing::warn!(attempt, error = %err, "SSM GetParameters failed; trying again");
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    async fn attempt(&self, body: &[u8]) -> Result<Vec<Parameter>, SsmError> {
        let headers = self.signed_headers(body).await?;
        let mut request = self.http.post(&self.endpoint).body(body.to_vec());
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(transport_error)?;
        if !(200..300).contains(&status) {
            return Err(refusal(status, &bytes));
        }
        serde_json::from_slice::<GetParametersOutput>(&bytes)
            .map(|output| output.parameters)
            .map_err(|err| SsmError::Unreadable(err.to_string()))
    }

    /// Every header the request carries, the SigV4 ones included. Signed
    /// anew for each attempt, since a signature is only good for minutes.
    async fn signed_headers(&self, body: &[u8]) -> Result<Vec<(String, String)>, SsmError> {
        let credentials = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|err| SsmError::Credentials(err.to_string()))?;
        let identity = Identity::from(credentials);
        let mut headers = vec![
            ("content-type".to_owned(), CONTENT_TYPE.to_owned()),
            ("x-amz-target".to_owned(), GET_PARAMETERS_TARGET.to_owned()),
        ];
        let params = SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(SIGNING_NAME)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|err| SsmError::Request(err.to_string()))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            &self.endpoint,
            headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str())),
            SignableBody::Bytes(body),
        )
        .map_err(|err| SsmError::Request(err.to_string()))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|err| SsmError::Request(err.to_string()))?
            .into_parts();
        headers.extend(
            instructions
                .headers()
                .map(|(name, value)| (name.to_owned(), value.to_owned())),
        );
        Ok(headers)
    }
}

/// A request that could not be built is Earshot's fault and final; any
/// other failure to exchange it (connect, timeout, a connection closed
/// mid-answer) is worth another attempt. The message names every cause,
/// not the URL.
fn transport_error(err: reqwest::Error) -> SsmError {
    let builder = err.is_builder();
    let err = err.without_url();
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    if builder {
        SsmError::Request(message)
    } else {
        SsmError::Unreachable(message)
    }
}

/// SSM's public endpoint in `region`.
fn regional_endpoint(region: &str, fips: bool) -> String {
    let host = if fips { "ssm-fips" } else { "ssm" };
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("https://{host}.{region}.{domain}")
}

/// The error a non-2xx answer stands for: its code without the namespace
/// (`com.amazonaws.ssm#ThrottlingException`), and a bounded message.
fn refusal(status: u16, body: &[u8]) -> SsmError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or(ErrorBody {
        kind: String::new(),
        message: String::new(),
    });
    let code = parsed.kind.rsplit('#').next().unwrap_or_default();
    SsmError::Refused {
        status,
        code: if code.is_empty() {
            "UnknownError".to_owned()
        } else {
            code.to_owned()
        },
        message: parsed.message.chars().take(MESSAGE_LIMIT).collect(),
    }
}

/// The wait before try `attempt + 1`: 100 ms doubled per retry, jittered
/// to between half and all of it, so that cold starts throttled together
/// do not retry together.
fn backoff(attempt: u32) -> Duration {
    let full = FIRST_BACKOFF * 2u32.saturating_pow(attempt.saturating_sub(1).min(6));
    full.mul_f64(0.5 + fastrand::f64() / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_the_region_and_fips() {
        assert_eq!(
            regional_endpoint("eu-west-1", false),
            "https://ssm.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            regional_endpoint("us-east-1", true),
            "https://ssm-fips.us-east-1.amazonaws.com"
        );
        assert_eq!(
            regional_endpoint("cn-north-1", false),
            "https://ssm.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn a_refusal_keeps_the_code_without_its_namespace() {
        let err = refusal(
            400,
            br#"{"__type":"com.amazonaws.ssm#ThrottlingException","message":"Rate exceeded"}"#,
        );
        assert!(err.is_transient());
        assert_eq!(
            err.to_string(),
            "SSM answered 400: ThrottlingException: Rate exceeded"
        );
    }

    #[test]
    fn only_throttling_5xx_and_lost_connections_are_tried_again() {
        let denied = refusal(
            400,
            br#"{"__type":"AccessDeniedException","Message":"not allowed"}"#,
        );
        assert!(!denied.is_transient());
        assert_eq!(
            denied.to_string(),
            "SSM answered 400: AccessDeniedException: not allowed"
        );
        assert!(refusal(503, b"<html>busy</html>").is_transient());
        assert!(SsmError::Unreachable("reset".into()).is_transient());
        assert!(!SsmError::Unreadable("eof".into()).is_transient());
    }

    #[test]
    fn a_parameter_never_shows_its_value_in_debug_output() {
        let answer: GetParametersOutput = serde_json::from_str(
            r#"{"Parameters":[{"Name":"/earshot/x","Type":"SecureString","Value":"hunter2","Version":1,"ARN":"arn:aws:ssm:eu-west-1:123456789012:parameter/earshot/x"}],"InvalidParameters":[]}"#,
        )
        .unwrap();
        let parameter = &answer.parameters[0];
        assert_eq!(parameter.value, "hunter2");
        let shown = format!("{parameter:?}");
        assert!(
            shown.contains("/earshot/x") && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_unreachable_and_names_its_cause() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let sdk = SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("eu-west-1"))
            .credentials_provider(SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new("id", "secret", None, None, "test"),
            ))
            .endpoint_url(endpoint)
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
            .build();
        let ssm = ParameterStore::new(&sdk).unwrap();
        match ssm.get_parameters(&["/earshot/x".to_owned()]).await {
            Err(err @ SsmError::Unreachable(_)) => {
                assert!(err.is_transient());
                let shown = err.to_string();
                assert!(shown.to_lowercase().contains("connect"), "{shown}");
                assert!(!shown.contains("127.0.0.1"), "no URL: {shown}");
            }
            other => panic!("expected an unreachable SSM, got {other:?}"),
        }
    }

    #[test]
    fn backoff_doubles_and_stays_within_its_jitter() {
        for attempt in 1..=4 {
            let full = FIRST_BACKOFF * 2u32.pow(attempt - 1);
            let wait = backoff(attempt);
            assert!(wait >= full / 2 && wait <= full, "{attempt}: {wait:?}");
        }
    }
}
