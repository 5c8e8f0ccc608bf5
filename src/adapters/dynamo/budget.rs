//! The SMS budget and held alerts on DynamoDB.
//!
//! | item          | pk                              | sk                  |
//! |---------------|---------------------------------|---------------------|
//! | phone counter | `BUDGET#<phone>#<YYYY-MM-DDTHH>` | `COUNT`             |
//! | daily counter | `BUDGET#DAY#<YYYY-MM-DD>`        | `COUNT`             |
//! | held alert    | `HELD`                           | `<phone>#<mention>` |
//!
//! Both counters move in one transaction of conditional updates that keep
//! each within its cap, so concurrent senders can never pass a cap together
//! and a refused SMS counts against neither. Counters expire two days after
//! their window.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{DynamoStore, condition_failed_at, s, unavailable};
use crate::domain::PhoneNumber;
use crate::ports::{HeldAlert, SmsBudget, SmsLimits, Spend, StoreError, day_window, hour_window};

const HELD_PK: &str = "HELD";
const COUNT_SK: &str = "COUNT";
const COUNTER_TTL: Duration = Duration::days(2);

fn phone_counter(phone: &PhoneNumber, now: DateTime<Utc>) -> String {
    format!("BUDGET#{phone}#{}", hour_window(now))
}

fn day_counter(now: DateTime<Utc>) -> String {
    format!("BUDGET#DAY#{}", day_window(now))
}

fn held_sk(held: &HeldAlert) -> String {
    format!("{}#{}", held.phone, held.mention)
}

#[derive(Serialize, Deserialize)]
struct HeldItem {
    pk: String,
    sk: String,
    held: HeldAlert,
}

impl DynamoStore {
    /// Adds one to a counter, as part of a transaction, if it stays within
    /// `cap`.
    fn increment(pk: String, cap: u32, expires: DateTime<Utc>, table: &str) -> TransactWriteItem {
        let update = Update::builder()
            .table_name(table)
            .key("pk", s(pk))
            .key("sk", s(COUNT_SK))
            .update_expression("ADD sent :one SET expires_at = :expires")
            .condition_expression("attribute_not_exists(sent) OR sent < :cap")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":cap", AttributeValue::N(cap.to_string()))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N(expires.timestamp().to_string()),
            )
            .build()
            .expect("key, table and expression are set");
        TransactWriteItem::builder().update(update).build()
    }
}

#[async_trait]
impl SmsBudget for DynamoStore {
    async fn spend(
        &self,
        phone: &PhoneNumber,
        now: DateTime<Utc>,
        limits: SmsLimits,
    ) -> Result<Spend, StoreError> {
        let expires = now + COUNTER_TTL;
        let phone_share = Self::increment(
            phone_counter(phone, now),
            limits.per_phone_hourly,
            expires,
            &self.table,
        );
        let day_share = Self::increment(day_counter(now), limits.daily, expires, &self.table);
        // One call for both counters; the SDK's idempotency token makes a
        // retry of a transaction whose answer was lost count once.
        let spent = self
            .client
            .transact_write_items()
            .transact_items(phone_share)
            .transact_items(day_share)
            .send()
            .await;
        match spent {
            Ok(_) => Ok(Spend::Granted),
            Err(err) if condition_failed_at(&err, 0) => Ok(Spend::PhoneCap),
            Err(err) if condition_failed_at(&err, 1) => Ok(Spend::DailyCap),
            Err(err) => Err(unavailable(err)),
        }
    }

    async fn hold(&self, held: &HeldAlert) -> Result<(), StoreError> {
        // Held again by a later run: the first hold stands.
        self.put_new(HeldItem {
            pk: HELD_PK.into(),
            sk: held_sk(held),
            held: held.clone(),
        })
        .await?;
        Ok(())
    }

    async fn held(&self) -> Result<Vec<HeldAlert>, StoreError> {
        let items: Vec<HeldItem> = self.partition(HELD_PK).await?;
        let mut held: Vec<HeldAlert> = items.into_iter().map(|item| item.held).collect();
        held.sort_by(|a, b| (a.at, &a.phone, &a.mention).cmp(&(b.at, &b.phone, &b.mention)));
        Ok(held)
    }

    async fn release(&self, held: &[HeldAlert]) -> Result<Vec<HeldAlert>, StoreError> {
        let mut released = Vec::new();
        for alert in held {
            if self.delete(HELD_PK, held_sk(alert)).await? {
                released.push(alert.clone());
            }
        }
        Ok(released)
    }
}
