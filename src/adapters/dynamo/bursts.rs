//! The brands' burst logs on DynamoDB.
//!
//! | item              | pk              | sk    |
//! |-------------------|-----------------|-------|
//! | one brand's log   | `BURST#<brand>` | `LOG` |
//!
//! One conditional PutItem per urgent post (two when another instance
//! wrote the log since; the refusal carries the stored log), whatever the
//! traffic: the log is bounded (see [`crate::ports::BurstLog`]) and expires with TTL once
//! the brand is quiet.

use async_trait::async_trait;
use std::collections::HashMap;

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::{DynamoStore, TTL_ATTRIBUTE, corrupt, s, unavailable};
use crate::ports::{BurstLogStore, Saved, StoreError, VersionedLog};

const LOG_SK: &str = "LOG";

fn burst_pk(brand: &str) -> String {
    format!("BURST#{brand}")
}

/// A stored log item as the port sees it.
fn versioned_log(item: &HashMap<String, AttributeValue>) -> Result<VersionedLog, StoreError> {
    let version = item
        .get("version")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| corrupt("a burst log without its version"))?;
    let log = item
        .get("log")
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| corrupt("a burst log without its posts"))?;
    Ok(VersionedLog {
        log: serde_json::from_str(log).map_err(corrupt)?,
        version,
    })
}

#[async_trait]
impl BurstLogStore for DynamoStore {
    async fn save_burst_log(&self, brand: &str, read: &VersionedLog) -> Result<Saved, StoreError> {
        let expires = read.log.expires_at();
        let (log, read_version) = (&read.log, read.version);
        let number = |n: String| AttributeValue::N(n);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(burst_pk(brand)))
            .item("sk", s(LOG_SK))
            .item("version", number((read_version + 1).to_string()))
            .item("log", s(serde_json::to_string(log).map_err(corrupt)?))
            .item(TTL_ATTRIBUTE, number(expires.timestamp().to_string()))
            // A stale write is answered with the stored log: no read needed.
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let put = if read_version == 0 {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("version = :read")
                .expression_attribute_values(":read", number(read_version.to_string()))
        };
        match put.send().await {
            Ok(_) => Ok(Saved::Written),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(stale)) => {
                    Ok(Saved::Stale(match stale.item() {
                        Some(item) => versioned_log(item)?,
                        // The log expired between the write and its answer.
                        None => VersionedLog::default(),
                    }))
                }
                _ => Err(unavailable(err)),
            },
        }
    }
}
