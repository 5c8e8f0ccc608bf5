//! DynamoDB behind the storage ports: one table, keyed `pk`/`sk`.
//!
//! | item            | pk                 | sk               |
//! |-----------------|--------------------|------------------|
//! | mention         | `MENTION#<id>`     | `MENTION`        |
//! | SMS to a phone  | `MENTION#<id>`     | `SMS#<phone>`    |
//! | reply code      | `CODE#<code>`      | `CODE`           |
//! | on-call contact | `ROSTER`           | `CONTACT#<phone>`|
//! | public reply    | `MENTION#<id>`     | `REPLY#<n>`      |
//! | burst log       | `BURST#<brand>`    | `LOG`            |
//!
//! Receipts, the rota, hand-overs, the SMS budget and sources keep their
//! own items; each file starts with its table.
//!
//! Mentions also carry `day`/`received_key` (index `by-day`, newest first)
//! and `author_key`/`created_key` (index `by-author`), so every read is a
//! GetItem or a Query: nothing scans the table.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, Put, ReturnValue, ScalarAttributeType,
    TimeToLiveSpecification, TransactWriteItem, Update,
};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::aws_error::AwsFailure;
use crate::domain::{AlertCode, AlertState, MentionId, MentionRecord, OnCallContact, PhoneNumber};
use crate::ports::{
    AuthorKey, Claim, Claimant, Delivery, Inserted, MentionStore, RosterStore, StoreError,
};

mod budget;
mod bursts;
mod followup;
mod handover;
mod receipts;
mod replies;
mod rota;
mod sources;

pub const BY_DAY_INDEX: &str = "by-day";
pub const BY_AUTHOR_INDEX: &str = "by-author";
pub const OPEN_ALERTS_INDEX: &str = "open-alerts";
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// The partitions of the sparse `open-alerts` index: waiting for an ACK,
/// and acknowledged but not yet closed (keyed by when to remind).
const OPEN: &str = "OPEN";
const OWNED: &str = "OWNED";

const ROSTER_PK: &str = "ROSTER";

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    retention: Duration,
}

/// A failed call as a store error: refused calls (validation, a missing
/// table) will never succeed, everything else may on a later try.
fn unavailable<E>(err: SdkError<E, HttpResponse>) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let failure = AwsFailure::of(&err);
    if failure.refused {
        StoreError::Rejected(failure.summary)
    } else {
        StoreError::Unavailable(failure.summary)
    }
}

