//! The rota on DynamoDB.
//!
//! | item                 | pk                               | sk                 |
//! |----------------------|----------------------------------|--------------------|
//! | a tier's rotation    | `ROTA`                           | `ROTATION#<tier>`  |
//! | a one-off override   | `ROTA`                           | `OVERRIDE#<id>`    |
//! | a shift announced    | `SHIFT#<tier>#<start>#<phone>`   | `NOTICE`           |
//!
//! The rota is one small partition read whole; overrides and notices
//! expire a month after their shift ends.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{DynamoStore, sort_key};
use crate::domain::rota::{Rota, RotaOverride, Rotation, Shift};
use crate::ports::{RotaStore, StoreError};

const ROTA_PK: &str = "ROTA";
/// Ended shifts and overrides are kept this long for `earshot rota list`
/// and reports, then expire.
const KEEP_AFTER_END: Duration = Duration::days(30);

#[derive(Serialize, Deserialize)]
struct RotaItem {
    pk: String,
    sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rotation: Option<Rotation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cover: Option<RotaOverride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

#[derive(Serialize)]
struct NoticeItem {
    pk: String,
    sk: &'static str,
    expires_at: i64,
}

fn rotation_sk(tier: u8) -> String {
    format!("ROTATION#{tier}")
}

fn override_sk(id: &str) -> String {
    format!("OVERRIDE#{id}")
}

#[async_trait]
impl RotaStore for DynamoStore {
    async fn put_rotation(&self, rotation: &Rotation) -> Result<(), StoreError> {
        self.put(RotaItem {
            pk: ROTA_PK.into(),
            sk: rotation_sk(rotation.tier),
            rotation: Some(rotation.clone()),
            cover: None,
            expires_at: None,
        })
        .await
    }

    async fn remove_rotation(&self, tier: u8) -> Result<bool, StoreError> {
        self.delete(ROTA_PK, rotation_sk(tier)).await
    }

    async fn add_override(&self, cover: &RotaOverride) -> Result<bool, StoreError> {
        self.put_new(RotaItem {
            pk: ROTA_PK.into(),
            sk: override_sk(&cover.id),
            rotation: None,
            cover: Some(cover.clone()),
            expires_at: Some((cover.ends + KEEP_AFTER_END).timestamp()),
        })
        .await
    }

    async fn remove_override(&self, id: &str) -> Result<bool, StoreError> {
        self.delete(ROTA_PK, override_sk(id)).await
    }

    async fn rota(&self, now: DateTime<Utc>) -> Result<Rota, StoreError> {
        let items: Vec<RotaItem> = self.partition(ROTA_PK).await?;
        let mut rota = Rota::default();
        for item in items {
            rota.rotations.extend(item.rotation);
            // TTL removes items late: an ended override is skipped here.
            rota.overrides.extend(item.cover.filter(|c| c.ends > now));
        }
        rota.rotations.sort_by_key(|r| r.tier);
        rota.overrides
            .sort_by(|a, b| (a.starts, &a.id).cmp(&(b.starts, &b.id)));
        Ok(rota)
    }

    async fn claim_shift_notice(&self, shift: &Shift) -> Result<bool, StoreError> {
        self.put_new(NoticeItem {
            pk: format!(
                "SHIFT#{}#{}#{}",
                shift.tier,
                sort_key(shift.starts),
                shift.phone
            ),
            sk: "NOTICE",
            expires_at: (shift.ends + KEEP_AFTER_END).timestamp(),
        })
        .await
    }
}
