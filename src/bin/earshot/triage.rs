//! `earshot train`, `earshot triage` and `earshot eval`: the complaint model
//! on a company's own labelled history, and triage of files of posts.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use earshot::domain::{Priority, TriageContext};
use earshot::triage::measure::{Truth, UrgencyScores};
use earshot::triage::{LinearModel, ModelTriage, TrainingOptions, TriageSettings};
use serde_json::{Value, json};

#[derive(Args)]
pub struct Columns {
    /// CSV file with a header row, or JSON lines (.jsonl / .ndjson).
    #[arg(long)]
    input: PathBuf,
    #[arg(long, default_value = "text")]
    text_column: String,
}

#[derive(Args)]
pub struct ModelArgs {
    /// A model written by `earshot train`; the shipped model by default.
    #[arg(long)]
    model: Option<PathBuf>,
    /// An urgency model written by `earshot train --urgency`; the shipped
    /// one by default.
    #[arg(long)]
    urgency_model: Option<PathBuf>,
    /// A JSON file of triage settings (urgent_terms, vip_authors,
    /// reach_threshold, p1_threshold, complaint_threshold).
    #[arg(long)]
    settings: Option<PathBuf>,
}

#[derive(Args)]
pub struct TrainArgs {
    #[command(flatten)]
    columns: Columns,
    /// Column holding 1/0 (or true/false, complaint/other); empty rows are skipped.
    #[arg(long, default_value = "label")]
    label_column: String,
    /// Another labelled file with the same columns, such as the staff
    /// verdicts `earshot feedback` writes; repeatable.
    #[arg(long, value_name = "FILE")]
    also: Vec<PathBuf>,
    /// Where to write the model; models/complaint.bin, or
    /// models/urgency.bin with --urgency.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Train the urgency model instead of the complaint model: labels are
    /// urgent / complaint / other, and it learns urgent against the rest.
    #[arg(long)]
    urgency: bool,
    #[arg(long, default_value_t = TrainingOptions::default().epochs)]
    epochs: usize,
    /// Before writing the model, estimate its quality on posts it has not
    /// seen: train on all folds but one, triage the one left out, K times.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u16).range(2..=50))]
    folds: Option<u16>,
    /// As --folds, but the posts sharing a value of COLUMN (the batch they
    /// were written in, say) are held out together: a stricter estimate
    /// when similar posts sit side by side.
    #[arg(long, value_name = "COLUMN", conflicts_with = "folds")]
    folds_by: Option<String>,
    /// With --urgency and folds: also report the held-out figures per value
    /// of COLUMN (the kind of post, say).
    #[arg(long, value_name = "COLUMN", requires = "urgency")]
    by: Option<String>,
    /// With --urgency and folds: write each post's held-out verdict
    /// (text, label, urgency, p1) to FILE as CSV, to read what was missed.
    #[arg(long, value_name = "FILE", requires = "urgency")]
    held_out_verdicts: Option<PathBuf>,
}

#[derive(Args)]
pub struct TriageArgs {
    #[command(flatten)]
    columns: Columns,
    #[arg(long)]
    followers_column: Option<String>,
    #[arg(long)]
    id_column: Option<String>,
    #[command(flatten)]
    model: ModelArgs,
}

#[derive(Args)]
pub struct EvalArgs {
    #[command(flatten)]
    columns: Columns,
    #[arg(long, default_value = "label")]
    label_column: String,
    /// Leave out rows where COLUMN equals VALUE; repeatable
    /// (e.g. --exclude domain=random_tweet).
    #[arg(long, value_name = "COLUMN=VALUE", value_parser = parse_exclusion)]
    exclude: Vec<(String, String)>,
    /// Also score each value of COLUMN on its own (a brand, a channel, a
    /// month), to see where triage does well and where it does not.
    #[arg(long, value_name = "COLUMN")]
    by: Option<String>,
    #[command(flatten)]
    model: ModelArgs,
}

type Row = HashMap<String, String>;

