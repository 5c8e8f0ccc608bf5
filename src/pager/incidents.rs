//! Bursts: where an urgent post stands among the brand's recent similar
//! urgent posts, so that a flood pages once as an incident. Judged against
//! the brand's burst log: one read and one write, whatever the traffic.

use tracing::warn;

use super::Pager;
use crate::domain::Mention;
pub use crate::domain::incident::Burst;
use crate::domain::incident::{INCIDENT_WINDOW, topic_words};
use crate::ports::StoreError;

/// Writers racing for one brand's log at once: past this many, the post
/// pages on its own rather than wait.
const LOG_TRIES: usize = 5;

impl Pager {
    /// Alone, the one that makes (or updates) an incident, or one more
    /// folded into it. A retry of the same post gets the same answer.
    pub async fn burst_of(
        &self,
        mention: &Mention,
        reasons: &[String],
    ) -> Result<Burst, StoreError> {
        let now = self.clock.now();
        let words = topic_words(&mention.text, &mention.brand);
        for _ in 0..LOG_TRIES {
            let mut read = self.bursts.burst_log(&mention.brand).await?;
            // Admitted already, by an earlier attempt whose answer was lost.
            if let Some(burst) = read.log.verdict_of(&mention.id) {
                return Ok(burst.clone());
            }
            let burst = read.log.admit(&mention.id, now, words.clone(), reasons);
            let expires = now + INCIDENT_WINDOW * 2;
            if self
                .bursts
                .save_burst_log(&mention.brand, &read, expires)
                .await?
            {
                return Ok(burst);
            }
        }
        // Paging one post too many beats holding an urgent one back.
        warn!(brand = %mention.brand, "burst log busy; the post pages on its own");
        Ok(Burst::Alone)
    }
}
