//! `earshot rota`: weekly rotations per tier and one-off overrides, so
//! "tier 1" means whoever is on shift now.

use anyhow::{Result, bail, ensure};
use chrono::{DateTime, NaiveDate, Utc};
use clap::Subcommand;
use earshot::domain::roster::parse_time_zone;
use earshot::domain::rota::{Handover, RotaOverride, Rotation};
use earshot::domain::zone::Zone;
use earshot::domain::{OnCallContact, PhoneNumber};
use earshot::ports::{RosterStore, RotaStore};
use serde::Serialize;

use crate::parse_phone;

#[derive(Subcommand)]
pub enum RotaCommand {
    /// Set a tier's weekly rotation (replaces the tier's rotation).
    Add {
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=9))]
        tier: u8,
        /// Comma-separated, in turn order; each must be on the roster.
        #[arg(long, value_delimiter = ',', value_parser = parse_phone, required = true)]
        people: Vec<PhoneNumber>,
        /// Weekday and local time the shift passes on, e.g. "Mon 09:00".
        #[arg(long, value_parser = parse_handover)]
        handover: Handover,
        /// IANA zone of the hand-over time, e.g. Europe/London.
        #[arg(long, value_parser = parse_time_zone)]
        time_zone: String,
        /// Local date from which the first person's shift starts (at the
        /// first hand-over on or after it); today by default.
        #[arg(long)]
        from: Option<NaiveDate>,
    },
    /// Show each tier's rotation, who is on shift now, and the overrides.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Put someone on a tier for a while, whatever the rotation says.
    Override {
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=9))]
        tier: u8,
        /// Who covers; must be on the roster.
        #[arg(long, value_parser = parse_phone)]
        phone: PhoneNumber,
        /// RFC 3339; now by default.
        #[arg(long)]
        from: Option<DateTime<Utc>>,
        /// RFC 3339, at most 31 days after --from.
        #[arg(long)]
        until: DateTime<Utc>,
    },
    /// Remove a tier's rotation (--tier) or one override (--override).
    Remove {
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=9), conflicts_with = "id", required_unless_present = "id")]
        tier: Option<u8>,
        /// The override's id, as `earshot rota list` shows it.
        #[arg(long = "override")]
        id: Option<String>,
    },
}

fn parse_handover(raw: &str) -> Result<Handover, String> {
    Handover::parse(raw).map_err(|err| err.to_string())
}

/// Refuses anyone not on the roster: a shift needs a phone to page.
fn require_on_roster(contacts: &[OnCallContact], phones: &[PhoneNumber]) -> Result<()> {
    for phone in phones {
        ensure!(
            contacts.iter().any(|c| &c.phone == phone),
            "{phone} is not on the roster; add them first: earshot roster add --name NAME --phone {phone}"
        );
    }
    Ok(())
}

pub async fn run(
    rota: &dyn RotaStore,
    roster: &dyn RosterStore,
    command: RotaCommand,
    now: DateTime<Utc>,
) -> Result<()> {
    match command {
        RotaCommand::Add {
            tier,
            people,
            handover,
            time_zone,
            from,
        } => {
            require_on_roster(&roster.contacts().await?, &people)?;
            let zone = Zone::named(&time_zone)
                .ok_or_else(|| anyhow::anyhow!("`{time_zone}` is not an IANA time zone"))?;
            let from = from.unwrap_or_else(|| zone.wall_clock(now).date());
            let rotation = Rotation::new(tier, people, handover, &time_zone, from)?;
            rota.put_rotation(&rotation).await?;
            println!(
                "Tier {tier} rotates weekly at {handover} {time_zone}, {} people, from {}",
                rotation.people.len(),
                rotation.starts_on
            );
        }
        RotaCommand::List { json } => list(rota, roster, now, json).await?,
        RotaCommand::Override {
            tier,
            phone,
            from,
            until,
        } => {
            require_on_roster(&roster.contacts().await?, std::slice::from_ref(&phone))?;
            let cover = RotaOverride::new(tier, phone, from.unwrap_or(now), until, now)?;
            if !rota.add_override(&cover).await? {
                bail!("override {} already exists", cover.id);
            }
            println!(
                "{} covers tier {tier} from {} until {} (override {})",
                cover.phone,
                cover.starts.format("%Y-%m-%d %H:%M UTC"),
                cover.ends.format("%Y-%m-%d %H:%M UTC"),
                cover.id
            );
        }
        RotaCommand::Remove { tier, id } => match (tier, id) {
            (Some(tier), _) => {
                ensure!(
                    rota.remove_rotation(tier).await?,
                    "tier {tier} has no rotation"
                );
                println!("Tier {tier} no longer rotates; the roster's tiers apply");
            }
            (None, Some(id)) => {
                ensure!(
                    rota.remove_override(&id).await?,
                    "no override {id}; see earshot rota list"
                );
                println!("Override {id} removed");
            }
            (None, None) => bail!("say what to remove: --tier N or --override ID"),
        },
    }
    Ok(())
}

#[derive(Serialize)]
struct TierNow {
    tier: u8,
    rotation: Option<Rotation>,
    on_shift: Option<earshot::domain::rota::Shift>,
    on_shift_name: Option<String>,
}

async fn list(
    rota: &dyn RotaStore,
    roster: &dyn RosterStore,
    now: DateTime<Utc>,
    json: bool,
) -> Result<()> {
    let stored = rota.rota(now).await?;
    let contacts = roster.contacts().await?;
    let name = |phone: &PhoneNumber| {
        contacts.iter().find(|c| &c.phone == phone).map_or_else(
            || format!("{phone} (not on the roster)"),
            |c| c.name.clone(),
        )
    };
    let tiers: Vec<TierNow> = stored
        .tiers()
        .into_iter()
        .map(|tier| {
            let on_shift = stored.on_shift(tier, now);
            TierNow {
                tier,
                rotation: stored.rotations.iter().find(|r| r.tier == tier).cloned(),
                on_shift_name: on_shift.as_ref().map(|s| name(&s.phone)),
                on_shift,
            }
        })
        .collect();
    if json {
        for tier in &tiers {
            println!("{}", serde_json::to_string(tier)?);
        }
        for cover in &stored.overrides {
            println!("{}", serde_json::to_string(cover)?);
        }
        return Ok(());
    }
    if stored.is_empty() {
        println!(
            "No rota: every tier is who the roster says. Add one: earshot rota add --tier 1 --people +15555550123,+15555550124 --handover \"Mon 09:00\" --time-zone Europe/London"
        );
        return Ok(());
    }
    for tier in &tiers {
        if let Some(rotation) = &tier.rotation {
            let people: Vec<String> = rotation.people.iter().map(&name).collect();
            println!(
                "tier {}: weekly at {} {}, from {}: {}",
                tier.tier,
                rotation.handover,
                rotation.time_zone,
                rotation.starts_on,
                people.join(" -> ")
            );
        }
        match (&tier.on_shift, &tier.on_shift_name) {
            (Some(shift), Some(who)) => println!(
                "  on shift now: {who}, until {}",
                shift.ends.format("%Y-%m-%d %H:%M UTC")
            ),
            _ => println!("  on shift now: nobody yet (the roster's tier applies)"),
        }
    }
    for cover in &stored.overrides {
        println!(
            "override {}: {} covers tier {} from {} until {}",
            cover.id,
            name(&cover.phone),
            cover.tier,
            cover.starts.format("%Y-%m-%d %H:%M UTC"),
            cover.ends.format("%Y-%m-%d %H:%M UTC")
        );
    }
    Ok(())
}
