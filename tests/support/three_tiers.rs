//! Three people on call, one a tier, on DynamoDB and SNS (a real moto
//! server), with the clock counted in minutes from t0: the stack the
//! escalation and reach tests page through.
// Each suite that uses it takes a different part.
#![allow(dead_code)]

use chrono::{DateTime, Duration, Utc};
use earshot::adapters::Deps;
use earshot::config::FunctionBudget;
use earshot::domain::Clock;
use earshot::escalate::{EscalationSummary, Escalator};
use earshot::sms_reply::ReplySummary;

use crate::support::{self, Moto};

/// Sam is on tier 1, Kim on tier 2, Lee on tier 3.
pub use crate::support::{KIM, LEE, SAM};

/// 10:00 UTC on a Tuesday.
pub fn t0() -> DateTime<Utc> {
    "2026-11-24T10:00:00Z".parse().unwrap()
}

pub fn minutes_after_t0(minutes: i64) -> Clock {
    Clock::Fixed(t0() + Duration::minutes(minutes))
}

/// A moto server and every port on a fresh table (named after
/// `table_prefix`), with Sam, Kim and Lee on tiers 1, 2 and 3.
pub async fn start(table_prefix: &str) -> (Moto, Deps) {
    let moto = Moto::start();
    let deps = moto.deps(table_prefix).await;
    seat(&deps).await;
    (moto, deps)
}

/// Sam, Kim and Lee on tiers 1, 2 and 3 of `deps`.
pub async fn seat(deps: &Deps) {
    support::seat_on_call(
        deps.roster.as_ref(),
        &[("Sam", SAM, 1), ("Kim", KIM, 2), ("Lee", LEE, 3)],
    )
    .await;
}

/// The escalation run `minutes` after t0 on `deps`, paging a tier every
/// five minutes, giving up after `give_up_minutes` and reminding owners
/// after four hours.
pub fn escalator(deps: &Deps, minutes: i64, give_up_minutes: i64) -> Escalator {
    Escalator {
        pager: deps.pager(minutes_after_t0(minutes), FunctionBudget::Escalate),
        reach: deps.reach(),
        step: Duration::minutes(5),
        give_up_after: Duration::minutes(give_up_minutes),
        remind_after: Duration::hours(4),
    }
}

/// The escalation run `minutes` after t0, giving up after an hour.
pub async fn escalate_at(deps: &Deps, minutes: i64) -> EscalationSummary {
    escalator(deps, minutes, 60).run().await.unwrap()
}

/// `from` texts `body` `minutes` after t0, as inbound message `inbound_id`.
pub async fn text_at(
    deps: &Deps,
    minutes: i64,
    from: &str,
    body: &str,
    inbound_id: &str,
) -> ReplySummary {
    let replies = support::sms_replies(deps, minutes_after_t0(minutes));
    support::text(&replies, from, body, inbound_id).await
}

/// The alert SMS that each tier's person received, counted as
/// `[Sam, Kim, Lee]`.
pub fn pages(moto: &Moto) -> [usize; 3] {
    [SAM, KIM, LEE].map(|phone| {
        moto.sms_to(phone)
            .iter()
            .filter(|body| body.contains("Reply ACK"))
            .count()
    })
}
