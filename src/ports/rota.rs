//! Where the rota is kept: each tier's rotation, the one-off overrides and
//! which shifts have been announced to the person taking them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::rota::{Rota, RotaOverride, Rotation, Shift};

#[async_trait]
pub trait RotaStore: Send + Sync {
    /// Sets the tier's rotation, replacing any it had.
    async fn put_rotation(&self, rotation: &Rotation) -> Result<(), StoreError>;

    /// True if the tier had a rotation.
    async fn remove_rotation(&self, tier: u8) -> Result<bool, StoreError>;

    /// Stores an override; false (and nothing changed) if one with its id
    /// is already stored.
    async fn add_override(&self, cover: &RotaOverride) -> Result<bool, StoreError>;

    /// True if the override was stored.
    async fn remove_override(&self, id: &str) -> Result<bool, StoreError>;

    /// Every rotation by tier, and the overrides not yet over at `now`
    /// by start.
    async fn rota(&self, now: DateTime<Utc>) -> Result<Rota, StoreError>;

    /// True the first time for this shift (tier, person, start): the
    /// person coming on shift is told once.
    async fn claim_shift_notice(&self, shift: &Shift) -> Result<bool, StoreError>;
}
