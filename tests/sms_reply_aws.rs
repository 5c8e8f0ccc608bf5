//! Closing the loop on DynamoDB and SNS (a real moto server): a page, then
//! staff replies by SMS.

use crate::support;

use earshot::adapters::Deps;
use earshot::domain::Clock;
use earshot::sms_reply::{ReplySummary, SmsReplies, SnsEvent, SnsMessage, SnsRecord};
use support::{KIM, Moto, SAM};

const SECRET: &str = "loop-secret";

/// moto with Sam and Kim on call, and the SMS-reply handler on it
/// (posting no public replies).
struct Loop {
    moto: Moto,
    deps: Deps,
    replies: SmsReplies,
}

impl Loop {
    async fn start() -> Self {
        let moto = Moto::start();
        let deps = moto.deps("loop").await;
        support::seat_on_call(deps.roster.as_ref(), &[("Sam", SAM, 1), ("Kim", KIM, 1)]).await;
        let replies = support::sms_replies(&deps, Clock::System);
        Self {
            moto,
            deps,
            replies,
        }
    }
}

/// Another post by the author of the urgent sample, some minutes later.
fn follow_up_post(id: &str, minute: u32, text: &str) -> String {
    let mut payload: serde_json::Value =
        serde_json::from_str(&support::payload("x-urgent-complaint.json")).unwrap();
    let tweet = &mut payload["tweet_create_events"][0];
    tweet["id_str"] = id.into();
    tweet["created_at"] = format!("Tue Nov 24 09:{minute:02}:00 +0000 2026").into();
    tweet["truncated"] = false.into();
    tweet["text"] = text.into();
    payload.to_string()
}

impl Loop {
    async fn deliver(&self, payload: &str) {
        self.deliver_body(support::payload(payload)).await;
    }

    async fn deliver_body(&self, body: String) {
        let response = support::deliver_x(&self.deps, SECRET, Clock::System, body).await;
        assert_eq!(response.status_code, 200, "{}", response.body);
    }

    async fn text(&self, from: &str, body: &str, inbound_id: &str) -> ReplySummary {
        support::text(&self.replies, from, body, inbound_id).await
    }

    /// The reply code of the alert the phone last received.
    fn code_sent_to(&self, phone: &str) -> String {
        self.moto.alert_code_sent_to(phone)
    }

    /// The urgent sample pages Sam and Kim with the same alert; its code.
    async fn page_sam_and_kim(&self) -> String {
        self.deliver("x-urgent-complaint.json").await;
        let code = self.code_sent_to(SAM);
        assert_eq!(self.code_sent_to(KIM), code, "one alert, one code");
        code
    }

    fn sms_to(&self, phone: &str) -> Vec<String> {
        self.moto.sms_to(phone)
    }
}

#[tokio::test]
async fn the_first_ack_wins_and_the_second_is_told_who_has_it() {
    let stack = Loop::start().await;
    let code = stack.page_sam_and_kim().await;

    let sam = stack.text(SAM, &format!("ack {code}"), "in-1").await;
    assert_eq!(sam.handled, 1);
    assert!(
        sam.answers[0].starts_with(&format!("{code} is yours.")),
        "{:?}",
        sam.answers
    );
    let kim = stack.text(KIM, &format!("ACK {code}"), "in-2").await;
    assert!(
        kim.answers[0].contains("already Sam's"),
        "{:?}",
        kim.answers
    );

    let who = stack.text(KIM, &format!("WHO {code}"), "in-3").await;
    assert!(who.answers[0].contains("Sam has it"), "{:?}", who.answers);
    let done = stack.text(SAM, &format!("DONE {code}"), "in-4").await;
    assert_eq!(
        done.answers,
        vec![format!("{code} closed. Thank you, Sam.")]
    );

    // Every confirmation went out as an SMS to the person who wrote; Kim,
    // also paged, was told once that Sam took it and once that it closed.
    assert_eq!(stack.sms_to(SAM).len(), 1 + 2);
    assert_eq!(stack.sms_to(KIM).len(), 1 + 2 + 2);
}

#[tokio::test]
async fn someone_who_texted_stop_after_the_page_is_not_told_who_took_it() {
    let stack = Loop::start().await;
    let code = stack.page_sam_and_kim().await;
    stack.text(KIM, "STOP", "in-1").await;
    let kim_before = stack.sms_to(KIM).len();

    stack.text(SAM, &format!("ACK {code}"), "in-2").await;
    stack.text(SAM, &format!("DONE {code}"), "in-3").await;
    assert_eq!(
        stack.sms_to(KIM).len(),
        kim_before,
        "{:?}",
        stack.sms_to(KIM)
    );
}

#[tokio::test]
async fn a_bare_ack_takes_the_latest_alert() {
    let stack = Loop::start().await;
    stack.deliver("x-urgent-complaint.json").await;
    stack.deliver("x-activity-mention.json").await;
    let latest = stack.code_sent_to(SAM);
    let summary = stack.text(SAM, "ack", "in-1").await;
    assert!(
        summary.answers[0].starts_with(&format!("{latest} is yours")),
        "{:?}",
        summary.answers
    );
}