/// Every readable row of a CSV or JSON-lines file, as column → text. A
/// malformed row (a CSV record with the wrong number of fields, a line that
/// is not a JSON object) is skipped and counted, with its line number in a
/// summary on stderr; only a file with rows and none readable is an error.
fn read_rows(path: &Path) -> Result<Vec<Row>> {
    let (rows, skipped) = read_rows_skipping(path)?;
    if !skipped.is_empty() {
        // A stray carriage return splits one line into several bad rows.
        let mut lines: Vec<String> = skipped.iter().map(usize::to_string).collect();
        lines.dedup();
        eprintln!(
            "{}: skipped {} malformed row{} (line{} {})",
            path.display(),
            skipped.len(),
            if skipped.len() == 1 { "" } else { "s" },
            if lines.len() == 1 { "" } else { "s" },
            lines.join(", ")
        );
        if rows.is_empty() {
            bail!("{}: no row could be read", path.display());
        }
    }
    Ok(rows)
}

/// The readable rows, and the line numbers of the malformed ones.
fn read_rows_skipping(path: &Path) -> Result<(Vec<Row>, Vec<usize>)> {
    let is_json_lines = path
        .extension()
        .is_some_and(|ext| ext == "jsonl" || ext == "ndjson" || ext == "json");
    let mut rows = Vec::new();
    let mut skipped = Vec::new();
    if is_json_lines {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<serde_json::Map<String, Value>>(line) {
                Ok(object) => rows.push(
                    object
                        .into_iter()
                        .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                        .collect(),
                ),
                Err(_) => skipped.push(n + 1),
            }
        }
        return Ok((rows, skipped));
    }
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => rows.push(
                headers
                    .iter()
                    .map(str::to_owned)
                    .zip(record.iter().map(str::to_owned))
                    .collect(),
            ),
            Ok(false) => break,
            Err(error) => match error.position() {
                // A bad record: the reader goes on after it.
                Some(position) if !matches!(error.kind(), csv::ErrorKind::Io(_)) => {
                    skipped.push(position.line() as usize);
                }
                _ => return Err(error).with_context(|| format!("cannot read {}", path.display())),
            },
        }
    }
    Ok((rows, skipped))
}

fn column<'a>(row: &'a Row, name: &str, path: &Path) -> Result<&'a str> {
    row.get(name)
        .map(String::as_str)
        .with_context(|| format!("{} has no column `{name}`", path.display()))
}

/// A post's label: urgent, a complaint that can wait, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Urgent,
    Complaint,
    Other,
}

impl Label {
    fn is_complaint(self) -> bool {
        self != Label::Other
    }
}

/// `1`, `true`, `yes`, `complaint` are complaints; `urgent` is an urgent
/// complaint; `0`, `false`, `no`, `other` are not; empty means unlabelled.
fn parse_label(raw: &str) -> Result<Option<Label>> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "urgent" => Ok(Some(Label::Urgent)),
        "1" | "true" | "yes" | "complaint" => Ok(Some(Label::Complaint)),
        "0" | "false" | "no" | "other" | "not_complaint" => Ok(Some(Label::Other)),
        other => {
            bail!("label `{other}` is neither 1/0, true/false nor urgent/complaint/other")
        }
    }
}

fn labelled(rows: &[Row], args: &Columns, label_column: &str) -> Result<Vec<(String, Label)>> {
    labelled_from(rows, &args.input, &args.text_column, label_column)
}

fn labelled_from(
    rows: &[Row],
    path: &Path,
    text_column: &str,
    label_column: &str,
) -> Result<Vec<(String, Label)>> {
    let mut examples = Vec::new();
    for row in rows {
        if let Some(label) = parse_label(column(row, label_column, path)?)? {
            examples.push((column(row, text_column, path)?.to_owned(), label));
        }
    }
    if examples.is_empty() {
        bail!("{} has no labelled rows", path.display());
    }
    Ok(examples)
}

/// The `key` column of the rows that `labelled_from` keeps, in step with it.
fn keys_of_labelled(
    rows: &[Row],
    path: &Path,
    label_column: &str,
    key: &str,
) -> Result<Vec<String>> {
    let mut keys = Vec::new();
    for row in rows {
        if parse_label(column(row, label_column, path)?)?.is_some() {
            keys.push(column(row, key, path)?.to_owned());
        }
    }
    Ok(keys)
}

