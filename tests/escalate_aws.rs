//! Follow-through on DynamoDB and SNS (a real moto server): unacknowledged
//! alerts climb the tiers, an ACK stops them, failed alerts are re-sent.

use crate::fault_proxy::{FaultPlan, FaultProxy};
use crate::support;
use crate::three_tiers;

use std::sync::Arc;

use async_trait::async_trait;
use earshot::adapters::sns::SnsSms;
use earshot::adapters::{Deps, FollowThrough};
use earshot::domain::{MentionId, PhoneNumber};
use earshot::escalate::EscalationSummary;
use earshot::ports::{Marked, PhoneHealth, Receipt, ReceiptStore, SentSms, StoreError};
use earshot::sms_reply::ReplySummary;
use support::Moto;
use three_tiers::{SAM, escalator, minutes_after_t0};

const SECRET: &str = "escalate-secret";

struct Stack {
    moto: Moto,
    deps: Deps,
}

async fn start() -> Stack {
    let (moto, deps) = three_tiers::start("escalate").await;
    Stack { moto, deps }
}

impl Stack {
    async fn deliver_with(&self, deps: &Deps, payload: &str) -> u16 {
        let body = support::payload(payload);
        let clock = minutes_after_t0(0);
        support::deliver_x(deps, SECRET, clock, body)
            .await
            .status_code
    }

    /// How many reminders of alert `code` Sam was sent.
    fn reminders_to_sam(&self, code: &str) -> usize {
        let reminder = format!("Reminder: {code} ");
        let sent = self.moto.sms_to(SAM);
        sent.iter()
            .filter(|body| body.starts_with(&reminder))
            .count()
    }

    /// The urgent sample, delivered and stored.
    async fn urgent_post_arrives(&self) {
        let status = self
            .deliver_with(&self.deps, "x-urgent-complaint.json")
            .await;
        assert_eq!(status, 200);
    }

    async fn escalate_at(&self, minutes: i64) -> EscalationSummary {
        three_tiers::escalate_at(&self.deps, minutes).await
    }

    /// The urgent sample pages Sam, who takes it with ACK two minutes in;
    /// its reply code and the answer to the ACK.
    async fn sam_acks_the_urgent_alert(&self) -> (String, ReplySummary) {
        assert_eq!(
            self.deliver_with(&self.deps, "x-urgent-complaint.json")
                .await,
            200
        );
        let code = self.moto.alert_code_sent_to(SAM);
        let ack = three_tiers::text_at(&self.deps, 2, SAM, &format!("ACK {code}"), "in-1").await;
        (code, ack)
    }

    /// These ports with SNS out of reach.
    async fn unreachable_sns(&self) -> Deps {
        Deps {
            sms: Arc::new(SnsSms::new(
                aws_sdk_sns::Client::new(&support::unreachable_sdk_config().await),
                None,
                None,
            )),
            ..self.deps.clone()
        }
    }

    /// These ports with other SMS caps.
    fn capped(&self, per_phone_hourly: u32, daily: u32) -> Deps {
        Deps {
            limits: earshot::ports::SmsLimits {
                per_phone_hourly,
                daily,
            },
            ..self.deps.clone()
        }
    }

    fn alerts_to(&self, phone: &str) -> usize {
        self.moto
            .sms_to(phone)
            .iter()
            .filter(|body| body.contains("Reply ACK"))
            .count()
    }

    fn summaries_to(&self, phone: &str) -> Vec<String> {
        self.moto
            .sms_to(phone)
            .into_iter()
            .filter(|body| body.starts_with("Held for you"))
            .collect()
    }

    /// The one summary `phone` received (there must be exactly one).
    fn only_summary_to(&self, phone: &str) -> String {
        let summaries = self.summaries_to(phone);
        assert_eq!(summaries.len(), 1, "{summaries:?}");
        summaries[0].clone()
    }

    fn pages(&self) -> [usize; 3] {
        three_tiers::pages(&self.moto)
    }

    /// The last SMS sent, to whom and what it said.
    fn last_sms(&self) -> (String, String) {
        self.moto
            .sms_sent()
            .last()
            .expect("an SMS was sent")
            .clone()
    }
}

