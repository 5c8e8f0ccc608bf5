//! Pages that reach someone, on DynamoDB and SNS (a real moto server) and a
//! loopback End User Messaging voice API: failed SMS page the next tier at
//! once, failing numbers are reported once, voice calls follow the last
//! tier, the chain is told once, and PASS, SNOOZE and TAKE by SMS.

use crate::support;
use crate::three_tiers;

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use earshot::adapters::Deps;
use earshot::adapters::voice::EndUserMessagingVoice;
use earshot::delivery::{DATA_MESSAGE, LogLine, LogsBatch, LogsEvent, delivery_log_line};
use earshot::domain::MentionId;
use earshot::domain::roster::QuietHours;
use earshot::domain::rota::{Handover, Rotation};
use earshot::escalate::EscalationSummary;
use support::Moto;
use support::phone;
use three_tiers::{KIM, LEE, SAM, minutes_after_t0, t0};
use wiremock::matchers::header;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "reach-secret";

struct Stack {
    moto: Moto,
    deps: Deps,
    /// The loopback voice API, when calls are on.
    voice: Option<MockServer>,
    receipts: std::cell::Cell<u32>,
}

async fn start(with_voice: bool) -> Stack {
    let (moto, mut deps) = three_tiers::start("reach").await;
    let voice = if with_voice {
        let server = MockServer::start().await;
        Mock::given(header(
            "x-amz-target",
            "PinpointSMSVoiceV2.SendVoiceMessage",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"MessageId":"voice-1"}"#, "application/x-amz-json-1.0"),
        )
        .mount(&server)
        .await;
        let sdk = support::sdk_config_for(&server.uri()).await;
        deps.follow_through.voice = Some(Arc::new(EndUserMessagingVoice::new(
            aws_sdk_pinpointsmsvoicev2::Client::new(&sdk),
            "+15555550199",
        )));
        Some(server)
    } else {
        None
    };
    Stack {
        moto,
        deps,
        voice,
        receipts: std::cell::Cell::new(0),
    }
}

impl Stack {
    async fn deliver(&self) {
        let body = support::payload("x-urgent-complaint.json");
        let response = support::deliver_x(&self.deps, SECRET, minutes_after_t0(0), body).await;
        assert_eq!(response.status_code, 200, "{}", response.body);
    }

    async fn escalate_at(&self, minutes: i64) -> EscalationSummary {
        three_tiers::escalate_at(&self.deps, minutes).await
    }

    /// `from` texts `body` at `minutes`; returns the answer.
    async fn text(&self, from: &str, body: &str, minutes: i64) -> String {
        let id = format!("in-{from}-{minutes}-{body}");
        let summary = three_tiers::text_at(&self.deps, minutes, from, body, &id).await;
        summary.answers.join(" | ")
    }

    /// `from` texts `body` at `minutes`; the answer must contain `expected`.
    async fn assert_answer(&self, from: &str, body: &str, minutes: i64, expected: &str) {
        let answer = self.text(from, body, minutes).await;
        assert!(
            answer.contains(expected),
            "{from} texted {body:?}, expected {expected:?} in {answer:?}"
        );
    }

    async fn mention(&self) -> MentionId {
        let records = self
            .deps
            .store
            .recent_mentions(t0() - Duration::days(1), t0() + Duration::days(1), 10)
            .await
            .unwrap();
        records
            .into_iter()
            .find(|r| r.alert_code.is_some())
            .expect("an alert")
            .mention
            .id
    }

    fn code(&self) -> String {
        let sms = self.moto.sms_sent();
        let (_, alert) = sms
            .iter()
            .find(|(_, body)| body.contains("Reply ACK"))
            .expect("an alert SMS");
        support::reply_code_of(alert)
    }

