//! The delivery function: SNS logs each SMS's delivery status to CloudWatch
//! Logs, and a subscription on those log groups hands batches of lines
//! here. Each receipt marks its alert SMS delivered or failed, with the
//! carrier's reason, and counts towards its phone's run of failures; the
//! escalate run acts on both. A batch delivered twice changes nothing.

use std::collections::HashSet;
use std::io::Read;
use std::sync::Arc;

use base64::Engine;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use tracing::{info, warn};

use crate::domain::PhoneNumber;
use crate::ports::{Marked, Receipt, ReceiptStatus, ReceiptStore, StoreError};

/// What a CloudWatch Logs subscription invokes a function with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsEvent {
    #[serde(rename = "awslogs")]
    pub aws_logs: AwsLogs,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsLogs {
    /// Base64 of the gzipped JSON [`LogsBatch`].
    pub data: String,
}

/// One batch of log lines, once unpacked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogsBatch {
    /// `DATA_MESSAGE` for log lines; `CONTROL_MESSAGE` checks the
    /// subscription works and carries nothing to act on.
    pub message_type: String,
    #[serde(default)]
    pub log_group: String,
    #[serde(default)]
    pub log_events: Vec<LogLine>,
}

pub const DATA_MESSAGE: &str = "DATA_MESSAGE";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub id: String,
    pub timestamp: i64,
    pub message: String,
}

