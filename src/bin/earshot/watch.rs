//! `earshot watch` and `earshot sources`: the brands Earshot polls for and
//! how each of their sources is doing.

use anyhow::{Result, bail, ensure};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use earshot::domain::Platform;
use earshot::domain::reply_template::{DEFAULT_PROMISE_WINDOW_MINUTES, ReplyTemplate, next_number};
use earshot::domain::{Account, Watch};
use earshot::ports::{SourceStore, WatchStore};
use earshot::triage::TriageSettings;

#[derive(Subcommand)]
pub enum WatchCommand {
    /// Watch a brand (replaces a watch with the same name).
    Add {
        brand: String,
        /// Search terms, passed to each platform's search as written; a
        /// single #hashtag reads that tag's Mastodon timeline.
        #[arg(long)]
        query: String,
        /// Comma-separated polled platforms, all of them by default; `none`
        /// for a brand heard by webhooks only (Meta, Mastodon, X).
        #[arg(long, value_delimiter = ',', value_parser = parse_polled)]
        platforms: Vec<Option<Platform>>,
        /// One of the brand's own accounts, <platform>:<id or handle>;
        /// repeat for each (e.g. --account x:2244994945).
        #[arg(long = "account", value_parser = parse_account)]
        accounts: Vec<Account>,
    },
    /// Tune triage for one brand; unset options keep their value.
    Triage {
        brand: String,
        /// A phrase that makes a complaint urgent for this brand; repeat for
        /// each (replaces the list).
        #[arg(long = "urgent-term")]
        urgent_terms: Vec<String>,
        /// An author whose complaints always page (handle, without @);
        /// repeat for each (replaces the list).
        #[arg(long = "vip")]
        vip_authors: Vec<String>,
        /// Followers from which an author's reach counts as a reason.
        #[arg(long)]
        reach: Option<u64>,
        /// Urgency (0 to 1) from which a complaint pages someone.
        #[arg(long, value_parser = parse_unit)]
        p1_threshold: Option<f32>,
        /// Back to the defaults.
        #[arg(long, conflicts_with_all = ["urgent_terms", "vip_authors", "reach", "p1_threshold"])]
        reset: bool,
    },
    /// List the watches.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop watching a brand.
    Remove { brand: String },
    /// The brand's approved public replies, posted with `REPLY <code> <n>`.
    ReplyTemplate {
        brand: String,
        #[command(subcommand)]
        action: TemplateAction,
    },
}

#[derive(Subcommand)]
pub enum TemplateAction {
    /// Approve a reply; placeholders: {first_name}, {handle}, {brand}.
    Add {
        text: String,
        /// The reply promises contact within this many minutes: the owner
        /// is reminded if the alert is not DONE by then.
        #[arg(long, default_value_t = DEFAULT_PROMISE_WINDOW_MINUTES)]
        within_minutes: u32,
    },
    /// Show the brand's replies with their numbers.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Withdraw a reply; its number is not given to another.
    Remove { number: u32 },
}

/// A polled platform, or `None` for `none`.
fn parse_polled(raw: &str) -> Result<Option<Platform>, String> {
    if raw.trim().eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    Platform::parse(raw)
        .filter(|p| p.is_polled())
        .map(Some)
        .ok_or_else(|| format!("`{raw}` is not one of {}, none", Platform::polled_keys()))
}

fn parse_unit(raw: &str) -> Result<f32, String> {
    raw.parse::<f32>()
        .ok()
        .filter(|v| (0.0..=1.0).contains(v))
        .ok_or_else(|| format!("`{raw}` is not a number from 0 to 1"))
}

fn parse_account(raw: &str) -> Result<Account, String> {
    Account::parse(raw).map_err(|err| err.to_string())
}

