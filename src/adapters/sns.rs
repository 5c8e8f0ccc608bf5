//! Amazon SNS behind the SMS port: one direct Publish per phone.

use async_trait::async_trait;
use aws_sdk_sns::Client;
use aws_sdk_sns::config::retry::RetryConfig;
use aws_sdk_sns::types::MessageAttributeValue;
use tracing::warn;

use super::aws_error::AwsFailure;

use crate::domain::PhoneNumber;
use crate::ports::{SmsError, SmsSender};
use crate::sms::SmsText;

#[derive(Clone)]
pub struct SnsSms {
    client: Client,
    /// An alphanumeric sender id, where the destination country allows one.
    sender_id: Option<String>,
    /// The number replies come back to, for two-way SMS.
    origination_number: Option<String>,
}

fn string_attribute(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("data_type is set")
}

impl SnsSms {
    /// Publishes through `client`'s settings, except that the SDK never
    /// retries a Publish: a retry after an answer was lost is a second SMS.
    pub fn new(
        client: Client,
        sender_id: Option<String>,
        origination_number: Option<String>,
    ) -> Self {
        let once = client
            .config()
            .to_builder()
            .retry_config(RetryConfig::standard().with_max_attempts(1))
            .build();
        Self {
            client: Client::from_conf(once),
            sender_id,
            origination_number,
        }
    }
}

#[async_trait]
impl SmsSender for SnsSms {
    async fn send(&self, to: &PhoneNumber, body: &SmsText) -> Result<String, SmsError> {
        // Transactional: carriers deliver it promptly and at any hour, which
        // is the point of a page.
        let mut publish = self
            .client
            .publish()
            .phone_number(to.as_str())
            .message(body.as_str())
            .message_attributes("AWS.SNS.SMS.SMSType", string_attribute("Transactional"));
        if let Some(sender_id) = &self.sender_id {
            publish =
                publish.message_attributes("AWS.SNS.SMS.SenderID", string_attribute(sender_id));
        }
        if let Some(number) = &self.origination_number {
            publish = publish
                .message_attributes("AWS.MM.SMS.OriginationNumber", string_attribute(number));
        }
        let output = publish.send().await.map_err(|err| {
            let failure = AwsFailure::of(&err);
            if !failure.refused {
                warn!(phone = %to.masked(), reason = %failure.summary, "SMS outcome unknown: SNS may have accepted it");
            }
            SmsError {
                phone: to.clone(),
                reason: failure.summary,
                outcome_unknown: !failure.refused,
            }
        })?;
        Ok(output.message_id.unwrap_or_default())
    }
}