fn load_triage(args: &ModelArgs) -> Result<ModelTriage> {
    let settings = match &args.settings {
        Some(path) => serde_json::from_slice(&crate::read_file(path)?)
            .with_context(|| format!("{} is not a settings JSON object", path.display()))?,
        None => TriageSettings::default(),
    };
    let triage = match &args.model {
        Some(path) => ModelTriage::new(
            LinearModel::read(crate::read_file(path)?.as_slice())?,
            settings,
        ),
        None => ModelTriage::new(ModelTriage::shipped().model().clone(), settings),
    };
    Ok(match &args.urgency_model {
        Some(path) => {
            triage.with_urgency_model(LinearModel::read(crate::read_file(path)?.as_slice())?)
        }
        None => triage,
    })
}

pub fn train(args: TrainArgs) -> Result<()> {
    let rows = read_rows(&args.columns.input)?;
    let mut examples = labelled(&rows, &args.columns, &args.label_column)?;
    let mut fold_keys = match &args.folds_by {
        Some(key) => keys_of_labelled(&rows, &args.columns.input, &args.label_column, key)?,
        None => Vec::new(),
    };
    for path in &args.also {
        let rows = read_rows(path)?;
        examples.extend(labelled_from(
            &rows,
            path,
            &args.columns.text_column,
            &args.label_column,
        )?);
        if let Some(key) = &args.folds_by {
            fold_keys.extend(keys_of_labelled(&rows, path, &args.label_column, key)?);
        }
    }
    let options = TrainingOptions {
        epochs: args.epochs,
        ..TrainingOptions::default()
    };
    let posts = examples.len();
    let folds = held_out_folds(&args, posts, &fold_keys)?;
    let (model, summary) = if args.urgency {
        if !examples.iter().any(|(_, label)| *label == Label::Urgent) {
            bail!("--urgency needs posts labelled `urgent`");
        }
        if let Some((how, fold_of)) = folds {
            let held_out = cross_validate_urgency(&examples, &fold_of, options);
            let by_keys = match &args.by {
                Some(key) => keys_of_labelled(&rows, &args.columns.input, &args.label_column, key)?,
                None => Vec::new(),
            };
            let by = args.by.as_deref().map(|key| (key, by_keys.as_slice()));
            report_held_out_urgency(&how, &examples, &held_out, &fold_keys, by);
            if let Some(path) = &args.held_out_verdicts {
                write_held_out(path, &examples, &held_out)?;
            }
        }
        let urgent: Vec<(String, bool)> = examples
            .iter()
            .map(|(text, label)| (text.clone(), *label == Label::Urgent))
            .collect();
        let count = urgent.iter().filter(|(_, urgent)| *urgent).count();
        (
            ModelTriage::train_urgency(&urgent, options),
            format!("{count} urgent"),
        )
    } else {
        let examples: Vec<(String, bool)> = examples
            .into_iter()
            .map(|(text, label)| (text, label.is_complaint()))
            .collect();
        if let Some((how, fold_of)) = folds {
            let scores = cross_validate(&examples, &fold_of, options);
            println!(
                "{how}: precision {:.3} recall {:.3} f1 {:.3}",
                scores.precision(),
                scores.recall(),
                scores.f1()
            );
        }
        let count = examples.iter().filter(|(_, label)| *label).count();
        (
            LinearModel::train(&examples, options),
            format!("{count} complaints"),
        )
    };
    let output = args.output.clone().unwrap_or_else(|| {
        PathBuf::from(if args.urgency {
            "models/urgency.bin"
        } else {
            "models/complaint.bin"
        })
    });
    let mut file = std::fs::File::create(&output)
        .with_context(|| format!("cannot write {}", output.display()))?;
    model.write(&mut file)?;
    println!(
        "trained on {} posts ({summary}), {} epochs; wrote {}",
        posts,
        args.epochs,
        output.display()
    );
    Ok(())
}

/// The folds `--folds` or `--folds-by` ask for (the fold of each post), and
/// how to name them.
fn held_out_folds(
    args: &TrainArgs,
    posts: usize,
    keys: &[String],
) -> Result<Option<(String, Vec<usize>)>> {
    if let Some(k) = args.folds {
        let fold_of = dealt_folds(posts, usize::from(k));
        return Ok(Some((format!("cross-validated ({k} folds)"), fold_of)));
    }
    let Some(key) = &args.folds_by else {
        return Ok(None);
    };
    let fold_of = folds_by_key(keys);
    let count = fold_of.iter().max().map_or(0, |last| last + 1);
    if count < 2 {
        bail!("--folds-by {key}: needs at least two different values");
    }
    Ok(Some((
        format!("held out by {key} ({count} folds)"),
        fold_of,
    )))
}

