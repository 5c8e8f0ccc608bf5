//! `earshot train`, `earshot triage` and `earshot eval`: the complaint model
//! on a company's own labelled history, and triage of files of posts.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use earshot::domain::TriageContext;
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
    #[arg(long, default_value = "models/complaint.bin")]
    output: PathBuf,
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

/// Every row of a CSV or JSON-lines file, as column → text.
fn read_rows(path: &Path) -> Result<Vec<Row>> {
    let is_json_lines = path
        .extension()
        .is_some_and(|ext| ext == "jsonl" || ext == "ndjson" || ext == "json");
    if is_json_lines {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return text
            .lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(n, line)| {
                let object: serde_json::Map<String, Value> = serde_json::from_str(line)
                    .with_context(|| {
                        format!("{} line {}: not a JSON object", path.display(), n + 1)
                    })?;
                Ok(object
                    .into_iter()
                    .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                    .collect())
            })
            .collect();
    }
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader.headers()?.clone();
    reader
        .records()
        .enumerate()
        .map(|(n, record)| {
            let record = record.with_context(|| format!("{} row {}", path.display(), n + 2))?;
            Ok(headers
                .iter()
                .map(str::to_owned)
                .zip(record.iter().map(str::to_owned))
                .collect())
        })
        .collect()
}

fn column<'a>(row: &'a Row, name: &str, path: &Path) -> Result<&'a str> {
    row.get(name)
        .map(String::as_str)
        .with_context(|| format!("{} has no column `{name}`", path.display()))
}

/// `1`, `true`, `yes`, `complaint` are complaints; `0`, `false`, `no`,
/// `other` are not; empty means unlabelled.
fn parse_label(raw: &str) -> Result<Option<bool>> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "1" | "true" | "yes" | "complaint" => Ok(Some(true)),
        "0" | "false" | "no" | "other" | "not_complaint" => Ok(Some(false)),
        other => bail!("label `{other}` is neither 1/0, true/false nor complaint/other"),
    }
}

fn labelled(rows: &[Row], args: &Columns, label_column: &str) -> Result<Vec<(String, bool)>> {
    labelled_from(rows, &args.input, &args.text_column, label_column)
}

fn labelled_from(
    rows: &[Row],
    path: &Path,
    text_column: &str,
    label_column: &str,
) -> Result<Vec<(String, bool)>> {
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
    Ok(triage)
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
    let complaints = examples.iter().filter(|(_, label)| *label).count();
    let options = TrainingOptions {
        epochs: args.epochs,
        ..TrainingOptions::default()
    };
    if let Some((how, fold_of)) = held_out_folds(&args, examples.len(), &fold_keys)? {
        let scores = cross_validate(&examples, &fold_of, options);
        println!(
            "{how}: precision {:.3} recall {:.3} f1 {:.3}",
            scores.precision(),
            scores.recall(),
            scores.f1()
        );
    }
    let model = LinearModel::train(&examples, options);
    let mut file = std::fs::File::create(&args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    model.write(&mut file)?;
    println!(
        "trained on {} posts ({complaints} complaints), {} epochs; wrote {}",
        examples.len(),
        args.epochs,
        args.output.display()
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
    let mut scores = Scores::default();
    let mut by_group: BTreeMap<&str, Scores> = BTreeMap::new();
    for (n, (text, actual)) in examples.iter().enumerate() {
        let verdict = triage.assess_text(text, None, &TriageContext::default());
        scores.add(verdict.complaint, *actual);
        if let Some(group) = groups.get(n) {
            by_group
                .entry(group)
                .or_default()
                .add(verdict.complaint, *actual);
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
    if let Some(key) = &args.by {
        println!();
        println!(
            "{key:<16} {:>6} {:>10} {:>7} {:>9} {:>6} {:>6}",
            "posts", "complaints", "flagged", "precision", "recall", "f1"
        );
        for (group, scores) in &by_group {
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
        assert_eq!(parse_label("1").unwrap(), Some(true));
        assert_eq!(parse_label(" Complaint ").unwrap(), Some(true));
        assert_eq!(parse_label("false").unwrap(), Some(false));
        assert_eq!(parse_label("").unwrap(), None);
        assert!(parse_label("maybe").is_err());
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
}
