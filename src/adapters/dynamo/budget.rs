//! The SMS budget and held alerts on DynamoDB.
//!
//! | item          | pk                              | sk                  |
//! |---------------|---------------------------------|---------------------|
//! | phone counter | `BUDGET#<phone>#<YYYY-MM-DDTHH>` | `COUNT`             |
//! | daily counter | `BUDGET#DAY#<YYYY-MM-DD>`        | `COUNT`             |
//! | held alert    | `HELD`                           | `<phone>#<mention>` |
//!
//! Each counter moves by a conditional update that keeps it within its
//! cap, so concurrent senders can never pass a cap together: the phone's
//! first, then the day's (giving the phone's slot back if the day is
//! spent). Counters expire two days after their window.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{DynamoStore, s, unavailable, written};
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
    /// Adds one to a counter if it stays within `cap`; false if it would not.
    async fn increment(
        &self,
        pk: String,
        cap: u32,
        expires: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        written(
            self.client
                .update_item()
                .table_name(&self.table)
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
                .send()
                .await,
        )
    }

    async fn decrement(&self, pk: String) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(COUNT_SK))
            .update_expression("ADD sent :minus_one")
            .expression_attribute_values(":minus_one", AttributeValue::N("-1".into()))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
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
        let phone_counter = phone_counter(phone, now);
        if !self
            .increment(phone_counter.clone(), limits.per_phone_hourly, expires)
            .await?
        {
            return Ok(Spend::PhoneCap);
        }
        if !self
            .increment(day_counter(now), limits.daily, expires)
            .await?
        {
            // Give the phone its slot back. Should that fail, the phone has
            // one SMS less this hour: the safe side of a cap.
            if let Err(err) = self.decrement(phone_counter).await {
                tracing::warn!(error = %err, "could not return an unused SMS slot");
            }
            return Ok(Spend::DailyCap);
        }
        Ok(Spend::Granted)
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

    async fn release(&self, held: &[HeldAlert]) -> Result<(), StoreError> {
        for alert in held {
            self.delete(HELD_PK, held_sk(alert)).await?;
        }
        Ok(())
    }
}
