//! Load: signed X deliveries, many at once, through the webhook handler
//! against moto, every AWS call counted by the test suite's proxy in
//! pass-through mode. Reports what was stored and sent, the time per
//! delivery (p50, p99) and AWS calls per mention.
//!
//!     cargo run --example load -- [--deliveries 10000] [--concurrency 10] [--urgent-every 10] [--phones 2]
//!
//! Needs moto's server like the tests (`MOTO_SERVER`, or python3 with
//! tests/requirements.txt installed). For runs of thousands, set
//! `EARSHOT_MOTO_ROLLBACK=touched`: stock moto copies the whole table for
//! every transaction, a cost DynamoDB does not have (tests/moto_serial.py).
//! Figures: benches/README.md.

#[path = "../tests/support/fault_proxy.rs"]
#[allow(dead_code)]
mod fault_proxy;
#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use earshot::adapters::Deps;
use earshot::config::Secret;
use earshot::domain::Clock;
use earshot::ports::SmsLimits;
use earshot::webhook::{Webhook, WebhookSecrets};
use fault_proxy::{FaultPlan, FaultProxy, ProxyStats};

/// Deliveries between two progress lines on stderr.
const PROGRESS_EVERY: usize = 500;
const SECRET: &str = "load-consumer-secret";
const ON_CALL: [&str; 2] = ["+15555550150", "+15555550151"];
/// Deliveries of each kind sent one at a time first, to count the AWS
/// calls an ordinary and an urgent post cost on their own.
const CALIBRATION: usize = 20;

struct Settings {
    deliveries: usize,
    concurrency: usize,
    urgent_every: usize,
    /// On-call phones each urgent post pages (1 or 2).
    phones: usize,
}

impl Settings {
    fn from_args() -> Result<Self, String> {
        let mut settings = Self {
            deliveries: 10_000,
            concurrency: 10,
            urgent_every: 10,
            phones: ON_CALL.len(),
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value: usize = args
                .next()
                .and_then(|v| v.parse().ok())
                .filter(|v| *v > 0)
                .ok_or_else(|| format!("{flag} needs a positive number"))?;
            match flag.as_str() {
                "--deliveries" => settings.deliveries = value,
                "--concurrency" => settings.concurrency = value,
                "--urgent-every" => settings.urgent_every = value,
                "--phones" if value <= ON_CALL.len() => settings.phones = value,
                "--phones" => return Err(format!("--phones is 1 to {}", ON_CALL.len())),
                _ => return Err(format!("unknown option {flag}")),
            }
        }
        Ok(settings)
    }
}

/// Delivery `index`: its own author, and its own brand so that no urgent
/// post folds into another's incident and each one pages.
fn delivery(index: usize, urgent: bool) -> String {
    let brand = format!("Load{index:05}");
    let account_id = format!("15970000000{index:08}");
    let text = if urgent {
        format!(
            "@{brand} we have been stuck on the tarmac at gate B12 for over an hour with two kids and no water. Nobody is telling us anything. Flight NW418."
        )
    } else {
        format!(
            "Still no refund from @{brand} for the flight they cancelled in September. Getting old."
        )
    };
    serde_json::json!({
        "for_user_id": account_id,
        "tweet_create_events": [{
            "created_at": Utc::now().format("%a %b %d %H:%M:%S +0000 %Y").to_string(),
            "id_str": format!("18625117340{index:08}"),
            "text": text,
            "truncated": false,
            "user": {
                "id_str": format!("73120000000{index:08}"),
                "screen_name": format!("flyer{index:05}"),
                "followers_count": if urgent { 45_210 } else { 318 }
            },
            "entities": {"user_mentions": [{"id_str": account_id, "screen_name": brand}]}
        }]
    })
    .to_string()
}

