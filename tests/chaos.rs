//! Earshot under AWS faults. Every DynamoDB and SNS call goes through a
//! fault-injecting proxy in front of moto (tests/support/fault_proxy.rs):
//! 500s, throttling, timeouts and dropped connections, before moto sees the
//! call or after it applied it. Deliveries arrive as X sends them (a
//! non-2xx answer is delivered again, a few times), then the escalate
//! schedule runs once a minute. The promises:
//!
//! - no mention is lost;
//! - every urgent page is out within three escalate runs of the delivery
//!   (a fault on the first attempt is recovered by the next run; a run
//!   whose own reads fail is recovered by the one after), never only after
//!   a lease;
//! - a page goes out twice only when SNS accepted a Publish whose answer
//!   was lost, never through Earshot's own retries.
//!
//! Time is scaled down so a run stays short: the SDK retries after a few
//! milliseconds instead of a second, and a timed-out call is held for
//! `HOLD` and then closed unanswered, which is what a client's own attempt
//! timeout leaves it with. The clients set no attempt timeout of their own:
//! a slow emulator must not pass for a fault. `cargo test --test integration
//! chaos:: -- --nocapture` prints each rate's figures as a table row.

use crate::fault_proxy;
use crate::support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration as StdDuration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use chrono::{DateTime, Duration, Utc};
use earshot::adapters::Deps;
use earshot::config::FunctionBudget;
use earshot::config::Secret;
use earshot::domain::Clock;
use earshot::domain::{MentionId, Platform, Priority};
use earshot::escalate::Escalator;
use earshot::ports::{MentionStore, SmsLimits};
use earshot::webhook::{Webhook, WebhookSecrets};
use fault_proxy::{FaultPlan, FaultProxy, ProxyStats};
use support::Moto;

const SECRET: &str = "chaos-consumer-secret";
const TIER_ONE: [&str; 2] = ["+15555550140", "+15555550141"];
/// Deliveries per run; every third one is urgent.
const DELIVERIES: usize = 48;
const URGENT_EVERY: usize = 3;
/// X's first delivery and its retries of a non-2xx answer.
const X_ATTEMPTS: usize = 4;
/// Deliveries in flight at once.
const CONCURRENCY: usize = 4;
/// How long a timed-out call hangs before the proxy closes it.
const HOLD: StdDuration = StdDuration::from_millis(300);
/// Escalate runs, in minutes after the deliveries: the next run, two more,
/// then one after the 15-minute delivery lease. Tier 1 only is on the
/// roster, so later runs can only send what earlier ones missed.
const ESCALATE_AT: [i64; 4] = [1, 2, 3, 16];

fn t0() -> DateTime<Utc> {
    "2026-11-24T10:00:00Z".parse().unwrap()
}

/// One delivery: its own brand account and author, so no post folds into
/// another's incident or counts as someone's second post.
struct Post {
    id: MentionId,
    handle: String,
    urgent: bool,
    body: String,
}

fn post(index: usize) -> Post {
    let urgent = index.is_multiple_of(URGENT_EVERY);
    let brand = format!("Brand{index:04}");
    let handle = format!("rider{index:04}");
    let post_id = format!("18625117340{index:08}");
    let account_id = format!("15970000000{index:08}");
    let (text, followers) = if urgent {
        (
            format!(
                "@{brand} we have been stuck on the tarmac at gate B12 for over an hour with two kids and no water. Nobody is telling us anything. Flight NW418."
            ),
            45_210,
        )
    } else {
        (
            format!(
                "Still no refund from @{brand} for the flight they cancelled in September. Getting old."
            ),
            318,
        )
    };
    let body = serde_json::json!({
        "for_user_id": account_id,
        "tweet_create_events": [{
            "created_at": "Tue Nov 24 09:59:00 +0000 2026",
            "id_str": post_id,
            "text": text,
            "truncated": false,
            "user": {
                "id_str": format!("73120000000{index:08}"),
                "screen_name": handle,
                "followers_count": followers
            },
            "entities": {"user_mentions": [{"id_str": account_id, "screen_name": brand}]}
        }]
    });
    Post {
        id: MentionId::new(Platform::X, &post_id),
        handle,
        urgent,
        body: body.to_string(),
    }
}

/// Where the run's pages and posts ended up.
#[derive(Debug, Default)]
struct Figures {
    per_mille: u32,
    urgent: usize,
    /// Urgent posts times tier-1 phones.
    pages_due: usize,
    /// Deliveries X gave up on (every attempt answered non-2xx).
    x_gave_up: usize,
    /// Posts not stored at the end.
    lost: Vec<MentionId>,
    /// Pages out by the first escalate run after the deliveries.
    on_time: usize,
    /// Out by the third run (three minutes).
    by_third_run: usize,
    /// Out only once the delivery lease had run out.
    after_lease: usize,
    never: usize,
    /// (phone, post) pairs paged more than once, and the extra SMS.
    paged_twice: usize,
    extra_sms: usize,
    /// Extra SMS that no lost Publish answer explains.
    unexplained_extra_sms: usize,
    escalate_runs_failed: usize,
    proxy: ProxyStats,
}