#[tokio::test]
async fn an_unacknowledged_alert_climbs_the_tiers_once_each() {
    let stack = start().await;
    stack.urgent_post_arrives().await;
    assert_eq!(stack.pages(), [1, 0, 0], "first responders only");

    assert_eq!(stack.escalate_at(4).await.sms_sent, 0);
    assert_eq!(stack.escalate_at(5).await.sms_sent, 1);
    assert_eq!(stack.pages(), [1, 1, 0], "tier 2 after five minutes");
    assert_eq!(stack.escalate_at(6).await.sms_sent, 0);
    assert_eq!(stack.escalate_at(10).await.sms_sent, 1);
    assert_eq!(stack.pages(), [1, 1, 1], "tier 3 after ten");
    assert_eq!(stack.escalate_at(20).await.sms_sent, 0, "nobody twice");
}

/// A receipt store whose every read and write fails, as a throttled or
/// unreachable table would.
struct UnreadableReceipts;

fn throttled<T>() -> Result<T, StoreError> {
    Err(StoreError::Unavailable("receipts table throttled".into()))
}

#[async_trait]
impl ReceiptStore for UnreadableReceipts {
    async fn record_receipt(&self, _: &Receipt) -> Result<Marked, StoreError> {
        throttled()
    }
    async fn alert_sms(&self, _: &MentionId) -> Result<Vec<SentSms>, StoreError> {
        throttled()
    }
    async fn note_phone_outcome(&self, _: &Receipt) -> Result<PhoneHealth, StoreError> {
        throttled()
    }
    async fn phone_health(&self) -> Result<Vec<PhoneHealth>, StoreError> {
        throttled()
    }
    async fn claim_phone_warning(&self, _: &PhoneNumber) -> Result<bool, StoreError> {
        throttled()
    }
    async fn claim_call(&self, _: &MentionId, _: &PhoneNumber) -> Result<bool, StoreError> {
        throttled()
    }
}

#[tokio::test]
async fn unreadable_receipts_hold_back_no_page_nor_reminder_and_the_run_reports_them() {
    let stack = start().await;
    stack.urgent_post_arrives().await;
    let deps = Deps {
        follow_through: FollowThrough {
            receipts: Arc::new(UnreadableReceipts),
            ..stack.deps.follow_through.clone()
        },
        ..stack.deps.clone()
    };

    // Failover needs the receipts; the tier due is paged without them, and
    // the run's other duties still run before it reports the failure.
    let run = escalator(&deps, 5, 60).run().await;

    assert_eq!(stack.pages(), [1, 1, 0], "tier 2 paged at five minutes");
    let err = run.expect_err("the unreadable receipts are reported");
    assert!(
        err.to_string().contains("receipts table throttled"),
        "{err}"
    );
    // With the receipts back, the next run has nothing left to do.
    assert_eq!(stack.escalate_at(6).await.sms_sent, 0, "nobody twice");

    // Sam takes it; four hours on, the failing-number check (receipts)
    // cannot run, and the owner's reminder goes out all the same.
    let code = stack.moto.alert_code_sent_to(SAM);
    three_tiers::text_at(&stack.deps, 7, SAM, &format!("ACK {code}"), "in-1").await;
    let run = escalator(&deps, 4 * 60 + 8, 60 * 24).run().await;
    assert!(run.is_err(), "the receipts are still unreadable");
    let (to, reminder) = stack.last_sms();
    assert_eq!(to, SAM);
    assert!(
        reminder.starts_with(&format!("Reminder: {code} ")),
        "{reminder}"
    );
}

#[tokio::test]
async fn an_ack_stops_the_climb() {
    let stack = start().await;
    let (_, summary) = stack.sam_acks_the_urgent_alert().await;
    assert!(
        summary.answers[0].contains("is yours"),
        "{:?}",
        summary.answers
    );

    let run = stack.escalate_at(12).await;
    assert_eq!((run.open_alerts, run.sms_sent), (0, 0));
    assert_eq!(stack.pages(), [1, 0, 0]);
}