    /// The carrier's failure receipt for `message_id` to `to`, through the
    /// delivery function's handler.
    async fn carrier_fails(&self, message_id: &str, to: &str) {
        let n = self.receipts.get() + 1;
        self.receipts.set(n);
        let event = LogsEvent::encode(&LogsBatch {
            message_type: DATA_MESSAGE.into(),
            log_group: "sns/us-east-1/123456789012/DirectPublishToPhoneNumber/Failure".into(),
            log_events: vec![LogLine {
                id: format!("{n}"),
                timestamp: 0,
                message: delivery_log_line(
                    message_id,
                    &phone(to),
                    false,
                    "Phone is currently unreachable/unavailable",
                    t0(),
                    1_000,
                ),
            }],
        });
        let summary = self.deps.delivery_receipts().handle(&event).await.unwrap();
        assert_eq!(summary.failed, 1);
    }

    /// The alert SMS to `to` failed, as its receipt says.
    async fn alert_sms_fails(&self, to: &str) {
        let sent = self
            .deps
            .follow_through
            .receipts
            .alert_sms(&self.mention().await)
            .await
            .unwrap();
        let sms = sent.iter().find(|s| s.phone == phone(to)).expect("sent");
        self.carrier_fails(&sms.message_id, to).await;
    }

    /// Tier 1 rotates weekly between Sam and Lee, Sam first, from the
    /// handover on `(year, month, day)`.
    async fn rotate_sam_and_lee(&self, handover: &str, zone: &str, from: (i32, u32, u32)) {
        let (year, month, day) = from;
        let rotation = Rotation::new(
            1,
            vec![phone(SAM), phone(LEE)],
            Handover::parse(handover).unwrap(),
            zone,
            NaiveDate::from_ymd_opt(year, month, day).unwrap(),
        )
        .unwrap();
        self.deps.rota.put_rotation(&rotation).await.unwrap();
    }

    fn texts_to(&self, to: &str, containing: &str) -> Vec<String> {
        self.moto
            .sms_to(to)
            .into_iter()
            .filter(|body| body.contains(containing))
            .collect()
    }

    fn pages(&self) -> [usize; 3] {
        three_tiers::pages(&self.moto)
    }

    async fn calls_to(&self) -> Vec<String> {
        let Some(server) = &self.voice else {
            return Vec::new();
        };
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|r| {
                let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
                body["DestinationPhoneNumber"].as_str().unwrap().to_owned()
            })
            .collect()
    }
}

#[tokio::test]
async fn a_p1_whose_sms_failed_pages_the_next_tier_within_one_escalate_run() {
    let stack = start(false).await;
    stack.deliver().await;
    assert_eq!(stack.pages(), [1, 0, 0]);
    // A minute in, nothing has failed yet: tier 2 waits its turn.
    assert_eq!(stack.escalate_at(1).await.sms_sent, 0);
    stack.alert_sms_fails(SAM).await;
    let run = stack.escalate_at(2).await;
    assert_eq!((run.failed_over, run.sms_sent), (1, 1));
    assert_eq!(stack.pages(), [1, 1, 0], "Kim paged three minutes early");
    // Tier 3 still waits for its own turn.
    assert_eq!(stack.escalate_at(3).await.sms_sent, 0);
}

#[tokio::test]
async fn a_number_failing_three_times_raises_one_warning_to_tier_one() {
    let stack = start(false).await;
    for n in 0..2 {
        stack.carrier_fails(&format!("kim-{n}"), KIM).await;
    }
    assert_eq!(
        stack.escalate_at(0).await.failing_numbers,
        0,
        "two is not yet a pattern"
    );
    stack.carrier_fails("kim-2", KIM).await;
    assert_eq!(stack.escalate_at(1).await.failing_numbers, 1);
    assert_eq!(stack.escalate_at(2).await.failing_numbers, 0, "once");
    let warnings = stack.texts_to(SAM, "SMS to Kim failed 3 times in a row");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(stack.texts_to(KIM, "failed").is_empty(), "Kim is not told");
    let health = stack
        .deps
        .follow_through
        .receipts
        .phone_health()
        .await
        .unwrap();
    assert_eq!((health[0].failures, health[0].warned), (3, true));
}