impl Figures {
    fn row(&self) -> String {
        format!(
            "| {}% | {} / {} | {} / {} | {} | {} | {} | {} ({} SMS) | {} | {} | {} / {} calls | {} |",
            f64::from(self.per_mille) / 10.0,
            self.on_time,
            self.pages_due,
            self.by_third_run,
            self.pages_due,
            self.after_lease,
            self.never,
            self.lost.len(),
            self.paged_twice,
            self.extra_sms,
            self.proxy.lost_publishes.len(),
            self.unexplained_extra_sms,
            self.proxy.faults_injected(),
            self.proxy.calls,
            self.escalate_runs_failed,
        )
    }

    fn assert_promises_kept(&self) {
        let table = format!(
            "| faults | on time (1st escalate run) | by 3rd run | only after the lease | never | mentions lost | pages sent twice | lost Publish answers | unexplained duplicates | faults injected | escalate runs failed |\n{}",
            self.row()
        );
        assert!(
            self.lost.is_empty(),
            "mentions lost: {:?}\n{table}",
            self.lost
        );
        assert_eq!(
            self.by_third_run, self.pages_due,
            "urgent pages late\n{table}"
        );
        assert_eq!(
            self.unexplained_extra_sms, 0,
            "pages doubled by Earshot itself\n{table}"
        );
    }
}

/// The test's SDK settings: the SDK's standard retries (three attempts)
/// with a short backoff, and no timeout a busy emulator could reach.
async fn sdk_through(proxy: &FaultProxy) -> aws_config::SdkConfig {
    support::sdk_config_with(
        &proxy.endpoint,
        RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(StdDuration::from_millis(5)),
        TimeoutConfig::builder()
            .operation_timeout(StdDuration::from_secs(120))
            .build(),
    )
    .await
}

/// Every port through `sdk`, with SMS caps too high to matter here.
fn deps_through(sdk: &aws_config::SdkConfig, table: &str) -> Deps {
    Deps {
        limits: SmsLimits {
            per_phone_hourly: 100_000,
            daily: 100_000,
        },
        ..support::deps_for(sdk, table)
    }
}

/// Delivers like X: again after any non-2xx answer, up to `X_ATTEMPTS`
/// times. Whether a 2xx came back in the end.
async fn deliver_like_x(webhook: &Webhook, body: &str) -> bool {
    let request = support::signed_x_delivery(SECRET, body.to_owned());
    for _ in 0..X_ATTEMPTS {
        if (200..300).contains(&webhook.handle(&request).await.status_code) {
            return true;
        }
    }
    false
}

/// Which (phone, post handle) pairs got how many pages.
fn pages_by_pair(moto: &Moto, posts: &[Post]) -> BTreeMap<(String, String), usize> {
    let mut pages = BTreeMap::new();
    for (phone, message) in moto.sms_sent() {
        if let Some(post) = posts
            .iter()
            .find(|p| message.contains(&format!("@{} ", p.handle)))
        {
            *pages.entry((phone, post.handle.clone())).or_default() += 1;
        }
    }
    pages
}

