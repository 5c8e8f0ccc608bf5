//! What an AWS SDK error means for Earshot, in a few words: a short code
//! and message for logs and stored reasons (never the SDK's full dump), and
//! whether the call may have taken effect or may succeed if tried again.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// Longest message kept from a service's error answer.
const MESSAGE_LIMIT: usize = 160;

/// Error codes that mean "too many calls, try again later".
const THROTTLING_CODES: [&str; 5] = [
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ThrottledException",
];

/// Whether an AWS error code means "too many calls, try again later".
pub(crate) fn is_throttling(code: &str) -> bool {
    THROTTLING_CODES.contains(&code)
}

/// One SDK error, read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsFailure {
    /// `ValidationException: One or more parameter values were invalid`,
    /// or `timeout`, `connection lost`...
    pub summary: String,
    /// The service answered that it refused the call (a 4xx other than
    /// throttling): it did not happen, and the same call will fail again.
    pub refused: bool,
}

impl AwsFailure {
    pub fn of<E>(err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match err {
            SdkError::ServiceError(service) => {
                let code = service.err().code().unwrap_or("UnknownError");
                let status = service.raw().status().as_u16();
                let message: String = service
                    .err()
                    .message()
                    .unwrap_or_default()
                    .chars()
                    .take(MESSAGE_LIMIT)
                    .collect();
                Self {
                    summary: if message.is_empty() {
                        format!("{code} (HTTP {status})")
                    } else {
                        format!("{code}: {message}")
                    },
                    refused: (400..500).contains(&status) && !is_throttling(code),
                }
            }
            SdkError::TimeoutError(_) => Self::unanswered("timeout"),
            SdkError::DispatchFailure(failure) if failure.is_timeout() => {
                Self::unanswered("timeout")
            }
            SdkError::DispatchFailure(failure) if failure.is_io() => {
                Self::unanswered("connection lost")
            }
            SdkError::DispatchFailure(_) => Self::unanswered("dispatch failure"),
            SdkError::ResponseError(_) => Self::unanswered("unreadable answer"),
            SdkError::ConstructionFailure(_) => Self {
                summary: "request could not be built".into(),
                refused: true,
            },
            _ => Self::unanswered("unknown SDK error"),
        }
    }

    fn unanswered(summary: &str) -> Self {
        Self {
            summary: summary.into(),
            refused: false,
        }
    }
}