/// Sends one delivery; how long it took and whether it answered 2xx.
async fn send(webhook: &Webhook, body: String) -> (Duration, bool) {
    let request = support::signed_x_delivery(SECRET, body);
    let started = Instant::now();
    let status = webhook.handle(&request).await.status_code;
    (started.elapsed(), (200..300).contains(&status))
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn calls_since(proxy: &FaultProxy, before: &ProxyStats) -> u64 {
    proxy.stats().calls - before.calls
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let settings = match Settings::from_args() {
        Ok(settings) => settings,
        Err(problem) => {
            eprintln!("{problem}");
            std::process::exit(2);
        }
    };
    let moto = support::Moto::start();
    let table = support::unique_table("load");
    let direct = moto.dynamo_store(&table).await;
    let roster = [("Sam", ON_CALL[0], 1), ("Kim", ON_CALL[1], 1)];
    support::seat_on_call(&direct, &roster[..settings.phones]).await;
    let proxy = FaultProxy::start(&moto.endpoint, FaultPlan::pass_through()).await;
    let deps = Deps {
        limits: SmsLimits {
            per_phone_hourly: 1_000_000,
            daily: 1_000_000,
        },
        ..support::deps_for(&support::sdk_config_for(&proxy.endpoint).await, &table)
    };
    let webhook = Arc::new(
        Webhook::new(
            WebhookSecrets::x_only(Secret::new(SECRET)),
            &deps,
            Clock::System,
        )
        .expect("webhook built"),
    );

    // Calibration: each kind alone, on an empty table.
    let mut per_kind = Vec::new();
    for (offset, urgent) in [(0, false), (CALIBRATION, true)] {
        let before = proxy.stats();
        for index in offset..offset + CALIBRATION {
            send(&webhook, delivery(900_000 + index, urgent)).await;
        }
        per_kind.push(calls_since(&proxy, &before) as f64 / CALIBRATION as f64);
    }
    let sms_before = moto.sms_sent().len();
    let before = proxy.stats();

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..settings.concurrency {
        let (next, webhook) = (next.clone(), webhook.clone());
        let (total, urgent_every) = (settings.deliveries, settings.urgent_every);
        workers.spawn(async move {
            let mut timings = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= total {
                    return timings;
                }
                let urgent = index.is_multiple_of(urgent_every);
                timings.push(send(&webhook, delivery(index, urgent)).await);
                // A long run against an emulator may not finish: say how far
                // it got.
                if (index + 1).is_multiple_of(PROGRESS_EVERY) {
                    eprintln!(
                        "{} deliveries sent in {:.0} s",
                        index + 1,
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        });
    }
    let mut timings = Vec::new();
    while let Some(done) = workers.join_next().await {
        timings.extend(done.expect("worker finished"));
    }
    let elapsed = started.elapsed();
    let calls = calls_since(&proxy, &before);
    let failed = timings.iter().filter(|(_, ok)| !ok).count();
    let mut latencies: Vec<Duration> = timings.into_iter().map(|(took, _)| took).collect();
    latencies.sort();

    let mut stored = 0;
    for index in 0..settings.deliveries {
        let id = earshot::domain::MentionId::new(
            earshot::domain::Platform::X,
            &format!("18625117340{index:08}"),
        );
        if earshot::ports::MentionStore::get_mention(&direct, &id)
            .await
            .expect("moto readable")
            .is_some()
        {
            stored += 1;
        }
    }
    let urgent = settings.deliveries.div_ceil(settings.urgent_every);
    let after = proxy.stats();
    println!(
        "deliveries {} ({} urgent), concurrency {}, in {:.1} s ({:.0}/s)",
        settings.deliveries,
        urgent,
        settings.concurrency,
        elapsed.as_secs_f64(),
        settings.deliveries as f64 / elapsed.as_secs_f64()
    );
    println!("answered non-2xx: {failed}");
    println!("stored: {stored} / {}", settings.deliveries);
    println!(
        "SMS: {} (expected {} urgent x {} phones = {})",
        moto.sms_sent().len() - sms_before,
        urgent,
        settings.phones,
        urgent * settings.phones
    );
    println!(
        "per delivery: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1000.0
    );
    println!(
        "AWS calls per mention: {:.2} overall; alone on an empty table: {:.1} ordinary, {:.1} urgent",
        calls as f64 / settings.deliveries as f64,
        per_kind[0],
        per_kind[1]
    );
    let operations: Vec<String> = after
        .operations
        .iter()
        .map(|(operation, count)| {
            let earlier = before.operations.get(operation).copied().unwrap_or(0);
            format!("{operation} {}", count - earlier)
        })
        .collect();
    println!("calls by operation: {}", operations.join(", "));
}
