//! Watches, source state and mention revisions on DynamoDB.
//!
//! | item         | pk       | sk                            |
//! |--------------|----------|-------------------------------|
//! | watch        | `WATCH`  | `BRAND#<brand>`               |
//! | source state | `SOURCE` | `SOURCE#<brand>#<platform>`   |
//!
//! Both lists are read with a Query on their partition. A source's alarm is
//! a separate attribute, changed only by conditional writes so concurrent
//! runs cannot send its SMS twice. A mention's revision is the `revision`
//! attribute of its item.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{DynamoStore, corrupt, mention_pk, s, unavailable, written};
use crate::domain::MentionId;
use crate::domain::{Alarm, SourceKey, SourceState, Watch};
use crate::ports::{MentionRevisions, Revision, SourceStore, StoreError, WatchStore};

const WATCH_PK: &str = "WATCH";
const SOURCE_PK: &str = "SOURCE";

fn watch_sk(brand: &str) -> String {
    format!("BRAND#{brand}")
}

fn source_sk(key: &SourceKey) -> String {
    format!("SOURCE#{}#{}", key.brand, key.platform)
}

#[derive(Serialize, Deserialize)]
struct WatchItem {
    pk: String,
    sk: String,
    watch: Watch,
}

#[derive(Deserialize)]
struct SourceItem {
    state: SourceState,
    #[serde(default)]
    alarm: Option<Alarm>,
}

impl SourceItem {
    fn into_state(self) -> SourceState {
        SourceState {
            alarm: self.alarm,
            ..self.state
        }
    }
}

#[async_trait]
impl WatchStore for DynamoStore {
    async fn put_watch(&self, watch: &Watch) -> Result<(), StoreError> {
        self.put(WatchItem {
            pk: WATCH_PK.into(),
            sk: watch_sk(&watch.brand),
            watch: watch.clone(),
        })
        .await
    }

    async fn watches(&self) -> Result<Vec<Watch>, StoreError> {
        let items: Vec<WatchItem> = self.partition(WATCH_PK).await?;
        Ok(items.into_iter().map(|item| item.watch).collect())
    }

    async fn watch(&self, brand: &str) -> Result<Option<Watch>, StoreError> {
        let Some(item) = self.get_item(WATCH_PK.into(), &watch_sk(brand)).await? else {
            return Ok(None);
        };
        let item: WatchItem = serde_dynamo::from_item(item).map_err(corrupt)?;
        Ok(Some(item.watch))
    }

    async fn remove_watch(&self, brand: &str) -> Result<bool, StoreError> {
        self.delete(WATCH_PK, watch_sk(brand)).await
    }
}

#[async_trait]
impl SourceStore for DynamoStore {
    async fn source(&self, key: &SourceKey) -> Result<Option<SourceState>, StoreError> {
        let Some(item) = self.get_item(SOURCE_PK.into(), &source_sk(key)).await? else {
            return Ok(None);
        };
        let item: SourceItem = serde_dynamo::from_item(item).map_err(corrupt)?;
        Ok(Some(item.into_state()))
    }

    async fn sources(&self) -> Result<Vec<SourceState>, StoreError> {
        let items: Vec<SourceItem> = self.partition(SOURCE_PK).await?;
        Ok(items.into_iter().map(SourceItem::into_state).collect())
    }

    async fn save_source(&self, state: &SourceState) -> Result<(), StoreError> {
        let stored = SourceState {
            alarm: None,
            ..state.clone()
        };
        let value = serde_dynamo::to_attribute_value(stored).map_err(corrupt)?;
        self.update_at(SOURCE_PK, source_sk(&state.key))
            .update_expression("SET #state = :state")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":state", value)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn raise_alarm(
        &self,
        key: &SourceKey,
        alarm: Alarm,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let raised = serde_dynamo::to_attribute_value(alarm).map_err(corrupt)?;
        // A source with no saved state yet still gets its alarm.
        let blank =
            serde_dynamo::to_attribute_value(SourceState::new(key.clone())).map_err(corrupt)?;
        written(
            self.update_at(SOURCE_PK, source_sk(key))
                .update_expression(
                    "SET alarm = :alarm, alarm_at = :at, #state = if_not_exists(#state, :blank)",
                )
                .condition_expression("attribute_not_exists(alarm)")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":blank", blank)
                .expression_attribute_values(":alarm", raised)
                .expression_attribute_values(":at", s(at.to_rfc3339()))
                .send()
                .await,
        )
    }

    async fn clear_alarm(&self, key: &SourceKey) -> Result<bool, StoreError> {
        written(
            self.update_at(SOURCE_PK, source_sk(key))
                .update_expression("REMOVE alarm, alarm_at")
                .condition_expression("attribute_exists(alarm)")
                .send()
                .await,
        )
    }
}

#[async_trait]
impl MentionRevisions for DynamoStore {
    async fn revise_mention(
        &self,
        id: &MentionId,
        revision: &Revision,
    ) -> Result<bool, StoreError> {
        let value = serde_dynamo::to_attribute_value(revision).map_err(corrupt)?;
        let update = self
            .update_mention(id)
            .expression_attribute_values(":revision", value);
        let update = match revision {
            Revision::Edited { text, .. } => update
                .update_expression("SET revision = :revision, #record.#mention.#text = :text")
                .expression_attribute_names("#record", "record")
                .expression_attribute_names("#mention", "mention")
                .expression_attribute_names("#text", "text")
                .expression_attribute_values(":text", AttributeValue::S(text.clone())),
            Revision::Removed { .. } => update.update_expression("SET revision = :revision"),
        };
        written(update.send().await)
    }

    async fn mention_revision(&self, id: &MentionId) -> Result<Option<Revision>, StoreError> {
        let Some(mut item) = self.get_item(mention_pk(id), "MENTION").await? else {
            return Ok(None);
        };
        item.remove("revision")
            .map(|value| serde_dynamo::from_attribute_value(value).map_err(corrupt))
            .transpose()
    }
}
