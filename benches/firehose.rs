//! The firehose's hot path: Jetstream frames read and matched against the
//! watches, per frame, on one core; and one urgent post from frame to SMS
//! (a whole run on the embedded store and outbox). Figures are in
//! benches/README.md.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Duration as ChronoDuration, SecondsFormat, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use earshot::adapters::Deps;
use earshot::domain::Clock;
use earshot::domain::{Account, Watch};
use earshot::domain::{OnCallContact, PhoneNumber, Platform};
use earshot::firehose::{Firehose, FirehoseSettings, ReplayConnector, WatchMatcher};
use earshot::platforms::jetstream::{Event, micros, parse_frame, time_of};
use earshot::ports::{RosterStore, WatchStore};
use serde_json::json;

/// The posts of the project's own corpus, as post texts on the stream.
fn texts() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/triage-corpus.csv");
    let mut reader = csv::Reader::from_path(path).expect("corpus");
    reader
        .records()
        .map(|r| r.expect("row")[0].to_owned())
        .collect()
}

/// Twenty brands, with the query shapes watches use.
fn watches() -> Vec<Watch> {
    let names = [
        "Northwind",
        "Contoso",
        "Fabrikam",
        "Tailspin",
        "Litware",
        "Adatum",
        "Proseware",
        "Lucerne",
        "Margie",
        "Fourth Coffee",
        "Wingtip",
        "Woodgrove",
        "Alpine",
        "Coho",
        "Humongous",
        "Relecloud",
        "Trey",
        "Wide World",
        "Blue Yonder",
        "Graphic",
    ];
    names
        .iter()
        .enumerate()
        .map(|(n, name)| {
            let word = name.to_lowercase();
            let query = match n % 3 {
                0 => format!("\"{word}\" OR #{}", word.replace(' ', "")),
                1 => format!("{word} refund OR {word} delayed -jobs"),
                _ => word.clone(),
            };
            Watch::new(
                name,
                &query,
                vec![Platform::Bluesky],
                vec![Account::parse(&format!("bluesky:did:plc:brand{n:02}")).unwrap()],
                Utc::now(),
            )
            .unwrap()
        })
        .collect()
}