#[tokio::test]
async fn a_voice_call_follows_the_last_tier_once_and_a_failed_sms_at_once() {
    let stack = start(true).await;
    stack.deliver().await;
    stack.alert_sms_fails(SAM).await;
    let run = stack.escalate_at(1).await;
    assert_eq!(run.voice_calls, 1);
    assert_eq!(stack.calls_to().await, vec![SAM.to_owned()]);
    stack.escalate_at(10).await;
    assert_eq!(stack.pages(), [1, 1, 1]);
    assert_eq!(
        stack.calls_to().await.len(),
        1,
        "no calls while tiers remain"
    );
    // Fifteen minutes: tier 3 has had its turn and nobody took it.
    assert_eq!(stack.escalate_at(15).await.voice_calls, 2);
    let mut called = stack.calls_to().await;
    called.sort();
    assert_eq!(called, vec![SAM, KIM, LEE]);
    assert_eq!(
        stack.escalate_at(16).await.voice_calls,
        0,
        "each phone once"
    );
}

#[tokio::test]
async fn nobody_is_called_once_someone_acks() {
    let stack = start(true).await;
    stack.deliver().await;
    stack.escalate_at(10).await;
    let code = stack.code();
    stack
        .assert_answer(KIM, &format!("ACK {code}"), 11, "is yours")
        .await;
    let run = stack.escalate_at(15).await;
    assert_eq!((run.open_alerts, run.voice_calls), (0, 0));
    assert!(stack.calls_to().await.is_empty());
}

#[tokio::test]
async fn the_chain_is_told_once_on_ack_and_once_on_done() {
    let stack = start(false).await;
    stack.deliver().await;
    stack.escalate_at(5).await;
    assert_eq!(stack.pages(), [1, 1, 0]);
    let code = stack.code();
    stack.text(SAM, &format!("ACK {code}"), 6).await;
    // A second ACK from Kim finds it taken and tells nobody.
    stack
        .assert_answer(KIM, &format!("ACK {code}"), 7, "already Sam's")
        .await;
    assert_eq!(
        stack.texts_to(KIM, "taken by Sam"),
        vec![format!("{code} taken by Sam. No need to act on it.")]
    );
    stack.text(SAM, &format!("DONE {code}"), 20).await;
    stack.text(SAM, &format!("DONE {code}"), 21).await;
    stack.text(KIM, &format!("NOISE {code}"), 22).await;
    assert_eq!(
        stack.texts_to(KIM, "closed by"),
        vec![format!("{code} closed by Sam.")]
    );
    assert!(
        stack.texts_to(SAM, "taken by").is_empty(),
        "the taker is not told"
    );
    assert!(stack.texts_to(LEE, &code).is_empty(), "Lee was never paged");
}

#[tokio::test]
async fn pass_hands_an_alert_over_only_when_the_other_person_acks() {
    let stack = start(false).await;
    stack.deliver().await;
    let code = stack.code();
    // Only the owner may pass it.
    stack
        .assert_answer(SAM, &format!("PASS {code} Kim"), 1, "Nobody has")
        .await;
    stack.text(SAM, &format!("ACK {code}"), 1).await;
    stack
        .assert_answer(
            SAM,
            &format!("PASS {code} Nobody"),
            2,
            "Nobody called Nobody",
        )
        .await;
    assert_eq!(
        stack
            .deps
            .follow_through
            .handover
            .offer_of(&stack.mention().await)
            .await
            .unwrap(),
        None
    );
    let offered = stack.text(SAM, &format!("PASS {code} kim"), 3).await;
    assert!(
        offered.contains(&format!("{code} offered to Kim")),
        "{offered}"
    );
    assert_eq!(stack.texts_to(KIM, "Sam passes you").len(), 1);
    // Until Kim ACKs it stays Sam's.
    stack
        .assert_answer(LEE, &format!("WHO {code}"), 4, "Sam has it")
        .await;
    stack
        .assert_answer(KIM, &format!("ACK {code}"), 5, "is yours")
        .await;
    stack
        .assert_answer(LEE, &format!("WHO {code}"), 6, "Kim has it")
        .await;
    assert_eq!(stack.texts_to(SAM, "Kim took").len(), 1);
    // Sam no longer holds it to pass again.
    stack
        .assert_answer(SAM, &format!("PASS {code} Lee"), 7, "is Kim's")
        .await;
}

