//! `earshot demo`: the whole spine on the embedded backend in one command.

use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono::Utc;
use earshot::config::Secret;
use earshot::domain::Clock;
use earshot::domain::{Account, Watch};
use earshot::domain::{MentionId, OnCallContact, PhoneNumber};
use earshot::http::HttpRequest;
use earshot::webhook::{Webhook, WebhookSecrets};
use serde_json::Value;

use crate::GlobalArgs;
use crate::backend::Backend;

/// The secret the sample events in `events/` are signed with. It guards
/// nothing: it exists so the samples verify like real deliveries.
pub const DEMO_SECRET: &str = "earshot-demo-secret";
const DEMO_PHONE: &str = "+15555550100";
/// The sample brand's accounts, as the sample payloads name them.
const DEMO_ACCOUNTS: [&str; 4] = [
    "x:1597000000000000001",
    "facebook:104200000000777",
    "instagram:17841400000000777",
    "mastodon:NorthwindAir",
];

/// Every webhook secret set to the demo secret (no Graph API token: the
/// Instagram mention sample is stored without its text).
fn demo_secrets() -> WebhookSecrets {
    let demo = || Some(Secret::new(DEMO_SECRET));
    WebhookSecrets {
        meta_app_secret: demo(),
        meta_verify_token: demo(),
        mastodon_webhook_secret: demo(),
        ..WebhookSecrets::x_only(Secret::new(DEMO_SECRET))
    }
}

pub async fn run(global: &GlobalArgs, events_dir: &Path) -> Result<()> {
    if global.aws {
        bail!("the demo runs on the embedded backend; drop --aws");
    }
    // A fresh store each time, so the demo always tells the same story.
    let home = global.home.join("demo");
    if home.exists() {
        std::fs::remove_dir_all(&home)
            .with_context(|| format!("cannot clear {}", home.display()))?;
    }
    let clock = global.now.map_or(Clock::System, Clock::Fixed);
    let backend = Backend::embedded(&home, clock, false)?;
    backend
        .deps
        .roster
        .put_contact(&OnCallContact::new(
            "Sam (on call)",
            PhoneNumber::parse(DEMO_PHONE)?,
            Utc::now(),
        ))
        .await?;
    println!(
        "On call: Sam {DEMO_PHONE}. Replaying {}:\n",
        events_dir.display()
    );

    // The brand's own accounts, so Meta and Mastodon deliveries find it.
    let accounts = DEMO_ACCOUNTS
        .iter()
        .map(|raw| Account::parse(raw))
        .collect::<Result<Vec<_>, _>>()?;
    let watch = Watch::new("NorthwindAir", "northwind", vec![], accounts, Utc::now())?;
    backend.deps.watches.put_watch(&watch).await?;

    let webhook = Webhook::new(demo_secrets(), &backend.deps, clock)?;
    let mut files: Vec<_> = std::fs::read_dir(events_dir)
        .with_context(|| format!("cannot read {}", events_dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "json")
                && path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("webhook-"))
        })
        .collect();
    files.sort();
    for path in &files {
        let request: HttpRequest = serde_json::from_slice(&crate::read_file(path)?)
            .with_context(|| format!("{} is not an HTTP event", path.display()))?;
        let response = webhook.handle(&request).await;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        println!("{name}\n  -> HTTP {}", response.status_code);
        let body: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
        if let Some(error) = body.get("error").and_then(Value::as_str) {
            println!("     {error}");
        }
        if let Some(revised) = body
            .get("revised")
            .and_then(Value::as_u64)
            .filter(|&n| n > 0)
        {
            println!("     {revised} stored mention(s) edited or removed in place");
        }
        for outcome in body
            .get("mentions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            describe(&backend, outcome).await?;
        }
    }

    let outbox = backend.outbox()?;
    println!("\n{} SMS in the outbox ({}):", outbox.len(), home.display());
    crate::show::outbox(&outbox, false)?;
    println!(
        "\nTry: earshot --home {} mentions   |   earshot --home {} outbox",
        home.display(),
        home.display()
    );
    Ok(())
}

/// One line per mention: what triage said and whether anyone was paged.
async fn describe(backend: &Backend, outcome: &Value) -> Result<()> {
    let Some(id) = outcome
        .get("id")
        .and_then(Value::as_str)
        .and_then(MentionId::parse)
    else {
        return Ok(());
    };
    let Some(record) = backend.deps.store.get_mention(&id).await? else {
        return Ok(());
    };
    let duplicate = outcome.get("duplicate").and_then(Value::as_bool) == Some(true);
    let sent = outcome.get("sms_sent").and_then(Value::as_u64).unwrap_or(0);
    let verdict = match &record.assessment {
        None => "the brand's own reply, recorded".to_owned(),
        Some(a) => {
            let reasons = if a.reasons.is_empty() {
                String::new()
            } else {
                format!(" ({})", a.reasons.join(", "))
            };
            format!("{} {}{reasons}", a.priority, a.intent.label())
        }
    };
    let alert = match (duplicate, sent) {
        (true, 0) => "duplicate: already stored, no second SMS".to_owned(),
        (_, 0) => format!("no SMS (alert {})", record.alert.label()),
        (_, n) => format!("SMS sent to {n} phone(s)"),
    };
    println!(
        "     {id} @{}: {verdict}; {alert}",
        record.mention.author.handle
    );
    Ok(())
}