/// One frame per corpus post, shaped as Jetstream sends them: a third
/// are replies, a fifth carry a mention or link facet, and every fiftieth
/// frame is an identity or account event.
fn frames(texts: &[String]) -> Vec<String> {
    let start = micros(Utc::now() - ChronoDuration::hours(1));
    let mut frames = Vec::with_capacity(texts.len() * 51 / 50);
    for (n, text) in texts.iter().enumerate() {
        let time_us = start + n as i64 * 20_000;
        let did = format!("did:plc:user{:06}", n % 4_000);
        if n % 50 == 49 {
            frames.push(
                json!({"did": did, "time_us": time_us, "kind": "identity",
                    "identity": {"did": did, "handle": format!("u{n}.bsky.social"), "seq": n, "time": "2025-12-05T10:00:00.000Z"}})
                .to_string(),
            );
        }
        let mut record = json!({"$type": "app.bsky.feed.post", "text": text, "langs": ["en"],
            "createdAt": time_of(time_us).to_rfc3339_opts(SecondsFormat::Micros, true)});
        if n % 3 == 0 {
            let parent = format!(
                "at://did:plc:user{:06}/app.bsky.feed.post/3m{n:08}",
                (n * 7) % 4_000
            );
            record["reply"] = json!({"root": {"uri": parent, "cid": "bafyreiroot"}, "parent": {"uri": parent, "cid": "bafyreiparent"}});
        }
        if n % 5 == 0 && text.len() > 4 {
            record["facets"] = json!([{"index": {"byteStart": 0, "byteEnd": 4},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": format!("did:plc:user{:06}", n % 977)}]}]);
        }
        frames.push(
            json!({"did": did, "time_us": time_us, "kind": "commit",
                "commit": {"rev": format!("3m{n:010}"), "operation": "create", "collection": "app.bsky.feed.post",
                    "rkey": format!("3m{n:09}"), "cid": format!("bafyrei{n:020}"), "record": record}})
            .to_string(),
        );
    }
    frames
}

fn filter(c: &mut Criterion) {
    let frames = frames(&texts());
    let matcher = WatchMatcher::new(&watches());
    let bytes: usize = frames.iter().map(String::len).sum();
    eprintln!(
        "firehose/filter: {} frames, {} bytes on average",
        frames.len(),
        bytes / frames.len()
    );
    let mut group = c.benchmark_group("firehose");
    group.throughput(Throughput::Elements(frames.len() as u64));
    group.bench_function("parse_and_match_frame", |b| {
        b.iter(|| {
            let mut matched = 0usize;
            for frame in &frames {
                if let Ok(Event::Post(post)) = parse_frame(black_box(frame))
                    && matcher.find(&post).is_some()
                {
                    matched += 1;
                }
            }
            black_box(matched)
        })
    });
    group.finish();
}

/// Paged as P1 by the shipped models (children, stuck, no response).
const URGENT: &str = "@northwind stranded at the gate for 6 hours with two toddlers, no food, no water, my daughter fainted and nobody from staff will help us";

/// A fresh embedded store with one watch and one phone on call, and a
/// replay file holding one urgent post.
struct Fixture {
    _home: tempfile::TempDir,
    firehose: Firehose,
    store: earshot::adapters::embedded::EmbeddedStore,
}

fn fixture(runtime: &tokio::runtime::Runtime) -> Fixture {
    let home = tempfile::tempdir().unwrap();
    let (deps, store) = Deps::embedded(home.path(), false, Clock::System).unwrap();
    runtime.block_on(async {
        let watch = Watch::new(
            "Northwind",
            "northwind",
            vec![Platform::Bluesky],
            vec![],
            Utc::now(),
        )
        .unwrap();
        store.put_watch(&watch).await.unwrap();
        store
            .put_contact(&OnCallContact::new(
                "Sam",
                PhoneNumber::parse("+15555550100").unwrap(),
                Utc::now(),
            ))
            .await
            .unwrap();
    });
    let time_us = micros(Utc::now());
    let frame = json!({"did": "did:plc:zoe", "time_us": time_us, "kind": "commit",
        "commit": {"rev": "3mzoe", "operation": "create", "collection": "app.bsky.feed.post", "rkey": "3mzoe1", "cid": "bafyreizoe",
            "record": {"$type": "app.bsky.feed.post", "text": URGENT, "langs": ["en"],
                "createdAt": time_of(time_us).to_rfc3339_opts(SecondsFormat::Millis, true)}}});
    let path = home.path().join("frames.jsonl");
    std::fs::write(&path, frame.to_string()).unwrap();
    let firehose = Firehose::new(
        &deps,
        store.clone(),
        Arc::new(ReplayConnector { path }),
        FirehoseSettings {
            margin: Duration::ZERO,
            ..FirehoseSettings::default()
        },
        Clock::System,
    );
    Fixture {
        _home: home,
        firehose,
        store,
    }
}

fn frame_to_sms(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let check = fixture(&runtime);
    runtime
        .block_on(check.firehose.run(Instant::now() + Duration::from_secs(30)))
        .unwrap();
    assert_eq!(
        check.store.outbox().unwrap().len(),
        1,
        "the urgent post is paged"
    );
    let mut group = c.benchmark_group("firehose");
    group.sample_size(30);
    group.bench_function("frame_to_sms_embedded", |b| {
        b.iter_batched(
            || fixture(&runtime),
            |fixture| {
                runtime
                    .block_on(
                        fixture
                            .firehose
                            .run(Instant::now() + Duration::from_secs(30)),
                    )
                    .unwrap();
                fixture
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, filter, frame_to_sms);
criterion_main!(benches);