#[tokio::test]
async fn an_alert_whose_sms_failed_is_sent_by_the_next_run() {
    let stack = start().await;
    let broken = stack.unreachable_sns().await;
    assert_eq!(
        stack.deliver_with(&broken, "x-urgent-complaint.json").await,
        502
    );
    assert_eq!(stack.pages(), [0, 0, 0]);

    // Even if X never retries, the next minute's run finishes the job.
    let run = stack.escalate_at(1).await;
    assert_eq!((run.open_alerts, run.sms_sent), (1, 1));
    assert_eq!(stack.pages(), [1, 0, 0]);
    assert_eq!(stack.escalate_at(2).await.sms_sent, 0);
}

#[tokio::test]
async fn paging_stops_after_the_give_up_time() {
    let stack = start().await;
    stack
        .deliver_with(&stack.deps, "x-urgent-complaint.json")
        .await;
    let run = stack.escalate_at(61).await;
    assert_eq!((run.given_up, run.sms_sent), (1, 0));
    assert_eq!(stack.escalate_at(62).await.open_alerts, 0);
}

#[tokio::test]
async fn an_owner_is_reminded_until_done() {
    let stack = start().await;
    let (code, _) = stack.sam_acks_the_urgent_alert().await;

    assert_eq!(stack.escalate_at(3 * 60).await.reminders, 0, "not yet");
    assert_eq!(stack.escalate_at(4 * 60 + 2).await.reminders, 1);
    let reminder = stack.last_sms();
    assert_eq!(reminder.0, SAM);
    assert!(
        reminder
            .1
            .starts_with(&format!("Reminder: {code} (@dana_rivers) is still open")),
        "{}",
        reminder.1
    );
    assert_eq!(
        stack.escalate_at(4 * 60 + 3).await.reminders,
        0,
        "once per interval"
    );

    three_tiers::text_at(&stack.deps, 5 * 60, SAM, &format!("DONE {code}"), "in-2").await;
    assert_eq!(
        stack.escalate_at(9 * 60).await.reminders,
        0,
        "closed alerts stay quiet"
    );
}

#[tokio::test]
async fn a_reminder_whose_booking_is_refused_is_sent_once_by_the_next_run() {
    let moto = Moto::start();
    let table = support::unique_table("remind-once");
    moto.dynamo_store(&table).await;
    let deps = support::deps_for(&moto.sdk_config().await, &table);
    three_tiers::seat(&deps).await;
    let stack = Stack { moto, deps };
    let (code, _) = stack.sam_acks_the_urgent_alert().await;
    // The escalate runs reach DynamoDB through a proxy that turns down,
    // once and unapplied, the write booking an owner's next reminder (the
    // DynamoDB adapter's book_reminder update).
    let proxy = FaultProxy::start(
        &stack.moto.endpoint,
        FaultPlan::refusing_first_holding("open_since <= :at"),
    )
    .await;
    let proxied = support::deps_for(&support::sdk_config_for(&proxy.endpoint).await, &table);

    let first = escalator(&proxied, 4 * 60 + 2, 60 * 24).run().await;
    assert!(first.is_err(), "the refused booking is reported");
    let mut sent = 0;
    for minutes in [4 * 60 + 3, 4 * 60 + 4] {
        sent += escalator(&proxied, minutes, 60 * 24)
            .run()
            .await
            .unwrap()
            .reminders;
    }

    assert_eq!(sent, 1, "the next run sends it");
    assert_eq!(stack.reminders_to_sam(&code), 1, "one reminder, never two");
}

#[tokio::test]
async fn two_escalate_runs_at_once_send_one_reminder() {
    let stack = start().await;
    let (code, _) = stack.sam_acks_the_urgent_alert().await;
    let (one, other) = (
        escalator(&stack.deps, 4 * 60 + 2, 60 * 24),
        escalator(&stack.deps, 4 * 60 + 2, 60 * 24),
    );

    let (one, other) = tokio::join!(one.run(), other.run());

    assert_eq!(one.unwrap().reminders + other.unwrap().reminders, 1);
    assert_eq!(stack.reminders_to_sam(&code), 1);
}

#[tokio::test]
async fn a_promise_of_contact_brings_the_owners_reminder_forward() {
    let stack = start().await;
    let (code, _) = stack.sam_acks_the_urgent_alert().await;

    // The brand answers at 09:49:12: "...we'll be in touch."
    assert_eq!(
        stack.deliver_with(&stack.deps, "x-brand-reply.json").await,
        200
    );
    assert_eq!(
        stack.escalate_at(107).await.reminders,
        0,
        "11:47: the promise still has time"
    );
    assert_eq!(
        stack.escalate_at(110).await.reminders,
        1,
        "11:50: two hours after the promise"
    );
    let reminder = stack.last_sms();
    assert_eq!(reminder.0, SAM);
    assert!(reminder.1.contains(&code), "{}", reminder.1);
}

