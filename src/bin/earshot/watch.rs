//! `earshot watch` and `earshot sources`: the brands Earshot polls for and
//! how each of their sources is doing.

use anyhow::{Result, ensure};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use earshot::domain::Platform;
use earshot::ports::{SourceStore, WatchStore};
use earshot::watch::{Account, POLLED_PLATFORMS, Watch, parse_platform};

#[derive(Subcommand)]
pub enum WatchCommand {
    /// Watch a brand (replaces a watch with the same name).
    Add {
        brand: String,
        /// Search terms, passed to each platform's search as written; a
        /// single #hashtag reads that tag's Mastodon timeline.
        #[arg(long)]
        query: String,
        /// Comma-separated: x, bluesky, mastodon, reddit.
        #[arg(long, value_delimiter = ',', value_parser = parse_polled, default_value = "x,bluesky,mastodon,reddit")]
        platforms: Vec<Platform>,
        /// One of the brand's own accounts, <platform>:<id or handle>;
        /// repeat for each (e.g. --account x:2244994945).
        #[arg(long = "account", value_parser = parse_account)]
        accounts: Vec<Account>,
    },
    /// List the watches.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop watching a brand.
    Remove { brand: String },
}

fn parse_polled(raw: &str) -> Result<Platform, String> {
    parse_platform(raw)
        .filter(|p| POLLED_PLATFORMS.contains(p))
        .ok_or_else(|| format!("`{raw}` is not one of x, bluesky, mastodon, reddit"))
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
            let mut watch = Watch::new(&brand, &query, platforms, accounts, now)?;
            // Triage settings set elsewhere survive a re-add.
            if let Some(existing) = store.watch(&watch.brand).await? {
                watch.triage = existing.triage;
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

fn platform_list(platforms: &[Platform]) -> String {
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
