//! Throughput of the per-mention work: triage, and a whole signed X delivery
//! from raw bytes to parsed mentions. Figures are in benches/README.md.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use earshot::domain::AlertCode;
use earshot::domain::TriageContext;
use earshot::platforms::x::parse_delivery;
use earshot::signature::{verify_x, x_signature};
use earshot::sms::texts;
use earshot::triage::ModelTriage;

/// The posts of one of the project's corpora: varied lengths and tones.
fn posts(corpus: &str) -> Vec<String> {
    let path = format!("{}/data/{corpus}", env!("CARGO_MANIFEST_DIR"));
    let mut reader = csv::Reader::from_path(path).expect("corpus");
    reader
        .records()
        .map(|r| r.expect("row")[0].to_owned())
        .collect()
}

fn triage(c: &mut Criterion) {
    let triage = ModelTriage::shipped();
    let context = TriageContext::default();
    let mut group = c.benchmark_group("triage");
    // The complaint corpus, and the longer, harm-laden urgency corpus.
    for (name, corpus) in [
        ("assess_text", "triage-corpus.csv"),
        ("assess_text_urgency_corpus", "urgency-corpus.csv"),
    ] {
        let posts = posts(corpus);
        group.throughput(Throughput::Elements(posts.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                for post in &posts {
                    black_box(triage.assess_text(black_box(post), Some(1_200), &context));
                }
            })
        });
    }
    group.finish();
}

fn delivery(c: &mut Criterion) {
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/events/payloads/x-urgent-complaint.json"
    ))
    .expect("sample payload");
    let secret = b"bench-secret";
    let header = x_signature(secret, &body);
    let triage = ModelTriage::shipped();
    let now = chrono::Utc::now();
    let code = AlertCode::candidate("x:1862511734012345678", 0);
    let mut group = c.benchmark_group("x_delivery");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_parse_triage_compose", |b| {
        b.iter(|| {
            assert!(verify_x(secret, black_box(&body), &header));
            let delivery = parse_delivery(&body, now).expect("valid delivery");
            for mention in &delivery.mentions {
                let verdict = triage.assess_text(
                    &mention.text,
                    mention.author.followers,
                    &TriageContext::default(),
                );
                black_box(texts::alert(mention, &verdict, &code));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, triage, delivery);
criterion_main!(benches);
