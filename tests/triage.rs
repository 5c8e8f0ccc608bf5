//! Triage from the outside: the shipped model comes from the project's own
//! corpus, and the batch commands read and write what they promise.

use crate::support;

use std::process::Command;

use earshot::triage::{LinearModel, TrainingOptions};

fn corpus() -> Vec<(String, bool)> {
    let mut reader = csv::Reader::from_path(support::repo_path("data/triage-corpus.csv")).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_owned(), &r[1] == "1")
        })
        .collect()
}

#[test]
fn every_corpus_post_is_labelled_once_and_belongs_to_a_batch() {
    let mut reader = csv::Reader::from_path(support::repo_path("data/triage-corpus.csv")).unwrap();
    assert_eq!(reader.headers().unwrap(), vec!["text", "label", "batch"]);
    let mut seen = std::collections::HashSet::new();
    for (n, row) in reader.records().enumerate() {
        let row = row.unwrap();
        let line = n + 2;
        assert!(
            matches!(&row[1], "0" | "1"),
            "line {line}: label {:?}",
            &row[1]
        );
        assert!(!row[2].trim().is_empty(), "line {line}: no batch");
        let text = row[0].split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(!text.is_empty(), "line {line}: no text");
        assert!(
            seen.insert(text.to_lowercase()),
            "line {line} repeats an earlier post: {text}"
        );
    }
}

#[test]
fn the_shipped_model_is_exactly_what_the_project_corpus_trains() {
    let shipped = std::fs::read(support::repo_path("models/complaint.bin")).unwrap();
    let trained = LinearModel::train(&corpus(), TrainingOptions::default());
    let mut bytes = Vec::new();
    trained.write(&mut bytes).unwrap();
    assert!(
        bytes == shipped,
        "models/complaint.bin is stale: run `earshot train --input data/triage-corpus.csv`"
    );
}

/// Runs `earshot` from the project's root, whatever its outcome.
fn run_earshot(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_earshot"))
        .args(args)
        .current_dir(support::repo_path(""))
        .output()
        .unwrap()
}

