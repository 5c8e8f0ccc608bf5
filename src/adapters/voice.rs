//! AWS End User Messaging SMS and voice (v2) behind the voice port: one
//! `SendVoiceMessage` per call, from a voice-capable origination number or
//! pool.

use async_trait::async_trait;
use aws_sdk_pinpointsmsvoicev2::Client;
use aws_sdk_pinpointsmsvoicev2::config::retry::RetryConfig;
use aws_sdk_pinpointsmsvoicev2::types::VoiceMessageBodyTextType;

use super::aws_error::AwsFailure;

use crate::domain::PhoneNumber;
use crate::ports::{VoiceCaller, VoiceError};

/// A page call that has not gone through in ten minutes is stale: the
/// escalation has moved on by then.
const CALL_TIME_TO_LIVE_SECONDS: i32 = 600;

#[derive(Clone)]
pub struct EndUserMessagingVoice {
    client: Client,
    /// The phone number, pool id or ARN calls come from.
    origination: String,
}

impl EndUserMessagingVoice {
    /// Calls through `client`'s settings, except that the SDK never retries
    /// a call: a retry after an answer was lost rings the phone twice.
    pub fn new(client: Client, origination: impl Into<String>) -> Self {
        let no_retries = client
            .config()
            .to_builder()
            .retry_config(RetryConfig::disabled());
        Self {
            client: Client::from_conf(no_retries.build()),
            origination: origination.into(),
        }
    }
}

#[async_trait]
impl VoiceCaller for EndUserMessagingVoice {
    async fn call(&self, to: &PhoneNumber, spoken: &str) -> Result<String, VoiceError> {
        let output = self
            .client
            .send_voice_message()
            .destination_phone_number(to.as_str())
            .origination_identity(&self.origination)
            .message_body(spoken)
            .message_body_text_type(VoiceMessageBodyTextType::Text)
            .time_to_live(CALL_TIME_TO_LIVE_SECONDS)
            .send()
            .await
            .map_err(|err| {
                let failure = AwsFailure::of(&err);
                VoiceError {
                    phone: to.clone(),
                    reason: failure.summary,
                    outcome_unknown: !failure.refused,
                }
            })?;
        Ok(output.message_id.unwrap_or_default())
    }
}
