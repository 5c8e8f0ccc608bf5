//! Bursts: where an urgent post stands among the brand's recent similar
//! urgent posts, so that a flood pages once as an incident.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::Pager;
pub use crate::domain::incident::Burst;
use crate::domain::incident::{INCIDENT_WINDOW, classify, similar, topic_words};
use crate::domain::{Mention, MentionId, Priority};
use crate::ports::StoreError;

/// Recent mentions read to spot a burst; a busier window is an incident
/// already, whatever its exact count.
const BURST_LIMIT: usize = 500;

impl Pager {
    /// Alone, the one that makes (or updates) an incident, or one more
    /// folded into it.
    pub async fn burst_of(
        &self,
        mention: &Mention,
        reasons: &[String],
    ) -> Result<Burst, StoreError> {
        let now = self.clock.now();
        let recent = self
            .store
            .recent_mentions(now - INCIDENT_WINDOW, now, BURST_LIMIT)
            .await?;
        let words = topic_words(&mention.text, &mention.brand);
        let mut shared: Option<BTreeSet<String>> = None;
        let mut earlier: Vec<(&MentionId, DateTime<Utc>)> = Vec::new();
        for record in &recent {
            let Some(assessment) = &record.assessment else {
                continue;
            };
            let other = &record.mention;
            if other.id == mention.id
                || other.brand != mention.brand
                || assessment.priority != Priority::P1
            {
                continue;
            }
            let other_words = topic_words(&other.text, &other.brand);
            if similar(&words, reasons, &other_words, &assessment.reasons) {
                let common: BTreeSet<String> = words.intersection(&other_words).cloned().collect();
                shared = Some(match shared {
                    Some(so_far) => so_far.intersection(&common).cloned().collect(),
                    None => common,
                });
                earlier.push((&other.id, other.received_at));
            }
        }
        earlier.sort_by_key(|(_, at)| *at);
        Ok(classify(
            &earlier,
            shared.unwrap_or_default().into_iter().collect(),
        ))
    }
}
