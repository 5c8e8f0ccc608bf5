//! Delivery receipts on DynamoDB.
//!
//! | item                       | pk                      | sk             |
//! |----------------------------|-------------------------|----------------|
//! | a sent SMS, by message id  | `RECEIPT#<message id>`  | `RECEIPT`      |
//! | an alert SMS to a phone    | `MENTION#<id>`          | `SMS#<phone>`  |
//! | a phone's run of failures  | `PHONEHEALTH`           | `<phone>`      |
//! | a voice call made          | `MENTION#<id>`          | `CALL#<phone>` |
//!
//! The `RECEIPT` item is written when an alert SMS is recorded as sent
//! (see `record_delivery`) and carries the alert and phone, so a receipt
//! finds its alert with one GetItem-sized update. The receipt itself is a
//! conditional write on that item: only the first copy of a log event
//! counts. The alert's `SMS#` item then carries the receipt for reports.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{DynamoStore, corrupt, is_condition_failure, mention_pk, s, unavailable, written};
use crate::domain::{MentionId, PhoneNumber};
use crate::ports::{
    Marked, PhoneHealth, Receipt, ReceiptStatus, ReceiptStore, SentSms, StoreError,
};

const HEALTH_PK: &str = "PHONEHEALTH";

fn receipt_pk(message_id: &str) -> String {
    format!("RECEIPT#{message_id}")
}

/// The receipt attributes, as both the `RECEIPT` and `SMS#` items carry them.
#[derive(Deserialize)]
struct ReceiptFields {
    receipt: Option<ReceiptStatus>,
    receipt_reason: Option<String>,
    receipt_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct LinkItem {
    mention_id: Option<String>,
    phone: Option<PhoneNumber>,
    sent_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    fields: ReceiptFields,
}

#[derive(Deserialize)]
struct AlertSmsItem {
    sk: String,
    status: String,
    message_id: Option<String>,
    updated_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    fields: ReceiptFields,
}

#[derive(Deserialize)]
struct HealthItem {
    phone: PhoneNumber,
    #[serde(default)]
    failures: u32,
    last_reason: Option<String>,
    last_at: DateTime<Utc>,
    #[serde(default)]
    warned: bool,
}

impl From<HealthItem> for PhoneHealth {
    fn from(item: HealthItem) -> Self {
        PhoneHealth {
            phone: item.phone,
            failures: item.failures,
            last_reason: item.last_reason,
            last_at: item.last_at,
            warned: item.warned,
        }
    }
}

fn read<T: serde::de::DeserializeOwned>(
    item: Option<HashMap<String, AttributeValue>>,
) -> Result<T, StoreError> {
    serde_dynamo::from_item(item.ok_or_else(|| corrupt("update returned no item"))?)
        .map_err(corrupt)
}

impl DynamoStore {
    /// Part of recording an alert SMS as sent: its message id now leads
    /// back to the alert and phone. A link (or a receipt that came first)
    /// keeps what it has; only the missing fields are filled in.
    pub(super) fn message_link(
        &self,
        message_id: &str,
        mention: &MentionId,
        phone: &PhoneNumber,
        sent_at: DateTime<Utc>,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(receipt_pk(message_id)))
            .key("sk", s("RECEIPT"))
            .update_expression(
                "SET mention_id = if_not_exists(mention_id, :mention), phone = if_not_exists(phone, :phone), \
                 sent_at = if_not_exists(sent_at, :sent_at), expires_at = if_not_exists(expires_at, :expires)",
            )
            .expression_attribute_values(":mention", s(mention.as_str()))
            .expression_attribute_values(":phone", s(phone.as_str()))
            .expression_attribute_values(":sent_at", s(sent_at.to_rfc3339()))
            .expression_attribute_values(":expires", self.expiry_after(sent_at))
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn expiry_after(&self, at: DateTime<Utc>) -> AttributeValue {
        AttributeValue::N((at + self.retention).timestamp().to_string())
    }
}

#[async_trait]
impl ReceiptStore for DynamoStore {
    async fn record_receipt(&self, receipt: &Receipt) -> Result<Marked, StoreError> {
        let status = s(receipt.status.label());
        let reason = s(receipt.reason.as_str());
        let at = s(receipt.at.to_rfc3339());
        let update = self
            .update_at(receipt_pk(&receipt.message_id), "RECEIPT")
            .update_expression(
                "SET receipt = :status, receipt_reason = :reason, receipt_at = :at, \
                 expires_at = if_not_exists(expires_at, :expires)",
            )
            .condition_expression("attribute_not_exists(receipt)")
            .expression_attribute_values(":status", status.clone())
            .expression_attribute_values(":reason", reason.clone())
            .expression_attribute_values(":at", at.clone())
            .expression_attribute_values(":expires", self.expiry_after(receipt.at))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let link: LinkItem = match update {
            Ok(output) => read(output.attributes)?,
            Err(err) if is_condition_failure(&err) => return Ok(Marked::Repeat),
            Err(err) => return Err(unavailable(err)),
        };
        let (Some(mention), Some(phone), Some(sent_at)) = (
            link.mention_id.as_deref().and_then(MentionId::parse),
            link.phone,
            link.sent_at,
        ) else {
            return Ok(Marked::First { alert: None });
        };
        self.update_at(mention_pk(&mention), format!("SMS#{phone}"))
            .update_expression("SET receipt = :status, receipt_reason = :reason, receipt_at = :at")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":status", status)
            .expression_attribute_values(":reason", reason)
            .expression_attribute_values(":at", at)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(Marked::First {
            alert: Some(SentSms {
                mention,
                phone,
                message_id: receipt.message_id.clone(),
                sent_at,
                receipt: link.fields.receipt,
                reason: link.fields.receipt_reason,
                receipt_at: link.fields.receipt_at,
            }),
        })
    }