fn earshot(args: &[&str]) -> String {
    let output = run_earshot(args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// `contents` written to a file `name` in `dir`.
fn written(dir: &tempfile::TempDir, name: &str, contents: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// `contents` written to a file `name` in a new temporary directory.
fn in_a_new_dir(name: &str, contents: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = written(&dir, name, contents);
    (dir, path)
}

#[test]
fn batch_triage_writes_one_json_object_per_post() {
    let (_dir, input) = in_a_new_dir(
        "posts.csv",
        "post_id,body,reach\n\
         a1,\"@skyways stuck on the tarmac for 2 hours with a baby, no water\",52000\n\
         a2,\"@skyways thanks, lovely crew today\",12\n\
         a3,\"@skyways what's the bag allowance?\",\n",
    );
    let out = earshot(&[
        "triage",
        "--input",
        input.to_str().unwrap(),
        "--text-column",
        "body",
        "--followers-column",
        "reach",
        "--id-column",
        "post_id",
    ]);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["id"], "a1");
    assert_eq!(lines[0]["priority"], "P1");
    assert_eq!(lines[0]["complaint"], true);
    assert!(lines[0]["reasons"].as_array().unwrap().len() <= 3);
    assert_eq!(lines[1]["intent"], "praise");
    assert_eq!(lines[1]["priority"], "P3");
    assert_eq!(lines[2]["intent"], "question");
    for line in &lines {
        for field in [
            "complaint",
            "intent",
            "sentiment",
            "urgency",
            "priority",
            "reasons",
        ] {
            assert!(line.get(field).is_some(), "{field} missing from {line}");
        }
    }
}

#[test]
fn a_company_can_train_on_its_own_history_and_evaluate() {
    let mut lines = String::new();
    for n in 0..20 {
        let channel = if n % 2 == 0 { "email" } else { "x" };
        lines.push_str(&format!("{{\"message\": \"order {n} arrived broken and support ignores me\", \"is_complaint\": 1, \"channel\": \"{channel}\"}}\n"));
        lines.push_str(&format!(
            "{{\"message\": \"order {n} arrived early, thanks team\", \"is_complaint\": 0, \"channel\": \"{channel}\"}}\n"
        ));
    }
    let (dir, history) = in_a_new_dir("history.jsonl", &lines);
    let model = dir.path().join("ours.bin");
    let (history, model) = (history.to_str().unwrap(), model.to_str().unwrap());
    // Training and evaluating read the same file, text and label columns.
    let on_history = |command: &str, more: &[&str]| {
        let mut args = vec![command, "--input", history, "--text-column", "message"];
        args.extend(["--label-column", "is_complaint"]);
        args.extend(more);
        earshot(&args)
    };
    let said = on_history("train", &["--output", model, "--folds", "4"]);
    assert!(
        said.contains("trained on 40 posts (20 complaints)"),
        "{said}"
    );
    assert!(
        said.contains("cross-validated (4 folds): precision 1.000 recall 1.000 f1 1.000"),
        "{said}"
    );
    let report = on_history("eval", &["--model", model, "--by", "channel"]);
    assert!(report.contains("f1         1.000"), "{report}");
    // Each channel on its own: 20 posts, 10 complaints, 10 flagged, all right.
    for channel in ["email", "x"] {
        let line = report
            .lines()
            .find(|line| line.starts_with(channel))
            .unwrap_or_else(|| panic!("no {channel} line in {report}"));
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            fields,
            [channel, "20", "10", "10", "1.000", "1.000", "1.000"]
        );
    }
}

#[test]
fn train_can_hold_out_each_batch_together() {
    // Each batch has its own words: held out together, nothing carries over.
    let mut rows = String::from("text,label,batch\n");
    for n in 0..10 {
        rows.push_str(&format!("\"parcel {n} smashed\",1,parcels\n"));
        rows.push_str(&format!("\"booked seat {n} online\",0,seats\n"));
    }
    let (dir, labelled) = in_a_new_dir("labelled.csv", &rows);
    let model = dir.path().join("m.bin");
    let (labelled, model) = (labelled.to_str().unwrap(), model.to_str().unwrap());
    let train = |folds: &[&str]| {
        let mut args = vec!["train", "--input", labelled, "--output", model];
        args.extend(folds);
        run_earshot(&args)
    };

    let dealt = train(&["--folds", "5"]);
    assert!(dealt.status.success());
    let dealt = String::from_utf8_lossy(&dealt.stdout);
    assert!(
        dealt.contains("cross-validated (5 folds): precision 1.000"),
        "{dealt}"
    );
    let by_batch = train(&["--folds-by", "batch"]);
    let by_batch = String::from_utf8_lossy(&by_batch.stdout);
    assert!(
        by_batch.contains("held out by batch (2 folds)"),
        "{by_batch}"
    );
    assert!(!by_batch.contains("f1 1.000"), "{by_batch}");

    assert!(!train(&["--folds-by", "month"]).status.success());
    let both = train(&["--folds", "2", "--folds-by", "batch"]);
    assert!(!both.status.success(), "one kind of folds at a time");
}

#[test]
fn triage_piped_into_a_reader_that_stops_early_ends_quietly() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    // Far more output than a pipe buffers, so writes after the reader has
    // gone really meet a closed pipe.
    let mut posts = String::from("text\n");
    for n in 0..5_000 {
        posts.push_str(&format!(
            "\"@skyways flight {n} cancelled, stuck at the gate\"\n"
        ));
    }
    let (_dir, input) = in_a_new_dir("posts.csv", &posts);

    let mut child = Command::new(env!("CARGO_BIN_EXE_earshot"))
        .args(["triage", "--input", input.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    assert!(first_line.starts_with('{'), "{first_line}");

    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "a closed pipe is not an error: {stderr}");
}

#[test]
fn batch_commands_skip_malformed_rows_and_say_which() {
    // Line 3 has a field too many, line 5 one too few.
    let (dir, input) = in_a_new_dir(
        "export.csv",
        "id,text,label\n\
         1,\"@skyways my bag never arrived\",1\n\
         2,\"@skyways thanks, lovely crew\",0,extra\n\
         3,\"@skyways what's the bag allowance?\",0\n\
         4\n\
         5,\"@skyways charged twice for one seat\",1\n",
    );
    let input = input.to_str().unwrap();

    let triage = run_earshot(&["triage", "--input", input, "--id-column", "id"]);
    assert!(triage.status.success());
    let ids: Vec<String> = String::from_utf8_lossy(&triage.stdout)
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["id"].to_string())
        .collect();
    assert_eq!(ids, ["\"1\"", "\"3\"", "\"5\""]);
    let summary = String::from_utf8_lossy(&triage.stderr);
    assert!(
        summary.contains("skipped 2 malformed rows (lines 3, 5)"),
        "{summary}"
    );

    let eval = run_earshot(&["eval", "--input", input]);
    assert!(eval.status.success());
    assert!(String::from_utf8_lossy(&eval.stdout).contains("posts      3"));
    let model = dir.path().join("m.bin");
    let train = run_earshot(&[
        "train",
        "--input",
        input,
        "--output",
        model.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&train.stdout).contains("trained on 3 posts"));

    let unreadable = written(&dir, "unreadable.csv", "id,text\n1,a,b\n2\n");
    let failed = run_earshot(&["triage", "--input", unreadable.to_str().unwrap()]);
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("no row could be read"));
}