#[tokio::test]
async fn someone_in_quiet_hours_who_holds_urgent_alerts_is_skipped_for_the_next_tier() {
    let stack = start().await;
    // t0 is 10:00 UTC: 05:00 in New York, inside Sam's quiet hours.
    let mut sam = support::on_call("Sam", SAM, 1);
    sam.time_zone = Some("America/New_York".into());
    sam.quiet_hours = Some(earshot::domain::roster::QuietHours::parse("22:00-07:00").unwrap());
    sam.p1_in_quiet_hours = false;
    stack.deps.roster.put_contact(&sam).await.unwrap();

    stack
        .deliver_with(&stack.deps, "x-urgent-complaint.json")
        .await;
    assert_eq!(
        stack.pages(),
        [0, 1, 0],
        "tier 2 answers while tier 1 sleeps"
    );

    // 06:30 in New York: still quiet, nothing for Sam.
    assert_eq!(stack.escalate_at(90).await.summaries, 0);
    assert!(stack.summaries_to(SAM).is_empty());
    // 07:00 with SNS unreachable: the summary fails and waits.
    let broken = stack.unreachable_sns().await;
    let failed = escalator(&broken, 120, 60).run().await.unwrap();
    assert_eq!(failed.summaries, 0);
    assert_eq!(
        stack.deps.budget.held().await.unwrap().len(),
        1,
        "still held"
    );
    // Then SNS is back: one summary, and only one.
    let run = stack.escalate_at(120).await;
    assert_eq!(run.summaries, 1);
    assert_eq!(stack.escalate_at(121).await.summaries, 0);
    let summary = stack.only_summary_to(SAM);
    assert!(
        summary.starts_with("Held for you (quiet hours): 1 alert. P1 "),
        "{summary}"
    );
    assert!(summary.contains("@dana_rivers"), "{summary}");
    assert_eq!(
        stack.pages(),
        [0, 1, 0],
        "the alert itself never reaches Sam"
    );
}

#[tokio::test]
async fn a_phone_over_its_hourly_cap_gets_a_summary_next_hour_and_nothing_twice() {
    let stack = start().await;
    let capped = stack.capped(1, 100);
    assert_eq!(
        stack.deliver_with(&capped, "x-urgent-complaint.json").await,
        200
    );
    assert_eq!(
        stack.deliver_with(&capped, "x-activity-mention.json").await,
        200
    );
    assert_eq!(stack.pages(), [1, 0, 0], "Sam's hour holds one SMS");

    // Nobody took the second alert, so the next tier is paged in its turn.
    let escalator = |minutes: i64| escalator(&capped, minutes, 120);
    escalator(5).run().await.unwrap();
    // Kim's hour holds one too: the other alert waits for Kim's summary.
    assert_eq!(stack.pages(), [1, 1, 0]);
    assert!(
        stack.summaries_to(SAM).is_empty(),
        "Sam's hour is still spent"
    );

    // 11:00 UTC: a new hour, one summary each for Sam and Kim.
    let run = escalator(60).run().await.unwrap();
    assert_eq!(run.summaries, 2);
    let summary = stack.only_summary_to(SAM);
    assert!(
        summary.starts_with("Held for you (hourly SMS cap): 1 alert."),
        "{summary}"
    );
    escalator(61).run().await.unwrap();
    assert_eq!(stack.summaries_to(SAM).len(), 1, "summarised once");
    assert_eq!(
        stack.alerts_to(SAM),
        1,
        "the held alert is never sent on its own"
    );
}

#[tokio::test]
async fn the_daily_cap_holds_everything_back() {
    let stack = start().await;
    let capped = stack.capped(10, 1);
    stack.deliver_with(&capped, "x-urgent-complaint.json").await;
    stack.deliver_with(&capped, "x-activity-mention.json").await;
    assert_eq!(stack.moto.sms_sent().len(), 1, "one SMS a day");
}
