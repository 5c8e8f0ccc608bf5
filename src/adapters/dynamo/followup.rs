//! Staff replies on DynamoDB. Each promise is one conditional write:
//!
//! | item                  | pk               | sk              |
//! |-----------------------|------------------|-----------------|
//! | who took an alert     | `MENTION#<id>`   | `OWNER`         |
//! | who closed it         | `MENTION#<id>`   | `DONE`          |
//! | a false-alarm verdict | `MENTION#<id>`   | `NOISE#<phone>` |
//! | last alert to a phone | `PHONE#<phone>`  | `LATEST`        |
//! | an inbound SMS seen   | `INBOUND#<id>`   | `INBOUND`       |

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};

use super::{
    DynamoStore, ROSTER_PK, TTL_ATTRIBUTE, corrupt, is_condition_failure, mention_pk, s,
    unavailable, written,
};
use crate::domain::{AlertCode, MentionId, PhoneNumber};
use crate::ports::{Acknowledged, FollowUpStore, Ownership, StoreError};

/// SNS redelivers within minutes; a week is ample to recognise a repeat.
const INBOUND_MEMORY: Duration = Duration::days(7);

/// The phone's latest alert: a bare ACK from it means this code.
pub(super) fn latest_alert_item(
    phone: &PhoneNumber,
    code: &AlertCode,
) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), s(format!("PHONE#{phone}"))),
        ("sk".to_owned(), s("LATEST")),
        ("code".to_owned(), s(code.as_str())),
    ])
}

impl DynamoStore {
    fn expiry(&self, at: DateTime<Utc>) -> AttributeValue {
        AttributeValue::N((at + self.retention).timestamp().to_string())
    }

    /// Writes `owner` at (pk, sk) unless the item exists; returns the stored
    /// owner when it did.
    async fn claim_follow_up(
        &self,
        pk: String,
        sk: &str,
        owner: &Ownership,
    ) -> Result<Option<Ownership>, StoreError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&pk))
            .item("sk", s(sk))
            .item(
                "owner",
                serde_dynamo::to_attribute_value(owner).map_err(corrupt)?,
            )
            .item(TTL_ATTRIBUTE, self.expiry(owner.at))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(None),
            Err(err) if is_condition_failure(&err) => self.read_owner(pk, sk).await,
            Err(err) => Err(unavailable(err)),
        }
    }

    async fn read_owner(&self, pk: String, sk: &str) -> Result<Option<Ownership>, StoreError> {
        let Some(item) = self.get_item(pk, sk).await? else {
            return Ok(None);
        };
        let owner = item
            .get("owner")
            .cloned()
            .ok_or_else(|| corrupt("follow-up item without an owner"))?;
        serde_dynamo::from_attribute_value(owner)
            .map(Some)
            .map_err(corrupt)
    }
}

#[async_trait]
impl FollowUpStore for DynamoStore {
    async fn mention_for_code(&self, code: &AlertCode) -> Result<Option<MentionId>, StoreError> {
        let Some(item) = self.get_item(format!("CODE#{code}"), "CODE").await? else {
            return Ok(None);
        };
        let id = item
            .get("mention_id")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| corrupt("code item without a mention"))?;
        MentionId::parse(id)
            .map(Some)
            .ok_or_else(|| corrupt(format!("bad mention id {id}")))
    }

    async fn set_latest_alert(
        &self,
        phone: &PhoneNumber,
        code: &AlertCode,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(latest_alert_item(phone, code)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn latest_alert(&self, phone: &PhoneNumber) -> Result<Option<AlertCode>, StoreError> {
        let item = self.get_item(format!("PHONE#{phone}"), "LATEST").await?;
        Ok(item
            .as_ref()
            .and_then(|i| i.get("code"))
            .and_then(|v| v.as_s().ok())
            .and_then(|c| AlertCode::parse(c)))
    }

    async fn first_sight_of_inbound(
        &self,
        message_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        written(
            self.client
                .put_item()
                .table_name(&self.table)
                .item("pk", s(format!("INBOUND#{message_id}")))
                .item("sk", s("INBOUND"))
                .item(
                    TTL_ATTRIBUTE,
                    AttributeValue::N((at + INBOUND_MEMORY).timestamp().to_string()),
                )
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await,
        )
    }

    async fn acknowledge(
        &self,
        mention: &MentionId,
        owner: &Ownership,
    ) -> Result<Acknowledged, StoreError> {
        Ok(
            match self
                .claim_follow_up(mention_pk(mention), "OWNER", owner)
                .await?
            {
                None => Acknowledged::Won,
                Some(existing) => Acknowledged::AlreadyOwned(existing),
            },
        )
    }

    async fn owner(&self, mention: &MentionId) -> Result<Option<Ownership>, StoreError> {
        self.read_owner(mention_pk(mention), "OWNER").await
    }

    async fn close(
        &self,
        mention: &MentionId,
        by: &Ownership,
    ) -> Result<Option<Ownership>, StoreError> {
        self.claim_follow_up(mention_pk(mention), "DONE", by).await
    }

    async fn closed(&self, mention: &MentionId) -> Result<Option<Ownership>, StoreError> {
        self.read_owner(mention_pk(mention), "DONE").await
    }

    async fn record_noise(&self, mention: &MentionId, by: &Ownership) -> Result<(), StoreError> {
        self.claim_follow_up(mention_pk(mention), &format!("NOISE#{}", by.phone), by)
            .await?;
        Ok(())
    }

    async fn noise_reported(&self, mention: &MentionId) -> Result<bool, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :noise)")
            .expression_attribute_values(":pk", s(mention_pk(mention)))
            .expression_attribute_values(":noise", s("NOISE#"))
            .limit(1)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.count > 0)
    }

    async fn set_opted_out(
        &self,
        phone: &PhoneNumber,
        opted_out: bool,
    ) -> Result<bool, StoreError> {
        written(
            self.update_at(ROSTER_PK, format!("CONTACT#{phone}"))
                .update_expression("SET opted_out = :opted_out")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":opted_out", AttributeValue::Bool(opted_out))
                .send()
                .await,
        )
    }
}
