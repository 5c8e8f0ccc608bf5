//! `earshot`: run Earshot's functions locally, manage the on-call roster and
//! look at what was heard and sent.

mod backend;
mod demo;
mod events;
mod rota;
mod show;
mod triage;
mod watch;

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use backend::Backend;
use earshot::domain::roster::{QuietHours, parse_time_zone};
use earshot::domain::{OnCallContact, PhoneNumber};

#[derive(Parser)]
#[command(
    name = "earshot",
    version,
    about = "Hear customers complain in public; page someone when it is urgent."
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
pub struct GlobalArgs {
    /// Use DynamoDB and SNS (standard AWS configuration, EARSHOT_TABLE)
    /// instead of the embedded SQLite store and SMS outbox. Same as
    /// EARSHOT_BACKEND=aws.
    #[arg(long, global = true)]
    aws: bool,
    /// Where the embedded backend keeps its data.
    #[arg(long, global = true, env = "EARSHOT_HOME", default_value = ".earshot")]
    home: PathBuf,
    /// Pretend it is this time (RFC 3339), for tests and demos.
    #[arg(long, global = true, value_name = "RFC3339")]
    now: Option<DateTime<Utc>>,
}

#[derive(Subcommand)]
enum Command {
    /// Add a sample on-call phone and replay events/ through the webhook,
    /// showing which posts became SMS alerts and why.
    Demo {
        /// The folder of sample events.
        #[arg(long, default_value = "events")]
        events: PathBuf,
    },
    /// Run a function's handler in-process on an event file and print its
    /// JSON response.
    Invoke {
        /// The function: webhook, sms-reply, escalate, poll, firehose or delivery.
        function: String,
        /// The event; for firehose, a file of Jetstream frames to replay
        /// (one per line) or a schedule event to read the configured
        /// endpoints.
        event: PathBuf,
    },
    /// Simulate a staff member texting the alert number: runs the sms-reply
    /// handler on the message and prints what it did.
    Sms {
        /// The sender, E.164.
        #[arg(value_parser = parse_phone)]
        from: PhoneNumber,
        /// The text, e.g. "ACK K7QD".
        text: String,
    },
    /// Print a signed webhook event for a raw platform payload.
    #[command(subcommand)]
    Event(events::EventCommand),
    /// Manage the on-call roster.
    #[command(subcommand)]
    Roster(RosterCommand),
    /// Weekly rotations per tier and one-off overrides.
    #[command(subcommand)]
    Rota(rota::RotaCommand),
    /// List the SMS kept in the local outbox (embedded backend).
    Outbox {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Staff verdicts on alerts as labelled posts (`id,text,label`) for
    /// `earshot train --also`: DONE is a complaint, NOISE is not.
    Feedback {
        /// How far back: 30d, 12h.
        #[arg(long, default_value = "90d", value_parser = show::parse_age)]
        since: chrono::Duration,
        /// Where to write the CSV; standard output by default.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// List stored mentions, newest first.
    Mentions {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// How far back: 30m, 12h, 7d.
        #[arg(long, default_value = "7d", value_parser = show::parse_age)]
        since: chrono::Duration,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Manage the brands Earshot polls for.
    #[command(subcommand)]
    Watch(watch::WatchCommand),
    /// Show each polled source's health.
    Sources {
        #[arg(long)]
        json: bool,
    },
    /// Create the storage: the DynamoDB table with --aws, else the SQLite file.
    Setup,
    /// Response times per brand and per person: post to first SMS, to ACK,
    /// to DONE and to the brand's public reply (p50 and p90).
    Report {
        /// How far back: 30m, 12h, 7d.
        #[arg(long, default_value = "7d", value_parser = show::parse_age)]
        since: chrono::Duration,
        /// The report as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Fit the complaint model to labelled posts (CSV or JSON lines).
    Train(triage::TrainArgs),
    /// Triage a file of posts; one JSON object per line on stdout.
    Triage(triage::TriageArgs),
    /// Precision, recall and F1 of complaint detection on labelled posts.
    Eval(triage::EvalArgs),
}

#[derive(Subcommand)]
enum RosterCommand {
    /// Put a person on call.
    Add {
        #[arg(long)]
        name: String,
        /// E.164, e.g. +15555550123.
        #[arg(long, value_parser = parse_phone)]
        phone: PhoneNumber,
        /// 1 for first responders; tier 2 is paged when nobody ACKs an
        /// urgent alert in time, then tier 3.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=9))]
        tier: u8,
        /// IANA time zone for the quiet hours, e.g. Europe/London.
        #[arg(long, value_parser = parse_time_zone)]
        time_zone: Option<String>,
        /// Local window with no reminders, e.g. 22:00-07:00.
        #[arg(long, value_parser = parse_quiet_hours)]
        quiet_hours: Option<QuietHours>,
        /// Hold urgent (P1) alerts too during quiet hours: the next tier is
        /// paged instead.
        #[arg(long)]
        no_p1_in_quiet_hours: bool,
        /// May post the brand's approved public replies (`REPLY <code> <n>`).
        #[arg(long)]
        can_reply: bool,
    },
    /// Show who is on call.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Take a phone off the roster.
    Remove {
        #[arg(value_parser = parse_phone)]
        phone: PhoneNumber,
    },
}

fn parse_quiet_hours(raw: &str) -> Result<QuietHours, String> {
    QuietHours::parse(raw).map_err(|err| err.to_string())
}

fn parse_phone(raw: &str) -> Result<PhoneNumber, String> {
    PhoneNumber::parse(raw).map_err(|err| err.to_string())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    end_quietly_on_closed_pipe();
    let cli = Cli::parse();
    // The demo shows rejected deliveries on purpose; their warnings are noise.
    let level = if matches!(cli.command, Command::Demo { .. }) {
        "error"
    } else {
        "warn"
    };
    earshot::telemetry::init_cli(level);
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("earshot: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Rust ignores SIGPIPE, so printing into a pipe whose reader has gone
/// (`earshot triage ... | head`) would panic or fail with "Broken pipe"; a
/// command-line filter should simply stop, as other Unix tools do.
fn end_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists;
    // SIG_DFL is a valid action for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

async fn run(cli: Cli) -> Result<()> {
    let global = cli.global;
    match cli.command {
        Command::Demo { events } => demo::run(&global, &events).await,
        Command::Invoke { function, event } => {
            let backend = Backend::open(&global).await?;
            let response = backend.invoke(&function, &event).await?;
            println!("{response}");
            Ok(())
        }
        Command::Event(command) => events::run(command),
        Command::Sms { from, text } => {
            let backend = Backend::open(&global).await?;
            let now = global.now.unwrap_or_else(Utc::now);
            let id = format!("local-{}", now.timestamp_nanos_opt().unwrap_or_default());
            let event = earshot::sms_reply::inbound_event(&from, &text, &id);
            let summary = backend.sms_replies().await?.handle(&event).await?;
            println!("{}", serde_json::to_string_pretty(&summary)?);
            Ok(())
        }
        Command::Roster(command) => {
            let backend = Backend::open(&global).await?;
            roster(&backend, command, global.now.unwrap_or_else(Utc::now)).await
        }
        Command::Rota(command) => {
            let backend = Backend::open(&global).await?;
            let now = global.now.unwrap_or_else(Utc::now);
            let deps = &backend.deps;
            rota::run(deps.rota.as_ref(), deps.roster.as_ref(), command, now).await
        }
        Command::Outbox { json } => {
            let backend = Backend::open(&global).await?;
            show::outbox(&backend.outbox()?, json)
        }
        Command::Feedback { since, output } => {
            let backend = Backend::open(&global).await?;
            let now = global.now.unwrap_or_else(Utc::now);
            triage::feedback(&backend.deps, now - since, now, output.as_deref()).await
        }
        Command::Mentions { json, since, limit } => {
            let backend = Backend::open(&global).await?;
            let now = global.now.unwrap_or_else(Utc::now);
            let records = backend
                .deps
                .store
                .recent_mentions(now - since, now, limit)
                .await?;
            let mut rows = Vec::with_capacity(records.len());
            for record in records {
                // Only alerts can have been taken or closed.
                let (owner, closed_by) = if record.alert_code.is_some() {
                    let follow_up = &backend.deps.follow_up;
                    let id = &record.mention.id;
                    (
                        follow_up.owner(id).await?.map(|o| o.name),
                        follow_up.closed(id).await?.map(|o| o.name),
                    )
                } else {
                    (None, None)
                };
                rows.push(show::MentionRow {
                    record,
                    owner,
                    closed_by,
                });
            }
            show::mentions(&rows, json)
        }
        Command::Report { since, json } => {
            let backend = Backend::open(&global).await?;
            let now = global.now.unwrap_or_else(Utc::now);
            let deps = &backend.deps;
            let report = earshot::report::response_report(
                deps.store.as_ref(),
                deps.follow_up.as_ref(),
                deps.follow_through.receipts.as_ref(),
                now - since,
                now,
            )
            .await?;
            show::report(&report, json)
        }
        Command::Watch(command) => {
            let backend = Backend::open(&global).await?;
            let now = global.now.unwrap_or_else(Utc::now);
            watch::run(backend.watch_store().as_ref(), command, now).await
        }
        Command::Sources { json } => {
            let backend = Backend::open(&global).await?;
            watch::sources(backend.source_store().as_ref(), json).await
        }
        Command::Train(args) => triage::train(args),
        Command::Triage(args) => triage::triage(args),
        Command::Eval(args) => triage::eval(args),
        Command::Setup => {
            let backend = Backend::open(&global).await?;
            println!("{}", backend.setup().await?);
            Ok(())
        }
    }
}

async fn roster(backend: &Backend, command: RosterCommand, now: DateTime<Utc>) -> Result<()> {
    let roster = &backend.deps.roster;
    match command {
        RosterCommand::Add {
            name,
            phone,
            tier,
            time_zone,
            quiet_hours,
            no_p1_in_quiet_hours,
            can_reply,
        } => {
            let name = name.trim().to_owned();
            anyhow::ensure!(!name.is_empty(), "--name must not be empty");
            roster
                .put_contact(&OnCallContact {
                    tier,
                    time_zone,
                    quiet_hours,
                    p1_in_quiet_hours: !no_p1_in_quiet_hours,
                    can_reply,
                    ..OnCallContact::new(name.clone(), phone.clone(), now)
                })
                .await?;
            println!("{name} ({phone}) is on call");
        }
        RosterCommand::List { json } => {
            let health = backend.deps.follow_through.receipts.phone_health().await?;
            show::contacts(&roster.contacts().await?, &health, json)?
        }
        RosterCommand::Remove { phone } => {
            let removed = roster.remove_contact(&phone).await?;
            anyhow::ensure!(removed, "{phone} is not on the roster");
            println!("{phone} removed from the roster");
        }
    }
    Ok(())
}

/// Reads an event or payload file, naming it in any error.
fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}