pub async fn run(store: &dyn WatchStore, command: WatchCommand, now: DateTime<Utc>) -> Result<()> {
    match command {
        WatchCommand::Add {
            brand,
            query,
            platforms,
            accounts,
        } => {
            let platforms = if platforms.is_empty() {
                Platform::polled().collect()
            } else {
                platforms.into_iter().flatten().collect()
            };
            let mut watch = Watch::new(&brand, &query, platforms, accounts, now)?;
            // Triage settings set elsewhere survive a re-add.
            if let Some(existing) = store.watch(&watch.brand).await? {
                watch.triage = existing.triage;
                watch.reply_templates = existing.reply_templates;
            }
            store.put_watch(&watch).await?;
            println!(
                "watching {} on {}",
                watch.brand,
                platform_list(&watch.platforms)
            );
        }
        WatchCommand::List { json } => {
            for watch in store.watches().await? {
                if json {
                    println!("{}", serde_json::to_string(&watch)?);
                } else {
                    let accounts: Vec<String> =
                        watch.accounts.iter().map(ToString::to_string).collect();
                    println!(
                        "{:<20} {:<28} query: {}  accounts: {}",
                        watch.brand,
                        platform_list(&watch.platforms),
                        watch.query,
                        if accounts.is_empty() {
                            "-".into()
                        } else {
                            accounts.join(" ")
                        }
                    );
                }
            }
        }
        WatchCommand::Triage {
            brand,
            urgent_terms,
            vip_authors,
            reach,
            p1_threshold,
            reset,
        } => {
            let Some(mut watch) = store.watch(&brand).await? else {
                bail!("no watch named {brand:?}; add it first with `earshot watch add`");
            };
            let mut settings = if reset {
                TriageSettings::default()
            } else {
                watch.triage.clone().unwrap_or_default()
            };
            if !urgent_terms.is_empty() {
                settings.urgent_terms = urgent_terms;
            }
            if !vip_authors.is_empty() {
                settings.vip_authors = vip_authors
                    .iter()
                    .map(|h| h.trim_start_matches('@').to_owned())
                    .collect();
            }
            if let Some(reach) = reach {
                settings.reach_threshold = reach;
            }
            if let Some(threshold) = p1_threshold {
                settings.p1_threshold = threshold;
            }
            println!("{brand}: {}", serde_json::to_string(&settings)?);
            watch.triage = (settings != TriageSettings::default()).then_some(settings);
            store.put_watch(&watch).await?;
        }
        WatchCommand::ReplyTemplate { brand, action } => {
            reply_templates(store, &brand, action, now).await?;
        }
        WatchCommand::Remove { brand } => {
            ensure!(
                store.remove_watch(&brand).await?,
                "no watch named {brand:?}"
            );
            println!("stopped watching {brand}");
        }
    }
    Ok(())
}

async fn reply_templates(
    store: &dyn WatchStore,
    brand: &str,
    action: TemplateAction,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(mut watch) = store.watch(brand).await? else {
        bail!("no watch named {brand:?}; add it first with `earshot watch add`");
    };
    match action {
        TemplateAction::Add {
            text,
            within_minutes,
        } => {
            let number = next_number(&watch.reply_templates);
            let template = ReplyTemplate::new(number, &text, within_minutes, now)?;
            watch.reply_templates.push(template);
            store.put_watch(&watch).await?;
            println!("{brand}: reply {number} approved (REPLY <code> {number})");
        }
        TemplateAction::List { json } => {
            for template in &watch.reply_templates {
                if json {
                    println!("{}", serde_json::to_string(template)?);
                } else {
                    println!(
                        "{:>3}  within {:>4} min  {}",
                        template.number, template.promise_window_minutes, template.text
                    );
                }
            }
        }
        TemplateAction::Remove { number } => {
            let before = watch.reply_templates.len();
            watch.reply_templates.retain(|t| t.number != number);
            ensure!(
                watch.reply_templates.len() < before,
                "{brand} has no reply {number}"
            );
            store.put_watch(&watch).await?;
            println!("{brand}: reply {number} withdrawn");
        }
    }
    Ok(())
}

fn platform_list(platforms: &[Platform]) -> String {
    if platforms.is_empty() {
        return "webhooks only".into();
    }
    platforms
        .iter()
        .map(|p| p.key())
        .collect::<Vec<_>>()
        .join(",")
}

/// `earshot sources`: each source's health, one line (or JSON object) each.
pub async fn sources(store: &dyn SourceStore, json: bool) -> Result<()> {
    let time = |at: Option<DateTime<Utc>>| {
        at.map_or_else(
            || "-".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M").to_string(),
        )
    };
    for state in store.sources().await? {
        if json {
            println!("{}", serde_json::to_string(&state)?);
            continue;
        }
        println!(
            "{:<20} {:<9} {:<8} ok {}  failures {}  wait until {}  last error: {}",
            state.key.brand,
            state.key.platform.key(),
            state.alarm.map_or("healthy", |a| a.label()),
            time(state.last_success),
            state.consecutive_failures,
            time(state.not_before),
            state.last_error.as_deref().unwrap_or("-"),
        );
    }
    Ok(())
}
