//! Response metrics: how fast urgent complaints were paged, taken, closed
//! and answered in public, per brand and per person; and, from delivery
//! receipts, how often each phone's alert SMS failed and how long the
//! delivered ones took.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::domain::{AlertState, MentionRecord, Voice};
use crate::ports::{FollowUpStore, MentionStore, ReceiptStatus, ReceiptStore, StoreError};

/// Most mentions one report reads.
const REPORT_LIMIT: usize = 100_000;

/// The middle and the slow end of a set of durations, in seconds.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Quantiles {
    pub count: usize,
    pub p50_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
}

impl Quantiles {
    /// Nearest-rank percentiles: every figure is a time that really happened.
    pub fn of(mut seconds: Vec<i64>) -> Self {
        seconds.sort_unstable();
        let rank = |p: usize| -> Option<i64> {
            let n = seconds.len();
            (n > 0).then(|| seconds[(p * n).div_ceil(100).clamp(1, n) - 1])
        };
        Self {
            count: seconds.len(),
            p50_seconds: rank(50),
            p90_seconds: rank(90),
        }
    }
}

/// Times from the customer's post to each step of the response.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct ResponseTimes {
    pub alerts: usize,
    pub to_first_sms: Quantiles,
    pub to_ack: Quantiles,
    pub to_done: Quantiles,
    pub to_brand_reply: Quantiles,
}

#[derive(Default)]
struct Samples {
    alerts: usize,
    first_sms: Vec<i64>,
    ack: Vec<i64>,
    done: Vec<i64>,
    brand_reply: Vec<i64>,
}

impl Samples {
    fn finish(self) -> ResponseTimes {
        ResponseTimes {
            alerts: self.alerts,
            to_first_sms: Quantiles::of(self.first_sms),
            to_ack: Quantiles::of(self.ack),
            to_done: Quantiles::of(self.done),
            to_brand_reply: Quantiles::of(self.brand_reply),
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct ResponseReport {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub by_brand: BTreeMap<String, ResponseTimes>,
    /// Keyed by the name of whoever took (and, for DONE, closed) the alert.
    pub by_person: BTreeMap<String, ResponseTimes>,
    /// Alert SMS per phone (E.164), from delivery receipts.
    pub by_phone: BTreeMap<String, DeliveryStats>,
}

/// How one phone's alert SMS fared.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct DeliveryStats {
    pub sms: usize,
    pub delivered: usize,
    pub failed: usize,
    /// Failed over those with a receipt; none before any receipt.
    pub failure_rate: Option<f64>,
    /// From sending to the carrier's delivery report.
    pub to_delivered: Quantiles,
}

#[derive(Default)]
struct PhoneSamples {
    sms: usize,
    delivered: usize,
    failed: usize,
    to_delivered: Vec<i64>,
}

impl PhoneSamples {
    fn finish(self) -> DeliveryStats {
        let receipted = self.delivered + self.failed;
        DeliveryStats {
            sms: self.sms,
            delivered: self.delivered,
            failed: self.failed,
            failure_rate: (receipted > 0).then(|| self.failed as f64 / receipted as f64),
            to_delivered: Quantiles::of(self.to_delivered),
        }
    }
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).max(Duration::zero()).num_seconds()
}

/// Reads the mentions received in the window (by the `by-day` index) and
/// the follow-ups of those that were paged.
pub async fn response_report(
    store: &dyn MentionStore,
    follow_up: &dyn FollowUpStore,
    receipts: &dyn ReceiptStore,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<ResponseReport, StoreError> {
    let mentions = store.recent_mentions(since, until, REPORT_LIMIT).await?;
    // The brand's first public reply to each post.
    let mut first_reply: HashMap<String, DateTime<Utc>> = HashMap::new();
    for reply in mentions.iter().filter(|r| r.mention.voice == Voice::Brand) {
        if let Some(parent) = &reply.mention.in_reply_to {
            let at = reply.mention.created_at;
            first_reply
                .entry(parent.to_string())
                .and_modify(|t| *t = (*t).min(at))
                .or_insert(at);
        }
    }

    let mut by_brand: BTreeMap<String, Samples> = BTreeMap::new();
    let mut by_person: BTreeMap<String, Samples> = BTreeMap::new();
    let mut by_phone: BTreeMap<String, PhoneSamples> = BTreeMap::new();
    for record in mentions.iter().filter(|r| r.alert_code.is_some()) {
        for sms in receipts.alert_sms(&record.mention.id).await? {
            let phone = by_phone.entry(sms.phone.to_string()).or_default();
            phone.sms += 1;
            match (sms.receipt, sms.receipt_at) {
                (Some(ReceiptStatus::Delivered), Some(at)) => {
                    phone.delivered += 1;
                    phone.to_delivered.push(seconds(sms.sent_at, at));
                }
                (Some(ReceiptStatus::Failed), _) => phone.failed += 1,
                _ => {}
            }
        }
        let posted = record.mention.created_at;
        let brand = by_brand.entry(record.mention.brand.clone()).or_default();
        brand.alerts += 1;
        if let AlertState::Sent { at, .. } = record.alert {
            brand.first_sms.push(seconds(posted, at));
        }
        if let Some(at) = first_reply.get(record.mention.id.as_str()) {
            brand.brand_reply.push(seconds(posted, *at));
        }
        record_follow_ups(record, follow_up, brand, &mut by_person).await?;
    }
    Ok(ResponseReport {
        since: Some(since),
        until: Some(until),
        by_brand: by_brand.into_iter().map(|(k, v)| (k, v.finish())).collect(),
        by_person: by_person
            .into_iter()
            .map(|(k, v)| (k, v.finish()))
            .collect(),
        by_phone: by_phone.into_iter().map(|(k, v)| (k, v.finish())).collect(),
    })
}

async fn record_follow_ups(
    record: &MentionRecord,
    follow_up: &dyn FollowUpStore,
    brand: &mut Samples,
    by_person: &mut BTreeMap<String, Samples>,
) -> Result<(), StoreError> {
    let posted = record.mention.created_at;
    if let Some(owner) = follow_up.owner(&record.mention.id).await? {
        let taken = seconds(posted, owner.at);
        brand.ack.push(taken);
        let person = by_person.entry(owner.name.clone()).or_default();
        person.alerts += 1;
        person.ack.push(taken);
    }
    if let Some(closer) = follow_up.closed(&record.mention.id).await? {
        let closed = seconds(posted, closer.at);
        brand.done.push(closed);
        by_person
            .entry(closer.name.clone())
            .or_default()
            .done
            .push(closed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let q = Quantiles::of(vec![50, 10, 40, 20, 30, 60, 70, 80, 90, 100]);
        assert_eq!(
            (q.count, q.p50_seconds, q.p90_seconds),
            (10, Some(50), Some(90))
        );
        let one = Quantiles::of(vec![7]);
        assert_eq!((one.p50_seconds, one.p90_seconds), (Some(7), Some(7)));
        assert_eq!(Quantiles::of(Vec::new()), Quantiles::default());
    }
}
