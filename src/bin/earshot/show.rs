//! How the CLI prints things: a table for people, JSON lines for programs.

use anyhow::Result;
use earshot::adapters::embedded::OutboxMessage;
use earshot::domain::{MentionRecord, OnCallContact};
use earshot::sms::to_gsm7;
use serde::Serialize;

fn json_lines<T: Serialize>(items: &[T]) -> Result<()> {
    for item in items {
        println!("{}", serde_json::to_string(item)?);
    }
    Ok(())
}

/// `30m`, `12h`, `7d`.
pub fn parse_age(raw: &str) -> Result<chrono::Duration, String> {
    let (number, unit) = raw.split_at(raw.len().saturating_sub(1));
    let n: i64 = number
        .parse()
        .map_err(|_| format!("`{raw}` is not an age such as 30m, 12h or 7d"))?;
    match unit {
        "m" => Ok(chrono::Duration::minutes(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        "d" => Ok(chrono::Duration::days(n)),
        _ => Err(format!("`{raw}` is not an age such as 30m, 12h or 7d")),
    }
}

/// The first `width` characters of one line of text.
fn snippet(text: &str, width: usize) -> String {
    let flat = to_gsm7(text);
    if flat.chars().count() <= width {
        return flat;
    }
    let cut: String = flat.chars().take(width.saturating_sub(3)).collect();
    format!("{cut}...")
}

pub fn outbox(messages: &[OutboxMessage], json: bool) -> Result<()> {
    if json {
        return json_lines(messages);
    }
    if messages.is_empty() {
        println!("The outbox is empty: no SMS sent yet.");
    }
    for message in messages {
        println!(
            "#{} to {} at {}",
            message.id,
            message.to,
            message.sent_at.format("%Y-%m-%d %H:%M:%S")
        );
        for line in message.body.lines() {
            println!("  | {line}");
        }
    }
    Ok(())
}

/// A stored mention with who took its alert (ACK) and who closed it (DONE).
#[derive(Serialize)]
pub struct MentionRow {
    #[serde(flatten)]
    pub record: MentionRecord,
    pub owner: Option<String>,
    pub closed_by: Option<String>,
}

pub fn mentions(rows: &[MentionRow], json: bool) -> Result<()> {
    if json {
        return json_lines(rows);
    }
    if rows.is_empty() {
        println!("No mentions stored in that window.");
        return Ok(());
    }
    println!(
        "{:<17} {:<3} {:<7} {:<4} {:<12} {:<16} {:<16} TEXT",
        "RECEIVED", "PRI", "ALERT", "CODE", "OWNER", "AUTHOR", "REASONS"
    );
    for row in rows {
        let record = &row.record;
        let mention = &record.mention;
        let (priority, reasons) = match &record.assessment {
            Some(a) => (a.priority.to_string(), a.reasons.join(",")),
            None => ("-".into(), "brand reply".into()),
        };
        let code = record.alert_code.as_ref().map_or("-", |code| code.as_str());
        let owner = match (&row.owner, &row.closed_by) {
            (_, Some(closer)) => format!("{closer} done"),
            (Some(owner), None) => owner.clone(),
            (None, None) => "-".to_owned(),
        };
        println!(
            "{:<17} {:<3} {:<7} {:<4} {:<12} {:<16} {:<16} {}",
            mention.received_at.format("%Y-%m-%d %H:%M"),
            priority,
            record.alert_label(),
            code,
            snippet(&owner, 12),
            snippet(&format!("@{}", mention.author.handle), 16),
            snippet(&reasons, 16),
            snippet(&mention.text, 60),
        );
    }
    Ok(())
}

/// A roster entry with how its SMS have fared lately.
#[derive(Serialize)]
pub struct RosterRow<'a> {
    #[serde(flatten)]
    pub contact: &'a OnCallContact,
    /// Failed SMS in a row, from delivery receipts.
    pub sms_failures: u32,
    pub last_failure: Option<String>,
}

pub fn contacts(
    contacts: &[OnCallContact],
    health: &[earshot::ports::PhoneHealth],
    json: bool,
) -> Result<()> {
    let failing = |contact: &OnCallContact| {
        health
            .iter()
            .find(|h| h.phone == contact.phone && h.failures > 0)
    };
    if json {
        let rows: Vec<RosterRow> = contacts
            .iter()
            .map(|contact| RosterRow {
                contact,
                sms_failures: failing(contact).map_or(0, |h| h.failures),
                last_failure: failing(contact).and_then(|h| h.last_reason.clone()),
            })
            .collect();
        return json_lines(&rows);
    }
    if contacts.is_empty() {
        println!(
            "Nobody is on call. Add someone: earshot roster add --name NAME --phone +15555550123"
        );
    }
    for contact in contacts {
        let opted_out = if contact.opted_out {
            "  (texted STOP)"
        } else {
            ""
        };
        let quiet = match contact.quiet_hours {
            Some(quiet) => format!(
                "  quiet {quiet} {}{}",
                contact.time_zone.as_deref().unwrap_or("UTC"),
                if contact.p1_in_quiet_hours {
                    ""
                } else {
                    ", P1 held"
                }
            ),
            None => String::new(),
        };
        let replies = if contact.can_reply { "  can reply" } else { "" };
        let failures = match failing(contact) {
            Some(h) => format!(
                "  SMS FAILING: {} in a row ({})",
                h.failures,
                h.last_reason.as_deref().unwrap_or("no reason given")
            ),
            None => String::new(),
        };
        println!(
            "{:<24} {:<16} tier {}{quiet}{replies}{opted_out}{failures}",
            contact.name, contact.phone, contact.tier
        );
    }
    Ok(())
}

/// `4m 10s`, `2h 05m`, `-` for no data.
fn duration(seconds: Option<i64>) -> String {
    match seconds {
        None => "-".into(),
        Some(s) if s < 60 => format!("{s}s"),
        Some(s) if s < 3_600 => format!("{}m {:02}s", s / 60, s % 60),
        Some(s) => format!("{}h {:02}m", s / 3_600, (s % 3_600) / 60),
    }
}

fn quantiles(q: &earshot::report::Quantiles) -> String {
    format!("{} / {}", duration(q.p50_seconds), duration(q.p90_seconds))
}

pub fn report(report: &earshot::report::ResponseReport, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
        return Ok(());
    }
    let header = |first: &str| {
        println!(
            "{first:<20} {:>6}  {:<17} {:<17} {:<17} {:<17}",
            "ALERTS", "FIRST SMS p50/p90", "ACK p50/p90", "DONE p50/p90", "REPLY p50/p90"
        )
    };
    let row = |name: &str, t: &earshot::report::ResponseTimes| {
        println!(
            "{:<20} {:>6}  {:<17} {:<17} {:<17} {:<17}",
            snippet(name, 20),
            t.alerts,
            quantiles(&t.to_first_sms),
            quantiles(&t.to_ack),
            quantiles(&t.to_done),
            quantiles(&t.to_brand_reply)
        )
    };
    if report.by_brand.is_empty() {
        println!("No urgent alerts in that window.");
        return Ok(());
    }
    header("BRAND");
    for (brand, times) in &report.by_brand {
        row(brand, times);
    }
    println!();
    header("PERSON");
    for (person, times) in &report.by_person {
        row(person, times);
    }
    if !report.by_phone.is_empty() {
        println!();
        println!(
            "{:<20} {:>6}  {:<9} {:<9} {:<17}",
            "PHONE", "SMS", "FAILED", "RATE", "DELIVERED p50/p90"
        );
        for (phone, stats) in &report.by_phone {
            let rate = stats
                .failure_rate
                .map_or_else(|| "-".to_owned(), |r| format!("{:.0}%", r * 100.0));
            println!(
                "{phone:<20} {:>6}  {:<9} {rate:<9} {:<17}",
                stats.sms,
                stats.failed,
                quantiles(&stats.to_delivered)
            );
        }
    }
    Ok(())
}