fn corrupt(err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(err.to_string())
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn mention_pk(id: &MentionId) -> String {
    format!("MENTION#{id}")
}

/// The stored shape of a mention: the record plus its keys.
#[derive(Serialize, Deserialize)]
struct MentionItem {
    pk: String,
    sk: String,
    day: String,
    received_key: String,
    author_key: String,
    created_key: String,
    expires_at: i64,
    /// Present only while an urgent alert waits for an ACK, so the
    /// `open-alerts` index holds exactly those.
    #[serde(skip_serializing_if = "Option::is_none")]
    open_alert: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    open_since: Option<String>,
    record: MentionRecord,
}

/// A roster entry: the contact's fields next to its keys.
#[derive(Serialize, Deserialize)]
struct ContactItem {
    pk: String,
    sk: String,
    #[serde(flatten)]
    contact: OnCallContact,
}

fn author_partition(author: &AuthorKey) -> String {
    format!("AUTHOR#{author}")
}

/// `2026-11-24`: the partition of the `by-day` index a time falls in.
fn day_of(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// Sortable timestamps with a fixed width, so string order is time order.
/// An owned alert's place on the reminder list: its time, then its id.
/// The keys of one alert share the suffix, so they compare by time.
fn reminder_key(id: &MentionId, at: DateTime<Utc>) -> AttributeValue {
    s(format!("{}#{id}", sort_key(at)))
}

fn sort_key(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>, retention: Duration) -> Self {
        Self {
            client,
            table: table.into(),
            retention,
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn mention_item(
        &self,
        record: &MentionRecord,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let mention = &record.mention;
        let item = MentionItem {
            pk: mention_pk(&mention.id),
            sk: "MENTION".into(),
            day: day_of(mention.received_at),
            received_key: format!("{}#{}", sort_key(mention.received_at), mention.id),
            author_key: author_partition(&AuthorKey::of(mention)),
            created_key: format!("{}#{}", sort_key(mention.created_at), mention.id),
            expires_at: (mention.received_at + self.retention).timestamp(),
            open_alert: record.alert.is_outstanding().then(|| OPEN.to_owned()),
            open_since: record
                .alert
                .is_outstanding()
                .then(|| format!("{}#{}", sort_key(mention.received_at), mention.id)),
            record: record.clone(),
        };
        serde_dynamo::to_item(item).map_err(corrupt)
    }

    /// Creates the table with its indexes and TTL, if it does not exist yet.
    pub async fn create_table(&self) -> Result<bool, StoreError> {
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(corrupt)
        };
        let string_attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(corrupt)
        };
        let index =
            |name: &str, hash: &str, range: &str| -> Result<GlobalSecondaryIndex, StoreError> {
                GlobalSecondaryIndex::builder()
                    .index_name(name)
                    .key_schema(key(hash, KeyType::Hash)?)
                    .key_schema(key(range, KeyType::Range)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .map_err(corrupt)
            };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key("pk", KeyType::Hash)?)
            .key_schema(key("sk", KeyType::Range)?)
            .attribute_definitions(string_attr("pk")?)
            .attribute_definitions(string_attr("sk")?)
            .attribute_definitions(string_attr("day")?)
            .attribute_definitions(string_attr("received_key")?)
            .attribute_definitions(string_attr("author_key")?)
            .attribute_definitions(string_attr("created_key")?)
            .attribute_definitions(string_attr("open_alert")?)
            .attribute_definitions(string_attr("open_since")?)
            .global_secondary_indexes(index(BY_DAY_INDEX, "day", "received_key")?)
            .global_secondary_indexes(index(BY_AUTHOR_INDEX, "author_key", "created_key")?)
            .global_secondary_indexes(index(OPEN_ALERTS_INDEX, "open_alert", "open_since")?)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) =>
            {
                return Ok(false);
            }
            Err(err) => return Err(unavailable(err)),
        }
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(TTL_ATTRIBUTE)
                    .build()
                    .map_err(corrupt)?,
            )
            .send()
            .await
            .map_err(unavailable)?;
        Ok(true)
    }

    /// Runs `query` page by page until `limit` items are read or none are
    /// left, reading each item as `T`.
    async fn query_items<T: serde::de::DeserializeOwned>(
        &self,
        query: QueryFluentBuilder,
        limit: usize,
    ) -> Result<Vec<T>, StoreError> {
        let mut items = Vec::new();
        let mut start_key = None;
        loop {
            let page = query
                .clone()
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items.unwrap_or_default() {
                items.push(serde_dynamo::from_item(item).map_err(corrupt)?);
            }
            start_key = page.last_evaluated_key;
            if start_key.is_none() || items.len() >= limit {
                items.truncate(limit);
                return Ok(items);
            }
        }
    }

    /// A Query on one of the table's indexes.
    fn query_index(&self, index: &str) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name(index)
    }

    /// An update of the item at (`pk`, `sk`).
    pub(super) fn update_at(
        &self,
        pk: impl Into<String>,
        sk: impl Into<String>,
    ) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
    }

    /// An update of the mention's item, which must exist.
    pub(super) fn update_mention(&self, id: &MentionId) -> UpdateItemFluentBuilder {
        self.update_at(mention_pk(id), "MENTION")
            .condition_expression("attribute_exists(pk)")
    }

    /// Moves an owned alert's reminder to `to` if the current one stands
    /// `than` (`<=`, `>`) `at`; true if it moved. The condition replaces
    /// the existence one: an owned alert exists.
    async fn move_reminder(
        &self,
        id: &MentionId,
        to: DateTime<Utc>,
        than: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        written(
            self.update_mention(id)
                .update_expression("SET open_since = :to")
                .condition_expression(format!("open_alert = :owned AND open_since {than} :at"))
                .expression_attribute_values(":owned", s(OWNED))
                .expression_attribute_values(":to", reminder_key(id, to))
                .expression_attribute_values(":at", reminder_key(id, at))
                .send()
                .await,
        )
    }

    /// Alerts in one partition of `open-alerts` up to `until`, oldest first.
    async fn alerts_in(
        &self,
        partition: &str,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MentionRecord>, StoreError> {
        let query = self
            .query_index(OPEN_ALERTS_INDEX)
            .key_condition_expression("open_alert = :partition AND open_since <= :until")
            .expression_attribute_values(":partition", s(partition))
            .expression_attribute_values(":until", s(format!("{}~", sort_key(until))));
        self.query_mentions(query, limit).await
    }

    /// Writes (or overwrites) one item.
    async fn put<T: Serialize>(&self, item: T) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(item).map_err(corrupt)?))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Writes the item unless one with its key exists; false if it did.
    async fn put_new<T: Serialize>(&self, item: T) -> Result<bool, StoreError> {
        written(
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(serde_dynamo::to_item(item).map_err(corrupt)?))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await,
        )
    }

    /// Every item of one small partition (the roster, the watches), read
    /// consistently.
    pub(super) async fn partition<T: serde::de::DeserializeOwned>(
        &self,
        pk: &str,
    ) -> Result<Vec<T>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(pk))
            .consistent_read(true);
        self.query_items(query, usize::MAX).await
    }

    /// Deletes one item; true if it was there.
    async fn delete(&self, pk: &str, sk: String) -> Result<bool, StoreError> {
        let output = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.attributes.is_some_and(|a| !a.is_empty()))
    }

    /// Mention records from a query on one of the mention indexes.
    async fn query_mentions(
        &self,
        query: QueryFluentBuilder,
        limit: usize,
    ) -> Result<Vec<MentionRecord>, StoreError> {
        let items: Vec<MentionItem> = self.query_items(query, limit).await?;
        Ok(items.into_iter().map(|item| item.record).collect())
    }

    async fn get_item(
        &self,
        pk: String,
        sk: &str,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.item)
    }
}