/// Rows dealt to `folds` folds in turn, so a run is reproducible and a file
/// sorted by label still gives every fold both kinds.
fn dealt_folds(rows: usize, folds: usize) -> Vec<usize> {
    (0..rows).map(|index| index % folds).collect()
}

/// One fold per distinct key, numbered in order of first appearance.
fn folds_by_key(keys: &[String]) -> Vec<usize> {
    let mut numbers: Vec<&str> = Vec::new();
    keys.iter()
        .map(|key| match numbers.iter().position(|seen| seen == key) {
            Some(number) => number,
            None => {
                numbers.push(key);
                numbers.len() - 1
            }
        })
        .collect()
}

/// Held-out quality of the whole triage (model and signals): every post is
/// judged by a model trained without its fold (`fold_of[i]` for post `i`).
fn cross_validate(
    examples: &[(String, bool)],
    fold_of: &[usize],
    options: TrainingOptions,
) -> Scores {
    let folds = fold_of.iter().max().map_or(0, |last| last + 1);
    let mut scores = Scores::default();
    for fold in 0..folds {
        let (held_out, training): (Vec<_>, Vec<_>) = examples
            .iter()
            .enumerate()
            .partition(|(index, _)| fold_of[*index] == fold);
        let training: Vec<(String, bool)> = training
            .into_iter()
            .map(|(_, example)| example.clone())
            .collect();
        let triage = ModelTriage::new(
            LinearModel::train(&training, options),
            TriageSettings::default(),
        );
        for (_, (text, actual)) in held_out {
            let verdict = triage.assess_text(text, None, &TriageContext::default());
            scores.add(verdict.complaint, *actual);
        }
    }
    scores
}

/// P1 thresholds tried on held-out posts, to choose the operating point.
const THRESHOLDS_TRIED: [f32; 9] = [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7];

/// What a three-way label means for paging.
fn truth(label: Label) -> Truth {
    match label {
        Label::Urgent => Truth::Urgent,
        Label::Complaint => Truth::Mild,
        Label::Other => Truth::NotComplaint,
    }
}

/// A held-out post's verdict: its urgency, and whether it paged at the
/// default P1 threshold and at each of [`THRESHOLDS_TRIED`].
struct HeldOut {
    urgency: f32,
    paged: bool,
    paged_at: Vec<bool>,
}

