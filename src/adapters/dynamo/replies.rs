//! Public replies on DynamoDB.
//!
//! | item                         | pk             | sk          |
//! |------------------------------|----------------|-------------|
//! | one template's reply to a post | `MENTION#<id>` | `REPLY#<n>` |
//!
//! The claim is one conditional UpdateItem: it succeeds only when the item
//! is absent, failed, or a lapsed claim, so two deliveries of the same
//! `REPLY` cannot both post.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::{DynamoStore, corrupt, is_condition_failure, mention_pk, s, unavailable};
use crate::domain::MentionId;
use crate::ports::{PostedReply, ReplyClaim, ReplyLedger, ReplyOutcome, StoreError};

fn reply_sk(template: u32) -> String {
    format!("REPLY#{template}")
}

#[async_trait]
impl ReplyLedger for DynamoStore {
    async fn claim_reply(
        &self,
        mention: &MentionId,
        template: u32,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<ReplyClaim, StoreError> {
        let number = |at: DateTime<Utc>| AttributeValue::N(at.timestamp().to_string());
        let update = self.update_at(mention_pk(mention), reply_sk(template))
            .update_expression("SET #status = :posting, lease_until = :lease, expires_at = :expires")
            .condition_expression(
                "attribute_not_exists(pk) OR #status = :failed OR (#status = :posting AND lease_until < :now)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":posting", s("posting"))
            .expression_attribute_values(":failed", s("failed"))
            .expression_attribute_values(":lease", number(lease_until))
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(":expires", number(now + self.retention))
            .send()
            .await;
        match update {
            Ok(_) => Ok(ReplyClaim::Granted),
            Err(err) if is_condition_failure(&err) => {
                let Some(item) = self
                    .get_item(mention_pk(mention), &reply_sk(template))
                    .await?
                else {
                    return Ok(ReplyClaim::InFlight);
                };
                let posted = item.get("status").and_then(|v| v.as_s().ok());
                if posted.map(String::as_str) != Some("posted") {
                    return Ok(ReplyClaim::InFlight);
                }
                let reply = item
                    .get("reply")
                    .cloned()
                    .ok_or_else(|| corrupt("a posted reply without its details"))?;
                let reply: PostedReply =
                    serde_dynamo::from_attribute_value(reply).map_err(corrupt)?;
                Ok(ReplyClaim::Posted(reply))
            }
            Err(err) => Err(unavailable(err)),
        }
    }

    async fn record_reply(
        &self,
        mention: &MentionId,
        template: u32,
        outcome: &ReplyOutcome,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (status, detail_name, detail) = match outcome {
            ReplyOutcome::Posted(reply) => (
                "posted",
                "reply",
                serde_dynamo::to_attribute_value(reply).map_err(corrupt)?,
            ),
            ReplyOutcome::Failed { reason } => ("failed", "error", s(reason)),
        };
        self.update_at(mention_pk(mention), reply_sk(template))
            .update_expression("SET #status = :status, #detail = :detail, updated_at = :at")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#detail", detail_name)
            .expression_attribute_values(":status", s(status))
            .expression_attribute_values(":detail", detail)
            .expression_attribute_values(":at", s(at.to_rfc3339()))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