    async fn alert_sms(&self, mention: &MentionId) -> Result<Vec<SentSms>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :sms)")
            .expression_attribute_values(":pk", s(mention_pk(mention)))
            .expression_attribute_values(":sms", s("SMS#"))
            .consistent_read(true);
        let items: Vec<AlertSmsItem> = self.query_items(query, usize::MAX).await?;
        let mut sent = Vec::new();
        for item in items {
            let (true, Some(message_id), Some(sent_at)) =
                (item.status == "sent", item.message_id, item.updated_at)
            else {
                continue;
            };
            let phone = item
                .sk
                .strip_prefix("SMS#")
                .and_then(|p| PhoneNumber::parse(p).ok())
                .ok_or_else(|| corrupt(format!("bad SMS item key {}", item.sk)))?;
            sent.push(SentSms {
                mention: mention.clone(),
                phone,
                message_id,
                sent_at,
                receipt: item.fields.receipt,
                reason: item.fields.receipt_reason,
                receipt_at: item.fields.receipt_at,
            });
        }
        sent.sort_by(|a, b| a.phone.cmp(&b.phone));
        Ok(sent)
    }

    async fn note_phone_outcome(&self, receipt: &Receipt) -> Result<PhoneHealth, StoreError> {
        let update = self
            .update_at(HEALTH_PK, receipt.phone.as_str())
            .expression_attribute_values(":phone", s(receipt.phone.as_str()))
            .expression_attribute_values(":reason", s(receipt.reason.as_str()))
            .expression_attribute_values(":at", s(receipt.at.to_rfc3339()))
            .return_values(ReturnValue::AllNew);
        let update = match receipt.status {
            ReceiptStatus::Failed => update
                .update_expression(
                    "ADD failures :one SET phone = :phone, last_reason = :reason, last_at = :at",
                )
                .expression_attribute_values(":one", AttributeValue::N("1".into())),
            // A delivery ends the run of failures, and its warning with it.
            ReceiptStatus::Delivered => update
                .update_expression(
                    "SET failures = :zero, phone = :phone, last_reason = :reason, last_at = :at \
                     REMOVE warned",
                )
                .expression_attribute_values(":zero", AttributeValue::N("0".into())),
        };
        let output = update.send().await.map_err(unavailable)?;
        read::<HealthItem>(output.attributes).map(PhoneHealth::from)
    }

    async fn phone_health(&self) -> Result<Vec<PhoneHealth>, StoreError> {
        let items: Vec<HealthItem> = self.partition(HEALTH_PK).await?;
        let mut health: Vec<PhoneHealth> = items.into_iter().map(PhoneHealth::from).collect();
        health.sort_by(|a, b| a.phone.cmp(&b.phone));
        Ok(health)
    }

    async fn claim_phone_warning(&self, phone: &PhoneNumber) -> Result<bool, StoreError> {
        written(
            self.update_at(HEALTH_PK, phone.as_str())
                .update_expression("SET warned = :yes")
                .condition_expression("attribute_exists(pk) AND attribute_not_exists(warned)")
                .expression_attribute_values(":yes", AttributeValue::Bool(true))
                .send()
                .await,
        )
    }

    async fn claim_call(
        &self,
        mention: &MentionId,
        phone: &PhoneNumber,
    ) -> Result<bool, StoreError> {
        written(
            self.client
                .put_item()
                .table_name(&self.table)
                .item("pk", s(mention_pk(mention)))
                .item("sk", s(format!("CALL#{phone}")))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await,
        )
    }
}
