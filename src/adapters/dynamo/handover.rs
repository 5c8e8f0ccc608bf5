//! PASS offers, owner transfers and chain notices on DynamoDB.
//!
//! | item                         | pk             | sk              |
//! |------------------------------|----------------|-----------------|
//! | an open offer (PASS)         | `MENTION#<id>` | `OFFER`         |
//! | who owns the alert           | `MENTION#<id>` | `OWNER`         |
//! | the chain told (taken, ...)  | `MENTION#<id>` | `CHAIN#<news>`  |
//!
//! The owner item is the one `followup.rs` writes on ACK; a transfer
//! rewrites it on condition that the expected owner still holds it.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{DynamoStore, corrupt, mention_pk, s, unavailable, written};
use crate::domain::MentionId;
use crate::ports::{ChainNews, HandOverStore, Offer, Ownership, StoreError};

#[derive(Serialize, Deserialize)]
struct OfferItem {
    pk: String,
    sk: String,
    offer: Offer,
}

#[derive(Serialize)]
struct ChainItem {
    pk: String,
    sk: String,
}

#[async_trait]
impl HandOverStore for DynamoStore {
    async fn offer(&self, offer: &Offer) -> Result<(), StoreError> {
        self.put(OfferItem {
            pk: mention_pk(&offer.mention),
            sk: "OFFER".into(),
            offer: offer.clone(),
        })
        .await
    }

    async fn offer_of(&self, mention: &MentionId) -> Result<Option<Offer>, StoreError> {
        let Some(item) = self.get_item(mention_pk(mention), "OFFER").await? else {
            return Ok(None);
        };
        let item: OfferItem = serde_dynamo::from_item(item).map_err(corrupt)?;
        Ok(Some(item.offer))
    }

    async fn transfer(
        &self,
        mention: &MentionId,
        from: &Ownership,
        to: &Ownership,
    ) -> Result<bool, StoreError> {
        let moved = written(
            self.update_at(mention_pk(mention), "OWNER")
                .update_expression("SET #owner = :to")
                .condition_expression("#owner.phone = :from_phone AND #owner.#at = :from_at")
                .expression_attribute_names("#owner", "owner")
                .expression_attribute_names("#at", "at")
                .expression_attribute_values(
                    ":to",
                    serde_dynamo::to_attribute_value(to).map_err(corrupt)?,
                )
                .expression_attribute_values(":from_phone", s(from.phone.as_str()))
                .expression_attribute_values(
                    ":from_at",
                    serde_dynamo::to_attribute_value(from.at).map_err(corrupt)?,
                )
                .send()
                .await,
        )?;
        if moved {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("pk", s(mention_pk(mention)))
                .key("sk", s("OFFER"))
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(moved)
    }

    async fn claim_chain_news(
        &self,
        mention: &MentionId,
        news: ChainNews,
    ) -> Result<bool, StoreError> {
        self.put_new(ChainItem {
            pk: mention_pk(mention),
            sk: format!("CHAIN#{}", news.key()),
        })
        .await
    }
}