/// A conditional write's outcome: true if written, false if its condition
/// did not hold.
fn written<T, E>(result: Result<T, SdkError<E, HttpResponse>>) -> Result<bool, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(err) if is_condition_failure(&err) => Ok(false),
        Err(err) => Err(unavailable(err)),
    }
}

fn is_condition_failure<E, R>(err: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

/// Whether a transaction was cancelled because the condition of its
/// `index`th write did not hold.
fn condition_failed_at<R>(err: &SdkError<TransactWriteItemsError, R>, index: usize) -> bool {
    let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
        err.as_service_error()
    else {
        return false;
    };
    cancelled
        .cancellation_reasons()
        .get(index)
        .and_then(|reason| reason.code())
        .is_some_and(|code| code == "ConditionalCheckFailed")
}

impl DynamoStore {
    /// The record already stored under the id of one that was not written.
    async fn stored_instead(&self, record: &MentionRecord) -> Result<Inserted, StoreError> {
        let existing = self
            .get_mention(&record.mention.id)
            .await?
            .ok_or_else(|| corrupt("mention vanished after a conditional write failed"))?;
        Ok(Inserted::Existing(Box::new(existing)))
    }

    /// Reserves `code` for `mention`, as part of its insert: granted if the
    /// code is free or already this mention's (a retried delivery).
    fn code_reservation(
        &self,
        code: &AlertCode,
        mention: &MentionId,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .item("pk", s(format!("CODE#{code}")))
            .item("sk", s("CODE"))
            .item("mention_id", s(mention.as_str()))
            // Codes are few (24^4); expiring them with their mention keeps
            // the space from filling up.
            .item(
                TTL_ATTRIBUTE,
                AttributeValue::N((Utc::now() + self.retention).timestamp().to_string()),
            )
            .condition_expression("attribute_not_exists(pk) OR mention_id = :mention")
            .expression_attribute_values(":mention", s(mention.as_str()))
            .build()
            .map_err(corrupt)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}

#[async_trait]
impl MentionStore for DynamoStore {
    async fn insert_mention(&self, record: &MentionRecord) -> Result<Inserted, StoreError> {
        let item = self.mention_item(record)?;
        let Some(code) = &record.alert_code else {
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await;
            return match written(put)? {
                true => Ok(Inserted::New),
                false => self.stored_instead(record).await,
            };
        };
        // The mention and its reply code in one transaction: an urgent post
        // costs one write, and a code is never left reserved for a mention
        // that was not stored.
        let mention = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(corrupt)?;
        let inserted = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(mention).build())
            .transact_items(self.code_reservation(code, &record.mention.id)?)
            .send()
            .await;
        match inserted {
            Ok(_) => Ok(Inserted::New),
            Err(err) if condition_failed_at(&err, 0) => self.stored_instead(record).await,
            Err(err) if condition_failed_at(&err, 1) => Ok(Inserted::CodeTaken),
            Err(err) => Err(unavailable(err)),
        }
    }

    async fn get_mention(&self, id: &MentionId) -> Result<Option<MentionRecord>, StoreError> {
        let Some(item) = self.get_item(mention_pk(id), "MENTION").await? else {
            return Ok(None);
        };
        let item: MentionItem = serde_dynamo::from_item(item).map_err(corrupt)?;
        Ok(Some(item.record))
    }

    async fn recent_mentions(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MentionRecord>, StoreError> {
        let mut records = Vec::new();
        let mut day = until;
        let since_key = sort_key(since);
        // `~` sorts after every id, so the bound includes all of `until`.
        let until_key = format!("{}~", sort_key(until));
        // Walk the day partitions newest first until the limit is reached.
        while records.len() < limit && day_of(day) >= day_of(since) {
            let query = self
                .query_index(BY_DAY_INDEX)
                .key_condition_expression("#day = :day AND received_key BETWEEN :since AND :until")
                .expression_attribute_names("#day", "day")
                .expression_attribute_values(":day", s(day_of(day)))
                .expression_attribute_values(":since", s(since_key.clone()))
                .expression_attribute_values(":until", s(until_key.clone()))
                .scan_index_forward(false);
            records.extend(self.query_mentions(query, limit - records.len()).await?);
            day -= Duration::days(1);
        }
        records.truncate(limit);
        Ok(records)
    }

    async fn author_mentions(
        &self,
        author: &AuthorKey,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MentionRecord>, StoreError> {
        let query = self
            .query_index(BY_AUTHOR_INDEX)
            .key_condition_expression("author_key = :author AND created_key > :since")
            .expression_attribute_values(":author", s(author_partition(author)))
            .expression_attribute_values(":since", s(sort_key(since)))
            .scan_index_forward(false);
        self.query_mentions(query, limit).await
    }

    async fn set_alert_state(&self, id: &MentionId, state: &AlertState) -> Result<(), StoreError> {
        let state = serde_dynamo::to_attribute_value(state).map_err(corrupt)?;
        self.update_mention(id)
            .update_expression("SET #record.#alert = :alert")
            .expression_attribute_names("#record", "record")
            .expression_attribute_names("#alert", "alert")
            .expression_attribute_values(":alert", state)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn open_alerts(
        &self,
        raised_before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MentionRecord>, StoreError> {
        self.alerts_in(OPEN, raised_before, limit).await
    }

    async fn own_alert(&self, id: &MentionId, remind_at: DateTime<Utc>) -> Result<(), StoreError> {
        self.update_mention(id)
            .update_expression("SET open_alert = :owned, open_since = :remind")
            .expression_attribute_values(":owned", s(OWNED))
            .expression_attribute_values(":remind", reminder_key(id, remind_at))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn book_reminder(
        &self,
        id: &MentionId,
        now: DateTime<Utc>,
        next: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.move_reminder(id, next, "<=", now).await
    }

    async fn remind_by(
        &self,
        id: &MentionId,
        remind_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.move_reminder(id, remind_at, ">", remind_at).await
    }

    async fn reminders_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<MentionRecord>, StoreError> {
        self.alerts_in(OWNED, now, limit).await
    }

    async fn settle_alert(&self, id: &MentionId) -> Result<(), StoreError> {
        self.update_mention(id)
            .update_expression("REMOVE open_alert, open_since")
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn claim_delivery(
        &self,
        mention: &MentionId,
        phone: &PhoneNumber,
        claimant: &Claimant,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        let sk = format!("SMS#{phone}");
        // The claimant's own claim is granted again: when the SDK retries a
        // write DynamoDB applied but whose answer was lost, the condition
        // meets this very claim.
        let update = self.update_at(mention_pk(mention), &sk)
            .update_expression(
                "SET #status = :sending, claimant = :claimant, lease_until = :lease, expires_at = :expires",
            )
            .condition_expression(
                "attribute_not_exists(pk) OR #status = :failed OR (#status = :sending AND (lease_until < :now OR claimant = :claimant))",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":sending", s("sending"))
            .expression_attribute_values(":failed", s("failed"))
            .expression_attribute_values(":claimant", s(claimant.as_str()))
            .expression_attribute_values(":lease", AttributeValue::N(lease_until.timestamp().to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
            .expression_attribute_values(
                ":expires",
                AttributeValue::N((now + self.retention).timestamp().to_string()),
            )
            .send()
            .await;
        match update {
            Ok(_) => Ok(Claim::Granted),
            Err(err) if is_condition_failure(&err) => {
                let item = self.get_item(mention_pk(mention), &sk).await?;
                let status = item
                    .as_ref()
                    .and_then(|i| i.get("status"))
                    .and_then(|v| v.as_s().ok());
                Ok(match status.map(String::as_str) {
                    Some("sent") => Claim::AlreadySent,
                    Some("held") => Claim::Held,
                    _ => Claim::InFlight,
                })
            }
            Err(err) => Err(unavailable(err)),
        }
    }

    async fn release_delivery(
        &self,
        mention: &MentionId,
        phone: &PhoneNumber,
        claimant: &Claimant,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        written(
            self.update_at(mention_pk(mention), format!("SMS#{phone}"))
                .update_expression("SET #status = :failed, #error = :reason, updated_at = :at")
                .condition_expression("#status = :sending AND claimant = :claimant")
                .expression_attribute_names("#status", "status")
                .expression_attribute_names("#error", "error")
                .expression_attribute_values(":failed", s("failed"))
                .expression_attribute_values(":sending", s("sending"))
                .expression_attribute_values(":claimant", s(claimant.as_str()))
                .expression_attribute_values(":reason", s(reason))
                .expression_attribute_values(":at", s(at.to_rfc3339()))
                .send()
                .await,
        )?;
        Ok(())
    }

    async fn record_delivery(
        &self,
        mention: &MentionId,
        code: &AlertCode,
        phone: &PhoneNumber,
        outcome: &Delivery,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (status, detail_name, detail) = match outcome {
            Delivery::Sent { message_id } => ("sent", "message_id", message_id.as_str()),
            Delivery::Failed { reason } => ("failed", "error", reason.as_str()),
            Delivery::Held { reason } => ("held", "held_for", reason.label()),
        };
        let sms = Update::builder()
            .table_name(&self.table)
            .key("pk", s(mention_pk(mention)))
            .key("sk", s(format!("SMS#{phone}")))
            .update_expression("SET #status = :status, #detail = :detail, updated_at = :at")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#detail", detail_name)
            .expression_attribute_values(":status", s(status))
            .expression_attribute_values(":detail", s(detail))
            .expression_attribute_values(":at", s(at.to_rfc3339()))
            .build()
            .map_err(corrupt)?;
        // One transaction: a sent SMS is never recorded without the pointer
        // that lets its ACK find it, nor without its receipt link.
        let mut writes = vec![TransactWriteItem::builder().update(sms).build()];
        if let Delivery::Sent { message_id } = outcome {
            let latest = Put::builder()
                .table_name(&self.table)
                .set_item(Some(followup::latest_alert_item(phone, code)))
                .build()
                .map_err(corrupt)?;
            writes.push(TransactWriteItem::builder().put(latest).build());
            if !message_id.is_empty() {
                writes.push(self.message_link(message_id, mention, phone, at)?);
            }
        }
        self.client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}

#[async_trait]
impl RosterStore for DynamoStore {
    async fn put_contact(&self, contact: &OnCallContact) -> Result<(), StoreError> {
        self.put(ContactItem {
            pk: ROSTER_PK.into(),
            sk: format!("CONTACT#{}", contact.phone),
            contact: contact.clone(),
        })
        .await
    }

    async fn contacts(&self) -> Result<Vec<OnCallContact>, StoreError> {
        let items: Vec<ContactItem> = self.partition(ROSTER_PK).await?;
        Ok(items.into_iter().map(|item| item.contact).collect())
    }

    async fn remove_contact(&self, phone: &PhoneNumber) -> Result<bool, StoreError> {
        self.delete(ROSTER_PK, format!("CONTACT#{phone}")).await
    }
}