#[tokio::test]
async fn the_same_inbound_sms_delivered_twice_is_handled_once() {
    let stack = Loop::start().await;
    stack.deliver("x-urgent-complaint.json").await;
    let code = stack.code_sent_to(SAM);
    let first = stack.text(SAM, &format!("ACK {code}"), "in-dup").await;
    let again = stack.text(SAM, &format!("ACK {code}"), "in-dup").await;
    assert_eq!((first.handled, again.handled, again.duplicates), (1, 0, 1));
    assert_eq!(stack.sms_to(SAM).len(), 2, "one alert, one confirmation");
}

#[tokio::test]
async fn two_people_acknowledging_at_once_leaves_one_owner() {
    let stack = Loop::start().await;
    stack.deliver("x-urgent-complaint.json").await;
    let code = stack.code_sent_to(SAM);
    let ack = format!("ACK {code}");
    let (sam, kim) = tokio::join!(stack.text(SAM, &ack, "in-a"), stack.text(KIM, &ack, "in-b"));
    let winners = [&sam, &kim]
        .iter()
        .filter(|s| s.answers[0].contains("is yours"))
        .count();
    assert_eq!(winners, 1, "{:?} {:?}", sam.answers, kim.answers);
    let code = earshot::domain::AlertCode::parse(&code).unwrap();
    let mention = stack
        .deps
        .follow_up
        .mention_for_code(&code)
        .await
        .unwrap()
        .unwrap();
    assert!(
        stack
            .deps
            .follow_up
            .owner(&mention)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn strangers_get_no_answer_and_malformed_messages_are_skipped() {
    let stack = Loop::start().await;
    let stranger = stack.text("+15555550199", "ACK", "in-1").await;
    assert_eq!(stranger.unknown_senders, 1);
    assert!(stranger.answers.is_empty());

    let garbled = SnsEvent {
        records: vec![SnsRecord {
            sns: SnsMessage {
                message: "{\"originationNumber\": 12".into(),
            },
        }],
    };
    let summary = stack.replies.handle(&garbled).await.unwrap();
    assert_eq!(summary.malformed, 1);

    let nonsense = stack.text(SAM, "pizza tonight?", "in-2").await;
    assert!(
        nonsense.answers[0].starts_with("Sorry, unknown command"),
        "{:?}",
        nonsense.answers
    );
    assert!(stack.moto.sms_sent().iter().all(|(to, _)| to == SAM));
}

#[tokio::test]
async fn stop_silences_a_phone_until_start() {
    let stack = Loop::start().await;
    let stop = stack.text(KIM, "STOP", "in-1").await;
    assert!(stop.answers.is_empty(), "nothing is sent after STOP");
    stack.deliver("x-urgent-complaint.json").await;
    assert!(stack.sms_to(KIM).is_empty());
    assert_eq!(stack.sms_to(SAM).len(), 1);

    let start = stack.text(KIM, "START", "in-2").await;
    assert_eq!(start.answers.len(), 1);
    stack.deliver("x-activity-mention.json").await;
    assert_eq!(
        stack.sms_to(KIM).len(),
        2,
        "the START confirmation and the new alert"
    );
}

#[tokio::test]
async fn the_owner_hears_when_the_customer_posts_again_until_done() {
    let stack = Loop::start().await;
    stack.deliver("x-urgent-complaint.json").await;
    let code = stack.code_sent_to(SAM);
    stack.text(SAM, &format!("ACK {code}"), "in-1").await;
    let (sam_before, kim_before) = (stack.sms_to(SAM).len(), stack.sms_to(KIM).len());

    // Urgent on its own, but the complaint it continues has an owner.
    stack
        .deliver_body(follow_up_post(
            "1862511734012349001",
            55,
            "@NorthwindAir still stuck on the plane with my kids, two hours, no water and nobody telling us anything. Anyone?",
        ))
        .await;
    let to_sam = stack.sms_to(SAM);
    assert_eq!(
        to_sam.len(),
        sam_before + 1,
        "one SMS for one post: {to_sam:?}"
    );
    assert_eq!(
        stack.sms_to(KIM).len(),
        kim_before,
        "the roster is not paged for a post someone already owns"
    );
    let again = to_sam.last().unwrap();
    assert!(
        again.starts_with(&format!(
            "@dana_rivers posted again (re {code}): \"@NorthwindAir still stuck on the plane"
        )),
        "{again}"
    );
    assert!(
        stack
            .sms_to(KIM)
            .iter()
            .all(|sms| !sms.contains("posted again")),
        "only the owner hears"
    );

    stack.text(SAM, &format!("DONE {code}"), "in-2").await;
    let before = stack.sms_to(SAM).len();
    stack
        .deliver_body(follow_up_post(
            "1862511734012349002",
            59,
            "@NorthwindAir thanks, we are off now",
        ))
        .await;
    assert_eq!(stack.sms_to(SAM).len(), before, "closed alerts stay quiet");
}
