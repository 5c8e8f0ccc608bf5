//! AWS End User Messaging SMS and voice (v2) behind the voice port: one
//! `SendVoiceMessage` per call, from a voice-capable origination number or
//! pool.

use async_trait::async_trait;
use aws_sdk_pinpointsmsvoicev2::Client;
use aws_sdk_pinpointsmsvoicev2::error::DisplayErrorContext;
use aws_sdk_pinpointsmsvoicev2::types::VoiceMessageBodyTextType;

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
    pub fn new(client: Client, origination: impl Into<String>) -> Self {
        Self {
            client,
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
            .map_err(|err| VoiceError {
                phone: to.clone(),
                reason: DisplayErrorContext(err).to_string(),
            })?;
        Ok(output.message_id.unwrap_or_default())
    }
}
