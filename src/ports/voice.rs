//! A phone call that reads an alert aloud, for when a text is not enough.

use async_trait::async_trait;
use thiserror::Error;

use crate::domain::PhoneNumber;

#[derive(Debug, Error)]
#[error("voice call to {phone:?} was not placed: {reason}")]
pub struct VoiceError {
    pub phone: PhoneNumber,
    /// A short code and message.
    pub reason: String,
    /// The call may have been placed after all (a timeout, a lost
    /// connection, a server error).
    pub outcome_unknown: bool,
}

#[async_trait]
pub trait VoiceCaller: Send + Sync {
    /// Places one call that reads `spoken` aloud; returns the provider's
    /// message id.
    async fn call(&self, to: &PhoneNumber, spoken: &str) -> Result<String, VoiceError>;
}