async fn chaos(per_mille: u32, seed: u64) -> Figures {
    let moto = Moto::start();
    let table = support::unique_table("chaos");
    // Set-up and the final reading go straight to moto.
    let direct = moto.dynamo_store(&table).await;
    support::seat_on_call(&direct, &[("Sam", TIER_ONE[0], 1), ("Kim", TIER_ONE[1], 1)]).await;
    let proxy = FaultProxy::start(
        &moto.endpoint,
        FaultPlan {
            per_mille,
            seed,
            hold: HOLD,
            ..FaultPlan::pass_through()
        },
    )
    .await;
    let deps = deps_through(&sdk_through(&proxy).await, &table);
    let webhook = Arc::new(
        Webhook::new(
            WebhookSecrets::x_only(Secret::new(SECRET)),
            &deps,
            Clock::Fixed(t0()),
        )
        .unwrap(),
    );
    let posts: Vec<Post> = (0..DELIVERIES).map(post).collect();

    let next = Arc::new(AtomicUsize::new(0));
    let bodies: Arc<Vec<String>> = Arc::new(posts.iter().map(|p| p.body.clone()).collect());
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (next, bodies, webhook) = (next.clone(), bodies.clone(), webhook.clone());
        workers.spawn(async move {
            let mut gave_up = 0;
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(index) else {
                    break;
                };
                if !deliver_like_x(&webhook, body).await {
                    gave_up += 1;
                }
            }
            gave_up
        });
    }
    let mut figures = Figures {
        per_mille,
        urgent: posts.iter().filter(|p| p.urgent).count(),
        ..Figures::default()
    };
    figures.pages_due = figures.urgent * TIER_ONE.len();
    while let Some(gave_up) = workers.join_next().await {
        figures.x_gave_up += gave_up.unwrap();
    }

    let mut paged_by_run = Vec::new();
    for minutes in ESCALATE_AT {
        let clock = Clock::Fixed(t0() + Duration::minutes(minutes));
        let escalator = Escalator {
            pager: deps.pager(clock, FunctionBudget::Escalate),
            reach: deps.reach(),
            step: Duration::minutes(5),
            give_up_after: Duration::hours(1),
            remind_after: Duration::hours(4),
        };
        if escalator.run().await.is_err() {
            figures.escalate_runs_failed += 1;
        }
        paged_by_run.push(pages_by_pair(&moto, &posts).len());
    }
    figures.on_time = paged_by_run[0];
    figures.by_third_run = paged_by_run[2];
    figures.after_lease = paged_by_run[3] - paged_by_run[2];
    figures.never = figures.pages_due - paged_by_run[3];
    figures.proxy = proxy.stats();

    let mut explained: BTreeMap<(String, String), usize> = BTreeMap::new();
    for lost in &figures.proxy.lost_publishes {
        if let Some(post) = posts
            .iter()
            .find(|p| lost.message.contains(&format!("@{} ", p.handle)))
        {
            *explained
                .entry((lost.phone.clone(), post.handle.clone()))
                .or_default() += 1;
        }
    }
    for (pair, count) in pages_by_pair(&moto, &posts) {
        if count > 1 {
            figures.paged_twice += 1;
            figures.extra_sms += count - 1;
            let allowed = explained.get(&pair).copied().unwrap_or(0);
            figures.unexplained_extra_sms += (count - 1).saturating_sub(allowed);
        }
    }

    for post in &posts {
        match direct.get_mention(&post.id).await.unwrap() {
            None => figures.lost.push(post.id.clone()),
            Some(record) => {
                let priority = record.assessment.map(|a| a.priority);
                assert_eq!(
                    priority == Some(Priority::P1),
                    post.urgent,
                    "{} triaged {priority:?}",
                    post.id
                );
            }
        }
    }
    println!("{}", figures.row());
    println!(
        "faults injected by kind: {:?}; calls the client gave up on: {}",
        figures.proxy.faults, figures.proxy.abandoned
    );
    figures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_faults_every_post_is_stored_and_paged_once_on_time() {
    let figures = chaos(0, 1).await;
    figures.assert_promises_kept();
    assert_eq!(figures.proxy.faults_injected(), 0);
    assert_eq!(figures.extra_sms, 0);
}

/// The run at `per_mille` faults, which must have injected some.
async fn under_faults(per_mille: u32, seed: u64) {
    let figures = chaos(per_mille, seed).await;
    assert!(figures.proxy.faults_injected() > 0);
    figures.assert_promises_kept();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_aws_call_in_ten_failing_loses_nothing_and_delays_no_page() {
    under_faults(100, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_aws_calls_in_ten_failing_loses_nothing_and_delays_no_page() {
    under_faults(300, 30).await;
}

/// A write DynamoDB will never accept (a validation error) is not a fault
/// to wait out: the post is named as refused, with the reason, in a 200
/// answer, so the platform does not deliver it again for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_dynamodb_refuses_for_good_is_answered_200_and_named() {
    let moto = Moto::start();
    let table = support::unique_table("refused");
    let direct = moto.dynamo_store(&table).await;
    support::seat_on_call(&direct, &[("Sam", TIER_ONE[0], 1)]).await;
    let proxy = FaultProxy::start(&moto.endpoint, FaultPlan::refusing("PutItem")).await;
    let deps = deps_through(&sdk_through(&proxy).await, &table);
    let webhook = Webhook::new(
        WebhookSecrets::x_only(Secret::new(SECRET)),
        &deps,
        Clock::Fixed(t0()),
    )
    .unwrap();
    let ordinary = post(1);

    let response = webhook
        .handle(&support::signed_x_delivery(SECRET, ordinary.body.clone()))
        .await;
    assert_eq!(response.status_code, 200, "{}", response.body);
    let answer: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    let refused = answer["refused"].as_array().expect("a refused list");
    assert_eq!(refused.len(), 1, "{answer}");
    assert_eq!(refused[0]["id"], ordinary.id.to_string());
    let reason = refused[0]["reason"].as_str().unwrap();
    assert!(reason.contains("ValidationException"), "{reason}");
    assert!(reason.len() < 300, "a short code and message: {reason}");
    assert_eq!(
        proxy.stats().operations.get("PutItem"),
        Some(&1),
        "tried once: retrying cannot help"
    );
    assert!(direct.get_mention(&ordinary.id).await.unwrap().is_none());
}