#[derive(Debug, Error)]
pub enum DecodeError {
    #[error("the log data is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("the log data is not gzip: {0}")]
    Gzip(#[from] std::io::Error),
    #[error("the log data is not the expected JSON: {0}")]
    Json(#[from] serde_json::Error),
}

impl LogsEvent {
    /// base64, then gunzip, then JSON.
    pub fn decode(&self) -> Result<LogsBatch, DecodeError> {
        let zipped = base64::engine::general_purpose::STANDARD.decode(self.aws_logs.data.trim())?;
        let mut json = Vec::new();
        flate2::read::GzDecoder::new(zipped.as_slice()).read_to_end(&mut json)?;
        Ok(serde_json::from_slice(&json)?)
    }

    /// Packs a batch the way CloudWatch Logs does: for sample events and
    /// tests.
    pub fn encode(batch: &LogsBatch) -> Self {
        let json = serde_json::to_vec(batch).expect("a batch is plain JSON");
        let mut zipped = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut zipped, &json).expect("writing to memory");
        let zipped = zipped.finish().expect("writing to memory");
        LogsEvent {
            aws_logs: AwsLogs {
                data: base64::engine::general_purpose::STANDARD.encode(zipped),
            },
        }
    }
}

/// One line of SNS's SMS delivery log; only what is read.
#[derive(Debug, Deserialize)]
struct DeliveryLogLine {
    notification: NotificationPart,
    delivery: DeliveryPart,
    status: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NotificationPart {
    message_id: String,
    /// `2026-11-24 10:00:00.558`, UTC, when SNS took the message.
    timestamp: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryPart {
    destination: String,
    #[serde(default)]
    provider_response: String,
    /// From SNS taking the message to the carrier's answer.
    #[serde(default)]
    dwell_time_ms: Option<i64>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ReceiptLineError {
    #[error("not a delivery-status record: {0}")]
    Shape(String),
    #[error("unknown delivery status `{0}`")]
    Status(String),
    #[error("`{0}` is not a time SNS writes")]
    Time(String),
    #[error("the destination is not an E.164 number")]
    Destination,
}

/// Reads one delivery-status line into a receipt. The carrier answered
/// `dwellTimeMs` after SNS took the message.
pub fn parse_receipt(line: &str) -> Result<Receipt, ReceiptLineError> {
    let record: DeliveryLogLine =
        serde_json::from_str(line).map_err(|err| ReceiptLineError::Shape(err.to_string()))?;
    let status = match record.status.as_str() {
        "SUCCESS" => ReceiptStatus::Delivered,
        "FAILURE" => ReceiptStatus::Failed,
        other => return Err(ReceiptLineError::Status(other.to_owned())),
    };
    let taken =
        NaiveDateTime::parse_from_str(&record.notification.timestamp, "%Y-%m-%d %H:%M:%S%.f")
            .map_err(|_| ReceiptLineError::Time(record.notification.timestamp.clone()))?
            .and_utc();
    let phone = PhoneNumber::parse(record.delivery.destination.trim())
        .map_err(|_| ReceiptLineError::Destination)?;
    Ok(Receipt {
        message_id: record.notification.message_id,
        phone,
        status,
        reason: record.delivery.provider_response,
        at: taken + Duration::milliseconds(record.delivery.dwell_time_ms.unwrap_or(0).max(0)),
    })
}

#[derive(Debug, Error)]
pub enum DeliveryFailure {
    /// Storage was unavailable: retrying the batch may help, and receipts
    /// already stored count once.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DeliveryFailure {
    /// Whether invoking again with the same batch may help.
    pub fn is_retryable(&self) -> bool {
        match self {
            DeliveryFailure::Store(err) => err.is_retryable(),
        }
    }
}

/// What one invocation did, for logs.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct DeliverySummary {
    pub lines: usize,
    pub delivered: usize,
    pub failed: usize,
    /// Lines already handled (a repeated log event or batch).
    pub repeats: usize,
    /// Receipts of SMS that were not alerts (reminders, summaries).
    pub not_alerts: usize,
    /// Batches or lines that could not be read; retrying cannot help.
    pub unreadable: usize,
    /// Receipts the store refused to record; retrying cannot help either.
    pub refused: usize,
}

pub struct DeliveryReceipts {
    pub receipts: Arc<dyn ReceiptStore>,
}

impl DeliveryReceipts {
    pub fn new(receipts: Arc<dyn ReceiptStore>) -> Self {
        Self { receipts }
    }

    pub async fn handle(&self, event: &LogsEvent) -> Result<DeliverySummary, DeliveryFailure> {
        let mut summary = DeliverySummary::default();
        let batch = match event.decode() {
            Ok(batch) => batch,
            Err(err) => {
                warn!(error = %err, "delivery-status event could not be unpacked");
                summary.unreadable += 1;
                return Ok(summary);
            }
        };
        if batch.message_type != DATA_MESSAGE {
            info!(message_type = %batch.message_type, "not a data message; nothing to do");
            return Ok(summary);
        }
        let mut seen = HashSet::new();
        for line in &batch.log_events {
            summary.lines += 1;
            if !seen.insert(line.id.as_str()) {
                summary.repeats += 1;
                continue;
            }
            match self.handle_line(line, &mut summary).await {
                Ok(()) => {}
                // Retrying the batch would be refused the same way and hold
                // back the lines after it.
                Err(DeliveryFailure::Store(err)) if !err.is_retryable() => {
                    warn!(log_event = %line.id, error = %err, "receipt refused by the store; skipped");
                    summary.refused += 1;
                }
                Err(err) => return Err(err),
            }
        }
        info!(log_group = %batch.log_group, ?summary, "delivery receipts handled");
        Ok(summary)
    }

    async fn handle_line(
        &self,
        line: &LogLine,
        summary: &mut DeliverySummary,
    ) -> Result<(), DeliveryFailure> {
        let receipt = match parse_receipt(&line.message) {
            Ok(receipt) => receipt,
            Err(err) => {
                warn!(log_event = %line.id, error = %err, "delivery-status line not understood");
                summary.unreadable += 1;
                return Ok(());
            }
        };
        let alert = match self.receipts.record_receipt(&receipt).await? {
            Marked::Repeat => {
                summary.repeats += 1;
                return Ok(());
            }
            Marked::First { alert } => alert,
        };
        let health = self.receipts.note_phone_outcome(&receipt).await?;
        match receipt.status {
            ReceiptStatus::Delivered => summary.delivered += 1,
            ReceiptStatus::Failed => {
                summary.failed += 1;
                warn!(
                    phone = %receipt.phone.masked(),
                    reason = %receipt.reason,
                    failures_in_a_row = health.failures,
                    mention = alert.as_ref().map(|a| a.mention.to_string()),
                    "SMS not delivered"
                );
            }
        }
        if alert.is_none() {
            summary.not_alerts += 1;
        }
        Ok(())
    }
}

/// A delivery-status line as SNS writes it, for sample events and tests.
pub fn delivery_log_line(
    message_id: &str,
    to: &PhoneNumber,
    delivered: bool,
    reason: &str,
    taken: DateTime<Utc>,
    dwell_ms: i64,
) -> String {
    let mut delivery = serde_json::json!({
        "destination": to.as_str(),
        "smsType": "Transactional",
        "priceInUSD": 0.00645,
        "providerResponse": reason,
        "dwellTimeMs": dwell_ms,
    });
    if delivered {
        delivery["mcc"] = 310.into();
        delivery["mnc"] = 270.into();
    } else {
        delivery["mcc"] = 0.into();
        delivery["mnc"] = 0.into();
    }
    serde_json::json!({
        "notification": {
            "messageId": message_id,
            "timestamp": taken.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
        },
        "delivery": delivery,
        "status": if delivered { "SUCCESS" } else { "FAILURE" },
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::MentionId;
    use crate::ports::{PhoneHealth, SentSms};

    /// Refuses the receipt of message `refused`, is down for message
    /// `down`, and takes every other.
    struct PickyReceipts;

    #[async_trait::async_trait]
    impl ReceiptStore for PickyReceipts {
        async fn record_receipt(&self, receipt: &Receipt) -> Result<Marked, StoreError> {
            match receipt.message_id.as_str() {
                "refused" => Err(StoreError::Rejected("ValidationException".into())),
                "down" => Err(StoreError::Unavailable("timeout".into())),
                _ => Ok(Marked::First { alert: None }),
            }
        }
        async fn note_phone_outcome(&self, receipt: &Receipt) -> Result<PhoneHealth, StoreError> {
            Ok(PhoneHealth {
                phone: receipt.phone.clone(),
                failures: 0,
                last_reason: None,
                last_at: receipt.at,
                warned: false,
            })
        }
        async fn alert_sms(&self, _: &MentionId) -> Result<Vec<SentSms>, StoreError> {
            unreachable!("receipts are only recorded here")
        }
        async fn phone_health(&self) -> Result<Vec<PhoneHealth>, StoreError> {
            unreachable!("receipts are only recorded here")
        }
        async fn claim_phone_warning(&self, _: &PhoneNumber) -> Result<bool, StoreError> {
            unreachable!("receipts are only recorded here")
        }
        async fn claim_call(&self, _: &MentionId, _: &PhoneNumber) -> Result<bool, StoreError> {
            unreachable!("receipts are only recorded here")
        }
    }

    fn batch_of(message_ids: &[&str]) -> LogsEvent {
        let taken = "2026-11-24T10:00:00Z".parse().unwrap();
        LogsEvent::encode(&LogsBatch {
            message_type: DATA_MESSAGE.into(),
            log_group: "sns/us-east-1/123456789012/DirectPublishToPhoneNumber".into(),
            log_events: message_ids
                .iter()
                .enumerate()
                .map(|(n, id)| LogLine {
                    id: n.to_string(),
                    timestamp: 0,
                    message: delivery_log_line(id, &phone(), true, "accepted", taken, 1_000),
                })
                .collect(),
        })
    }

    #[tokio::test]
    async fn a_refused_receipt_is_skipped_and_the_rest_of_the_batch_recorded() {
        let handler = DeliveryReceipts {
            receipts: Arc::new(PickyReceipts),
        };
        let summary = handler
            .handle(&batch_of(&["refused", "fine"]))
            .await
            .expect("a refusal is not worth a retry");
        assert_eq!((summary.refused, summary.delivered), (1, 1));
    }

    #[tokio::test]
    async fn a_store_outage_fails_the_batch_so_it_is_delivered_again() {
        let handler = DeliveryReceipts {
            receipts: Arc::new(PickyReceipts),
        };
        let Err(err) = handler.handle(&batch_of(&["down", "fine"])).await else {
            panic!("an outage was swallowed");
        };
        assert!(err.is_retryable());
    }

    fn phone() -> PhoneNumber {
        PhoneNumber::parse("+15555550100").unwrap()
    }

    #[test]
    fn a_failure_line_reads_as_a_failed_receipt_with_the_carriers_reason() {
        let line = r#"{"notification":{"messageId":"a1b2","timestamp":"2026-11-24 10:00:00.250"},
            "delivery":{"destination":"+15555550100","smsType":"Transactional","priceInUSD":0.0,
            "mcc":0,"mnc":0,"providerResponse":"Phone is currently unreachable/unavailable",
            "dwellTimeMs":1750},"status":"FAILURE"}"#;
        assert_eq!(
            parse_receipt(line).unwrap(),
            Receipt {
                message_id: "a1b2".into(),
                phone: phone(),
                status: ReceiptStatus::Failed,
                reason: "Phone is currently unreachable/unavailable".into(),
                at: "2026-11-24T10:00:02Z".parse().unwrap(),
            }
        );
    }

    #[test]
    fn lines_that_are_not_receipts_say_why() {
        assert!(matches!(
            parse_receipt("CWL CONTROL MESSAGE: Checking health of destination"),
            Err(ReceiptLineError::Shape(_))
        ));
        let line = |status: &str, time: &str, to: &str| {
            format!(
                r#"{{"notification":{{"messageId":"m","timestamp":"{time}"}},"delivery":{{"destination":"{to}"}},"status":"{status}"}}"#
            )
        };
        assert_eq!(
            parse_receipt(&line("PENDING", "2026-11-24 10:00:00.000", "+15555550100")),
            Err(ReceiptLineError::Status("PENDING".into()))
        );
        assert_eq!(
            parse_receipt(&line("SUCCESS", "yesterday", "+15555550100")),
            Err(ReceiptLineError::Time("yesterday".into()))
        );
        assert_eq!(
            parse_receipt(&line("SUCCESS", "2026-11-24 10:00:00.000", "555")),
            Err(ReceiptLineError::Destination)
        );
    }

    #[test]
    fn an_event_packs_and_unpacks_as_cloudwatch_logs_sends_it() {
        let taken = "2026-11-24T10:00:00Z".parse().unwrap();
        let batch = LogsBatch {
            message_type: DATA_MESSAGE.into(),
            log_group: "sns/us-east-1/123456789012/DirectPublishToPhoneNumber".into(),
            log_events: vec![LogLine {
                id: "3659".into(),
                timestamp: 1_795_000_000_000,
                message: delivery_log_line(
                    "m1",
                    &phone(),
                    true,
                    "Message has been accepted by phone",
                    taken,
                    900,
                ),
            }],
        };
        let event = LogsEvent::encode(&batch);
        // What arrives is base64 of gzip: it starts with gzip's magic bytes.
        assert!(event.aws_logs.data.starts_with("H4sI"));
        assert_eq!(event.decode().unwrap(), batch);
        let receipt = parse_receipt(&batch.log_events[0].message).unwrap();
        assert_eq!(receipt.status, ReceiptStatus::Delivered);
        assert_eq!(
            receipt.at,
            "2026-11-24T10:00:00.900Z".parse::<DateTime<Utc>>().unwrap()
        );
        let garbled = LogsEvent {
            aws_logs: AwsLogs {
                data: "not base64!".into(),
            },
        };
        assert!(matches!(garbled.decode(), Err(DecodeError::Base64(_))));
    }
}