/// Held-out urgency: each fold's posts judged with an urgency model trained
/// without them (the shipped complaint model throughout).
fn cross_validate_urgency(
    examples: &[(String, Label)],
    fold_of: &[usize],
    options: TrainingOptions,
) -> Vec<HeldOut> {
    let folds = fold_of.iter().max().map_or(0, |last| last + 1);
    let contexts: Vec<TriageContext> = THRESHOLDS_TRIED
        .iter()
        .map(|threshold| TriageContext {
            settings: Some(TriageSettings {
                p1_threshold: *threshold,
                ..TriageSettings::default()
            }),
            ..TriageContext::default()
        })
        .collect();
    let judge_fold = |fold: usize| -> Vec<(usize, HeldOut)> {
        let training: Vec<(String, bool)> = examples
            .iter()
            .zip(fold_of)
            .filter(|(_, f)| **f != fold)
            .map(|((text, label), _)| (text.clone(), *label == Label::Urgent))
            .collect();
        let triage = ModelTriage::shipped()
            .with_urgency_model(ModelTriage::train_urgency(&training, options));
        let held_out = examples.iter().enumerate();
        held_out
            .filter(|(index, _)| fold_of[*index] == fold)
            .map(|(index, (text, _))| {
                let verdict = triage.assess_text(text, None, &TriageContext::default());
                let paged_at = contexts
                    .iter()
                    .map(|context| triage.assess_text(text, None, context).priority == Priority::P1)
                    .collect();
                let paged = verdict.priority == Priority::P1;
                let urgency = verdict.urgency;
                (
                    index,
                    HeldOut {
                        urgency,
                        paged,
                        paged_at,
                    },
                )
            })
            .collect()
    };
    // Folds are independent: one worker per core.
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let mut held_out: Vec<Option<HeldOut>> = examples.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let running: Vec<_> = (0..workers)
            .map(|worker| {
                let judge_fold = &judge_fold;
                scope.spawn(move || {
                    (worker..folds)
                        .step_by(workers)
                        .flat_map(judge_fold)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for worker in running {
            for (index, verdict) in worker.join().expect("a fold worker panicked") {
                held_out[index] = Some(verdict);
            }
        }
    });
    held_out
        .into_iter()
        .map(|verdict| verdict.expect("every post is in one fold"))
        .collect()
}

fn write_held_out(path: &Path, examples: &[(String, Label)], held_out: &[HeldOut]) -> Result<()> {
    let mut writer =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    writer.write_record(["text", "label", "urgency", "p1"])?;
    for ((text, label), verdict) in examples.iter().zip(held_out) {
        let label = match label {
            Label::Urgent => "urgent",
            Label::Complaint => "complaint",
            Label::Other => "other",
        };
        writer.write_record([
            text.as_str(),
            label,
            &format!("{:.3}", verdict.urgency),
            if verdict.paged { "1" } else { "0" },
        ])?;
    }
    writer.flush()?;
    Ok(())
}

/// Held-out urgency overall, at each threshold tried, per fold and per
/// value of `by_keys` (when given).
fn report_held_out_urgency(
    how: &str,
    examples: &[(String, Label)],
    held_out: &[HeldOut],
    fold_keys: &[String],
    by: Option<(&str, &[String])>,
) {
    let mut overall = UrgencyScores::default();
    let mut swept = vec![UrgencyScores::default(); THRESHOLDS_TRIED.len()];
    for ((_, label), verdict) in examples.iter().zip(held_out) {
        overall.add_score(verdict.urgency, verdict.paged, truth(*label));
        for (scores, paged) in swept.iter_mut().zip(&verdict.paged_at) {
            scores.add_score(verdict.urgency, *paged, truth(*label));
        }
    }
    println!(
        "{how}, P1 from urgency {}:",
        TriageSettings::default().p1_threshold
    );
    print_urgency(&overall);
    println!();
    println!("P1 threshold  recall  mild paged  not-complaint paged");
    for (threshold, scores) in THRESHOLDS_TRIED.iter().zip(&swept) {
        println!(
            "{threshold:<13} {:>6.3} {:>11.3} {:>20.3}",
            scores.p1_recall(),
            scores.mild_paged(),
            scores.not_complaint_paged()
        );
    }
    let mut tables = vec![("held out", fold_keys)];
    tables.extend(by);
    for (name, keys) in tables {
        if keys.len() != examples.len() {
            continue;
        }
        let mut groups: Vec<(&str, UrgencyScores)> = Vec::new();
        for (((_, label), verdict), key) in examples.iter().zip(held_out).zip(keys) {
            let at = match groups.iter().position(|(group, _)| group == key) {
                Some(at) => at,
                None => {
                    groups.push((key, UrgencyScores::default()));
                    groups.len() - 1
                }
            };
            groups[at]
                .1
                .add_score(verdict.urgency, verdict.paged, truth(*label));
        }
        println!();
        let groups: Vec<(&str, &UrgencyScores)> = groups
            .iter()
            .map(|(group, scores)| (*group, scores))
            .collect();
        print_urgency_table(name, &groups);
    }
}

/// The urgency figures of a set of labelled posts.
fn print_urgency(scores: &UrgencyScores) {
    let (urgent, mild, not_complaint) = scores.counts();
    println!("urgent posts             {urgent}");
    println!("P1 recall                {:.3}", scores.p1_recall());
    println!(
        "mild complaints paged    {:.3} of {mild}",
        scores.mild_paged()
    );
    println!(
        "not complaints paged     {:.3} of {not_complaint}",
        scores.not_complaint_paged()
    );
    println!(
        "AUC urgent vs mild       {}",
        scores
            .auc_urgent_vs_mild()
            .map_or_else(|| "-".to_owned(), |auc| format!("{auc:.3}"))
    );
}

/// One line of urgency figures per group.
fn print_urgency_table(key: &str, groups: &[(&str, &UrgencyScores)]) {
    println!(
        "{key:<16} {:>6} {:>5} {:>6} {:>7} {:>6} {:>7} {:>6}",
        "urgent", "mild", "other", "recall", "mild%", "other%", "auc"
    );
    for (group, scores) in groups {
        let (urgent, mild, not_complaint) = scores.counts();
        println!(
            "{group:<16} {urgent:>6} {mild:>5} {not_complaint:>6} {:>7.3} {:>6.3} {:>7.3} {:>6}",
            scores.p1_recall(),
            scores.mild_paged(),
            scores.not_complaint_paged(),
            scores
                .auc_urgent_vs_mild()
                .map_or_else(|| "-".to_owned(), |auc| format!("{auc:.3}"))
        );
    }
}

pub fn triage(args: TriageArgs) -> Result<()> {
    let triage = load_triage(&args.model)?;
    let rows = read_rows(&args.columns.input)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (n, row) in rows.iter().enumerate() {
        let text = column(row, &args.columns.text_column, &args.columns.input)?;
        let followers = match &args.followers_column {
            Some(name) => column(row, name, &args.columns.input)?
                .trim()
                .parse::<u64>()
                .ok(),
            None => None,
        };
        let id = match &args.id_column {
            Some(name) => column(row, name, &args.columns.input)?.to_owned(),
            None => (n + 1).to_string(),
        };
        let verdict = triage.assess_text(text, followers, &TriageContext::default());
        let line = json!({
            "id": id,
            "complaint": verdict.complaint,
            "intent": verdict.intent.label(),
            "sentiment": verdict.sentiment,
            "urgency": verdict.urgency,
            "priority": verdict.priority.to_string(),
            "reasons": verdict.reasons,
        });
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Precision, recall and F1 of the complaint decision.
#[derive(Debug, Default, PartialEq)]
pub struct Scores {
    pub true_positive: usize,
    pub false_positive: usize,
    pub false_negative: usize,
    pub true_negative: usize,
}

impl Scores {
    pub fn add(&mut self, predicted: bool, actual: bool) {
        match (predicted, actual) {
            (true, true) => self.true_positive += 1,
            (true, false) => self.false_positive += 1,
            (false, true) => self.false_negative += 1,
            (false, false) => self.true_negative += 1,
        }
    }

    fn ratio(part: usize, whole: usize) -> f64 {
        if whole == 0 {
            0.0
        } else {
            part as f64 / whole as f64
        }
    }

    pub fn posts(&self) -> usize {
        self.true_positive + self.false_positive + self.false_negative + self.true_negative
    }

    pub fn precision(&self) -> f64 {
        Self::ratio(self.true_positive, self.true_positive + self.false_positive)
    }

    pub fn recall(&self) -> f64 {
        Self::ratio(self.true_positive, self.true_positive + self.false_negative)
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn parse_exclusion(raw: &str) -> Result<(String, String), String> {
    raw.split_once('=')
        .map(|(column, value)| (column.to_owned(), value.to_owned()))
        .ok_or_else(|| format!("`{raw}` is not COLUMN=VALUE"))
}

pub fn eval(args: EvalArgs) -> Result<()> {
    let triage = load_triage(&args.model)?;
    let mut rows = read_rows(&args.columns.input)?;
    rows.retain(|row| {
        !args
            .exclude
            .iter()
            .any(|(column, value)| row.get(column).is_some_and(|v| v == value))
    });
    let examples = labelled(&rows, &args.columns, &args.label_column)?;
    let groups = match &args.by {
        Some(key) => keys_of_labelled(&rows, &args.columns.input, &args.label_column, key)?,
        None => Vec::new(),
    };
    // Urgency is measured where the labels say which complaints are urgent.
    let three_way = examples.iter().any(|(_, label)| *label == Label::Urgent);
    let mut scores = Scores::default();
    let mut urgency = UrgencyScores::default();
    let mut by_group: BTreeMap<&str, (Scores, UrgencyScores)> = BTreeMap::new();
    for (n, (text, label)) in examples.iter().enumerate() {
        let verdict = triage.assess_text(text, None, &TriageContext::default());
        scores.add(verdict.complaint, label.is_complaint());
        urgency.add(&verdict, truth(*label));
        if let Some(group) = groups.get(n) {
            let (group_scores, group_urgency) = by_group.entry(group).or_default();
            group_scores.add(verdict.complaint, label.is_complaint());
            group_urgency.add(&verdict, truth(*label));
        }
    }
    println!("posts      {}", examples.len());
    println!(
        "complaints {}",
        scores.true_positive + scores.false_negative
    );
    println!("precision  {:.3}", scores.precision());
    println!("recall     {:.3}", scores.recall());
    println!("f1         {:.3}", scores.f1());
    println!(
        "confusion  tp {} fp {} fn {} tn {}",
        scores.true_positive, scores.false_positive, scores.false_negative, scores.true_negative
    );
    if three_way {
        println!();
        print_urgency(&urgency);
    }
    if let Some(key) = &args.by {
        println!();
        println!(
            "{key:<16} {:>6} {:>10} {:>7} {:>9} {:>6} {:>6}",
            "posts", "complaints", "flagged", "precision", "recall", "f1"
        );
        for (group, (scores, _)) in &by_group {
            println!(
                "{group:<16} {:>6} {:>10} {:>7} {:>9.3} {:>6.3} {:>6.3}",
                scores.posts(),
                scores.true_positive + scores.false_negative,
                scores.true_positive + scores.false_positive,
                scores.precision(),
                scores.recall(),
                scores.f1()
            );
        }
        if three_way {
            println!();
            let groups: Vec<(&str, &UrgencyScores)> = by_group
                .iter()
                .map(|(group, (_, urgency))| (*group, urgency))
                .collect();
            print_urgency_table(key, &groups);
        }
    }
    Ok(())
}

/// `earshot feedback`: the staff's verdicts on alerts as labelled posts
/// (`id,text,label`): closed with DONE is a complaint (1), called NOISE is
/// not (0); alerts with neither are left out.
pub async fn feedback(
    deps: &earshot::adapters::Deps,
    since: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
    output: Option<&Path>,
) -> Result<()> {
    let records = deps.store.recent_mentions(since, until, usize::MAX).await?;
    let mut writer = csv::Writer::from_writer(match output {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        ) as Box<dyn Write>,
        None => Box::new(std::io::stdout()),
    });
    writer.write_record(["id", "text", "label"])?;
    let (mut complaints, mut noise) = (0, 0);
    for record in records.iter().filter(|r| r.alert_code.is_some()) {
        let id = &record.mention.id;
        let label = if deps.follow_up.noise_reported(id).await? {
            noise += 1;
            "0"
        } else if deps.follow_up.closed(id).await?.is_some() {
            complaints += 1;
            "1"
        } else {
            continue;
        };
        writer.write_record([id.as_str(), record.mention.text.as_str(), label])?;
    }
    writer.flush()?;
    eprintln!("{complaints} confirmed complaints, {noise} false alarms");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_their_definitions() {
        let mut scores = Scores::default();
        for (predicted, actual) in [
            (true, true),
            (true, true),
            (true, false),
            (false, true),
            (false, false),
        ] {
            scores.add(predicted, actual);
        }
        assert!((scores.precision() - 2.0 / 3.0).abs() < 1e-9);
        assert!((scores.recall() - 2.0 / 3.0).abs() < 1e-9);
        assert!((scores.f1() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(Scores::default().f1(), 0.0);
    }

    #[test]
    fn cross_validation_judges_only_posts_the_model_has_not_seen() {
        // Every post is one made-up word: memorised when trained on, unknown
        // when held out.
        let examples: Vec<(String, bool)> = (0..40)
            .map(|n| (format!("qx{n}zv{}", n * 7), n % 2 == 0))
            .collect();
        let options = TrainingOptions::default();
        let seen = ModelTriage::new(
            LinearModel::train(&examples, options),
            TriageSettings::default(),
        );
        let mut on_seen = Scores::default();
        for (text, actual) in &examples {
            let verdict = seen.assess_text(text, None, &TriageContext::default());
            on_seen.add(verdict.complaint, *actual);
        }
        assert_eq!(on_seen.f1(), 1.0, "{on_seen:?}");
        let held_out = cross_validate(&examples, &dealt_folds(examples.len(), 4), options);
        assert_eq!(
            held_out.true_positive
                + held_out.false_positive
                + held_out.false_negative
                + held_out.true_negative,
            examples.len(),
            "every post is judged once"
        );
        assert!(held_out.f1() < 0.8, "{held_out:?}");
    }

    #[test]
    fn folds_by_key_hold_a_whole_batch_out_together() {
        // Four batches of ten, each batch one made-up word: dealt folds
        // leave every word in training; folds by batch never do.
        let batch_of = |n: usize| n / 10;
        let examples: Vec<(String, bool)> = (0..40)
            .map(|n| (format!("qx{}zv", batch_of(n)), batch_of(n) % 2 == 0))
            .collect();
        let keys: Vec<String> = (0..40).map(|n| format!("batch-{}", batch_of(n))).collect();
        let by_batch = folds_by_key(&keys);
        assert_eq!(by_batch[..11], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(by_batch.iter().max(), Some(&3));

        let options = TrainingOptions::default();
        let dealt = cross_validate(&examples, &dealt_folds(40, 4), options);
        assert_eq!(dealt.f1(), 1.0, "{dealt:?}");
        let held_out = cross_validate(&examples, &by_batch, options);
        assert!(held_out.f1() < 0.8, "{held_out:?}");
    }

    #[test]
    fn labels_are_read_in_their_usual_spellings() {
        assert_eq!(parse_label("1").unwrap(), Some(Label::Complaint));
        assert_eq!(parse_label(" Complaint ").unwrap(), Some(Label::Complaint));
        assert_eq!(parse_label("URGENT").unwrap(), Some(Label::Urgent));
        assert_eq!(parse_label("false").unwrap(), Some(Label::Other));
        assert_eq!(parse_label("").unwrap(), None);
        assert!(parse_label("maybe").is_err());
        assert!(Label::Urgent.is_complaint() && !Label::Other.is_complaint());
    }

    #[test]
    fn csv_and_json_lines_read_alike_with_quoted_newlines() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path();
        let csv_path = dir.join("posts.csv");
        std::fs::write(
            &csv_path,
            "id,text,label\n1,\"late, again\nand again\",1\n2,thanks,0\n",
        )
        .unwrap();
        let jsonl_path = dir.join("posts.jsonl");
        std::fs::write(
            &jsonl_path,
            "{\"id\": 1, \"text\": \"late, again\\nand again\", \"label\": \"1\"}\n\n{\"id\": 2, \"text\": \"thanks\", \"label\": 0}\n",
        )
        .unwrap();
        let from_csv = read_rows(&csv_path).unwrap();
        let from_jsonl = read_rows(&jsonl_path).unwrap();
        assert_eq!(from_csv, from_jsonl);
        assert_eq!(from_csv[0]["text"], "late, again\nand again");
    }

    #[test]
    fn malformed_rows_are_skipped_with_their_line_numbers() {
        let home = tempfile::tempdir().unwrap();
        let csv_path = home.path().join("posts.csv");
        std::fs::write(
            &csv_path,
            "id,text,label\n1,fine,0\n2,too,many,fields\n3,\"quoted\nover two lines\",1\n4\n5,last,1\n",
        )
        .unwrap();
        let (rows, skipped) = read_rows_skipping(&csv_path).unwrap();
        let ids: Vec<&str> = rows.iter().map(|row| row["id"].as_str()).collect();
        assert_eq!(ids, ["1", "3", "5"]);
        assert_eq!(skipped, [3, 6]);

        let jsonl_path = home.path().join("posts.jsonl");
        std::fs::write(&jsonl_path, "{\"text\": \"a\"}\nnot json\n\n[1]\n").unwrap();
        let (rows, skipped) = read_rows_skipping(&jsonl_path).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(skipped, [2, 4]);
    }

    #[test]
    fn a_file_with_no_readable_row_is_an_error_and_an_empty_one_is_not() {
        let home = tempfile::tempdir().unwrap();
        let broken = home.path().join("broken.csv");
        std::fs::write(&broken, "id,text\n1,a,b\n2\n").unwrap();
        assert!(read_rows(&broken).is_err());
        let empty = home.path().join("empty.csv");
        std::fs::write(&empty, "id,text\n").unwrap();
        assert!(read_rows(&empty).unwrap().is_empty());
    }
}