#[tokio::test]
async fn snooze_pauses_reminders_for_its_owner_within_four_hours() {
    let stack = start(false).await;
    stack.deliver().await;
    let code = stack.code();
    stack.text(SAM, &format!("ACK {code}"), 1).await;
    let refused = stack.text(SAM, &format!("SNOOZE {code} 5h"), 2).await;
    assert!(
        refused.contains("at most") || refused.contains("up to 4h"),
        "{refused}"
    );
    stack
        .assert_answer(KIM, &format!("SNOOZE {code} 30m"), 2, "is Sam's")
        .await;
    let snoozed = stack.text(SAM, &format!("SNOOZE {code} 30m"), 2).await;
    assert!(snoozed.contains("no reminder until 10:32 UTC"), "{snoozed}");
    // The reminder comes when the snooze ends, not before.
    assert_eq!(stack.escalate_at(31).await.reminders, 0);
    assert_eq!(stack.escalate_at(32).await.reminders, 1);
}

#[tokio::test]
async fn take_moves_the_shift_and_the_next_alert_pages_the_taker() {
    let stack = start(false).await;
    // Tier 1 rotates between Sam and Lee, Mondays 09:00 London; Sam's week.
    stack
        .rotate_sam_and_lee("Mon 09:00", "Europe/London", (2026, 11, 23))
        .await;
    // Kim has no rota for tier 2: nothing to take.
    stack
        .assert_answer(KIM, "TAKE", -10, "no shift to take")
        .await;
    stack
        .assert_answer(SAM, "TAKE", -10, "already have tier 1")
        .await;
    let taken = stack.text(LEE, "TAKE", -10).await;
    assert_eq!(
        taken,
        "Tier 1 is yours until Mon 30 Nov 09:00 Europe/London."
    );
    assert_eq!(stack.texts_to(SAM, "Lee took your tier 1 shift").len(), 1);
    stack.deliver().await;
    assert_eq!(stack.pages(), [0, 0, 1], "tier 1 is Lee now");
    // Lee is told once what is open on the shift taken.
    assert_eq!(stack.escalate_at(1).await.shift_notices, 1);
    assert_eq!(stack.escalate_at(2).await.shift_notices, 0);
    let notice = stack.texts_to(LEE, "You are on call (tier 1)");
    assert_eq!(notice.len(), 1);
    assert!(
        notice[0].contains(&format!("P1 {}", stack.code())),
        "{notice:?}"
    );
}

#[tokio::test]
async fn a_shift_starting_in_quiet_hours_is_announced_once_they_end() {
    let stack = start(false).await;
    let mut sam = support::on_call("Sam", SAM, 1);
    sam.quiet_hours = Some(QuietHours::parse("09:30-10:30").unwrap());
    stack.deps.roster.put_contact(&sam).await.unwrap();
    // Sam's week starts at t0, 10:00 UTC, inside Sam's quiet hours.
    stack
        .rotate_sam_and_lee("Tue 10:00", "UTC", (2026, 11, 24))
        .await;
    assert_eq!(stack.escalate_at(1).await.shift_notices, 0);
    assert_eq!(stack.escalate_at(29).await.shift_notices, 0);
    assert_eq!(stack.escalate_at(31).await.shift_notices, 1);
    assert_eq!(stack.escalate_at(32).await.shift_notices, 0);
    assert_eq!(stack.texts_to(SAM, "You are on call (tier 1)").len(), 1);
}
