//! The urgency corpus keeps its promises, and the shipped urgency model is
//! exactly what it trains.

use crate::support;

use std::collections::HashSet;

use earshot::triage::{ModelTriage, TrainingOptions};

/// The corpus's rows as (text, label, industry).
fn corpus() -> Vec<(String, String, String)> {
    let path = support::repo_path("data/urgency-corpus.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    assert_eq!(
        reader.headers().unwrap(),
        vec!["text", "label", "industry", "kind"]
    );
    reader
        .records()
        .map(|row| {
            let row = row.unwrap();
            (row[0].to_owned(), row[1].to_owned(), row[2].to_owned())
        })
        .collect()
}

/// Words that announce urgency outright; most urgent posts must do without.
const OBVIOUS: &[&str] = &["urgent", "help", "emergenc", "stuck", "asap", "immediately"];

#[test]
fn the_urgency_corpus_is_large_varied_and_mostly_unobvious() {
    let rows = corpus();
    assert!(rows.len() >= 3_000, "{} posts", rows.len());
    let industries: HashSet<&str> = rows.iter().map(|(_, _, i)| i.as_str()).collect();
    assert!(industries.len() >= 40, "{} industries", industries.len());
    assert!(!industries.contains(""), "a post without an industry");
    let labels: HashSet<&str> = rows.iter().map(|(_, l, _)| l.as_str()).collect();
    assert_eq!(labels, HashSet::from(["urgent", "complaint", "other"]));

    let urgent: Vec<String> = rows
        .iter()
        .filter(|(_, label, _)| label == "urgent")
        .map(|(text, _, _)| text.to_lowercase())
        .collect();
    let obvious = urgent
        .iter()
        .filter(|text| OBVIOUS.iter().any(|word| text.contains(word)))
        .count();
    assert!(
        obvious * 2 <= urgent.len(),
        "{obvious} of {} urgent posts use an obvious word",
        urgent.len()
    );
}

#[test]
fn every_urgency_corpus_post_appears_once() {
    let mut seen = HashSet::new();
    for (n, (text, _, _)) in corpus().iter().enumerate() {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(!text.is_empty(), "row {}: no text", n + 1);
        assert!(
            seen.insert(text.to_lowercase()),
            "row {} repeats an earlier post: {text}",
            n + 1
        );
    }
}

#[test]
fn the_shipped_urgency_model_is_exactly_what_the_corpus_trains() {
    let examples: Vec<(String, bool)> = corpus()
        .into_iter()
        .map(|(text, label, _)| (text, label == "urgent"))
        .collect();
    let trained = ModelTriage::train_urgency(&examples, TrainingOptions::default());
    let mut bytes = Vec::new();
    trained.write(&mut bytes).unwrap();
    let shipped = std::fs::read(support::repo_path("models/urgency.bin")).unwrap();
    assert!(
        bytes == shipped,
        "models/urgency.bin is stale: run `earshot train --urgency --input data/urgency-corpus.csv`"
    );
}
