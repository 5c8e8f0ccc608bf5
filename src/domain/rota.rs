//! Who is on shift: weekly rotations per tier, handed over at a local time
//! in the team's zone, and one-off overrides on top.
//!
//! Hand-overs are wall-clock times ("Monday 09:00 in Europe/London"), so a
//! shift that spans a daylight-saving change is an hour shorter or longer
//! in UTC; the hand-over itself never moves on the office clock.

use std::fmt;

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::roster::{OnCallContact, PhoneNumber};
use super::zone::Zone;

/// The longest one-off override: longer cover belongs in the rotation.
pub const MAX_OVERRIDE: Duration = Duration::days(31);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RotaError {
    #[error("a rotation needs at least one person")]
    NobodyInRotation,
    #[error("{0} appears twice in the rotation")]
    RepeatedPerson(PhoneNumber),
    #[error("`{0}` is not an IANA time zone such as Europe/London")]
    UnknownZone(String),
    #[error("`{0}` is not a hand-over time: write a weekday and HH:MM, e.g. \"Mon 09:00\"")]
    BadHandover(String),
    #[error("an override must end after it starts")]
    EmptyOverride,
    #[error("an override may last at most {} days", MAX_OVERRIDE.num_days())]
    OverrideTooLong,
    #[error("tier {0} is not between 1 and 9")]
    BadTier(u8),
}

/// The weekly moment a shift passes on: a weekday and a local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Handover {
    pub day: Weekday,
    pub time: NaiveTime,
}

impl Handover {
    /// `Mon 09:00`, `monday 9:00`, `FRI 17:30`.
    pub fn parse(raw: &str) -> Result<Self, RotaError> {
        let bad = || RotaError::BadHandover(raw.to_owned());
        let mut words = raw.split_whitespace();
        let day: Weekday = words.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
        let time =
            NaiveTime::parse_from_str(words.next().ok_or_else(bad)?, "%H:%M").map_err(|_| bad())?;
        if words.next().is_some() {
            return Err(bad());
        }
        Ok(Self { day, time })
    }
}

impl fmt::Display for Handover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.day, self.time.format("%H:%M"))
    }
}

super::string_form!(Handover, RotaError);

/// One tier's weekly rotation: `people[0]` takes the shift at the first
/// hand-over on or after `starts_on`, the next person a week later, and
/// round again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    pub tier: u8,
    pub people: Vec<PhoneNumber>,
    pub handover: Handover,
    /// IANA zone the hand-over time is read in.
    pub time_zone: String,
    /// The local date of the first hand-over (always a hand-over weekday).
    pub starts_on: NaiveDate,
}

impl Rotation {
    /// Checks the rotation and moves `starts_on` to its first hand-over day.
    pub fn new(
        tier: u8,
        people: Vec<PhoneNumber>,
        handover: Handover,
        time_zone: &str,
        starts_on: NaiveDate,
    ) -> Result<Self, RotaError> {
        check_tier(tier)?;
        let zone =
            Zone::named(time_zone).ok_or_else(|| RotaError::UnknownZone(time_zone.to_owned()))?;
        if people.is_empty() {
            return Err(RotaError::NobodyInRotation);
        }
        for (i, phone) in people.iter().enumerate() {
            if people[..i].contains(phone) {
                return Err(RotaError::RepeatedPerson(phone.clone()));
            }
        }
        let ahead = days_from(starts_on.weekday(), handover.day);
        Ok(Self {
            tier,
            people,
            handover,
            time_zone: zone.name().to_owned(),
            starts_on: starts_on + Days::new(ahead),
        })
    }

    fn zone(&self) -> Zone {
        Zone::named_or_utc(Some(&self.time_zone))
    }

    /// The instant of the hand-over on the local date `day` in `zone`.
    fn handover_on(&self, zone: &Zone, day: NaiveDate) -> DateTime<Utc> {
        zone.instant_of(day.and_time(self.handover.time))
    }

    /// The shift under way at `at`; none before the first hand-over.
    pub fn shift_at(&self, at: DateTime<Utc>) -> Option<Shift> {
        // Looked up once: every hand-over below is read in the same zone.
        let zone = self.zone();
        let local_day = zone.wall_clock(at).date();
        let back = days_from(self.handover.day, local_day.weekday());
        let mut day = local_day - Days::new(back);
        if self.handover_on(&zone, day) > at {
            day = day - Days::new(7);
        }
        if day < self.starts_on {
            return None;
        }
        let week = (day - self.starts_on).num_days() / 7;
        let phone = self.people[week as usize % self.people.len()].clone();
        Some(Shift {
            tier: self.tier,
            phone,
            starts: self.handover_on(&zone, day),
            ends: self.handover_on(&zone, day + Days::new(7)),
            cover: Cover::Rotation,
        })
    }
}

/// Days from `from` forward to the next `to` (0 when they are the same).
fn days_from(from: Weekday, to: Weekday) -> u64 {
    u64::from((to.num_days_from_monday() + 7 - from.num_days_from_monday()) % 7)
}

fn check_tier(tier: u8) -> Result<(), RotaError> {
    if (1..=9).contains(&tier) {
        Ok(())
    } else {
        Err(RotaError::BadTier(tier))
    }
}

/// Someone covering a tier for a while, whatever the rotation says: a swap,
/// a sick day, or a `TAKE` by SMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotaOverride {
    /// Stable for the same tier, start and person, so adding it twice
    /// stores it once.
    pub id: String,
    pub tier: u8,
    pub phone: PhoneNumber,
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl RotaOverride {
    pub fn new(
        tier: u8,
        phone: PhoneNumber,
        starts: DateTime<Utc>,
        ends: DateTime<Utc>,
        created_at: DateTime<Utc>,
    ) -> Result<Self, RotaError> {
        check_tier(tier)?;
        if ends <= starts {
            return Err(RotaError::EmptyOverride);
        }
        if ends - starts > MAX_OVERRIDE {
            return Err(RotaError::OverrideTooLong);
        }
        let digits = phone.as_str();
        let id = format!(
            "T{tier}-{}-{}",
            starts.format("%Y%m%dT%H%M"),
            &digits[digits.len() - 4..]
        );
        Ok(Self {
            id,
            tier,
            phone,
            starts,
            ends,
            created_at,
        })
    }

    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        self.starts <= at && at < self.ends
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cover {
    Rotation,
    Override,
}

/// One person holding one tier from `starts` until `ends`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shift {
    pub tier: u8,
    pub phone: PhoneNumber,
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    pub cover: Cover,
}

/// Every rotation and override, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rota {
    pub rotations: Vec<Rotation>,
    pub overrides: Vec<RotaOverride>,
}

impl Rota {
    pub fn is_empty(&self) -> bool {
        self.rotations.is_empty() && self.overrides.is_empty()
    }

    /// Who holds `tier` at `at`: the newest override covering that moment,
    /// else the rotation's shift; none if the tier has neither.
    pub fn on_shift(&self, tier: u8, at: DateTime<Utc>) -> Option<Shift> {
        let rotation = self
            .rotations
            .iter()
            .find(|r| r.tier == tier)
            .and_then(|r| r.shift_at(at));
        let cover = self
            .overrides
            .iter()
            .filter(|o| o.tier == tier && o.covers(at))
            .max_by_key(|o| o.created_at);
        match cover {
            Some(cover) => Some(Shift {
                tier,
                phone: cover.phone.clone(),
                starts: cover.starts,
                ends: cover.ends,
                cover: Cover::Override,
            }),
            None => rotation,
        }
    }

    /// The tiers anyone can be on shift for.
    pub fn tiers(&self) -> Vec<u8> {
        let mut tiers: Vec<u8> = self
            .rotations
            .iter()
            .map(|r| r.tier)
            .chain(self.overrides.iter().map(|o| o.tier))
            .collect();
        tiers.sort_unstable();
        tiers.dedup();
        tiers
    }

    /// The roster as paging sees it at `at`. A tier someone is on shift for
    /// is that person alone (with their own quiet hours and opt-out); a
    /// tier nobody is on shift for is as the roster says. A person holding
    /// two tiers is paged at the lower one. Someone on shift who is not on
    /// the roster has no contact details and is left out.
    pub fn assign(&self, contacts: &[OnCallContact], at: DateTime<Utc>) -> Vec<OnCallContact> {
        let mut tiers: Vec<u8> = contacts.iter().map(|c| c.tier).collect();
        tiers.extend(self.tiers());
        tiers.sort_unstable();
        tiers.dedup();
        let mut paged: Vec<OnCallContact> = Vec::new();
        for tier in tiers {
            let holders: Vec<OnCallContact> = match self.on_shift(tier, at) {
                Some(shift) => contacts
                    .iter()
                    .filter(|c| c.phone == shift.phone)
                    .map(|c| OnCallContact { tier, ..c.clone() })
                    .collect(),
                None => contacts
                    .iter()
                    .filter(|c| c.tier == tier)
                    .cloned()
                    .collect(),
            };
            for holder in holders {
                if !paged.iter().any(|p| p.phone == holder.phone) {
                    paged.push(holder);
                }
            }
        }
        paged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(raw: &str) -> PhoneNumber {
        PhoneNumber::parse(raw).unwrap()
    }

    fn utc(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    fn date(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    /// Whose phone the rotation rings at `at`.
    fn on_shift(rota: &Rotation, at: &str) -> PhoneNumber {
        rota.shift_at(utc(at)).expect("someone is on shift").phone
    }

    const SAM: &str = "+15555550100";
    const KIM: &str = "+15555550101";
    const LEE: &str = "+15555550102";

    fn london_mondays() -> Rotation {
        Rotation::new(
            1,
            vec![phone(SAM), phone(KIM)],
            Handover::parse("Mon 09:00").unwrap(),
            "Europe/London",
            date("2026-03-16"),
        )
        .unwrap()
    }

    fn contact(name: &str, raw: &str, tier: u8) -> OnCallContact {
        OnCallContact {
            tier,
            ..OnCallContact::new(name, phone(raw), utc("2026-03-01T00:00:00Z"))
        }
    }

    #[test]
    fn people_take_turns_a_week_each_from_the_first_handover() {
        let rota = london_mondays();
        assert_eq!(rota.shift_at(utc("2026-03-16T08:59:00Z")), None);
        let first = rota.shift_at(utc("2026-03-16T09:00:00Z")).unwrap();
        assert_eq!(first.phone, phone(SAM));
        assert_eq!(first.starts, utc("2026-03-16T09:00:00Z"));
        assert_eq!(first.ends, utc("2026-03-23T09:00:00Z"));
        assert_eq!(on_shift(&rota, "2026-03-22T23:00:00Z"), phone(SAM));
        assert_eq!(on_shift(&rota, "2026-03-23T09:00:00Z"), phone(KIM));
    }

    #[test]
    fn the_handover_keeps_its_local_time_across_the_spring_dst_change() {
        // London moves to BST on Sunday 29 March 2026: Monday 09:00 is then
        // 08:00 UTC, so Kim's shift is 167 hours long.
        let rota = london_mondays();
        let kims = rota.shift_at(utc("2026-03-29T12:00:00Z")).unwrap();
        assert_eq!(kims.phone, phone(KIM));
        assert_eq!(kims.ends, utc("2026-03-30T08:00:00Z"));
        assert_eq!(kims.ends - kims.starts, Duration::hours(167));
        assert_eq!(on_shift(&rota, "2026-03-30T07:59:00Z"), phone(KIM));
        let sams = rota.shift_at(utc("2026-03-30T08:30:00Z")).unwrap();
        assert_eq!(sams.phone, phone(SAM));
        assert_eq!(sams.starts, utc("2026-03-30T08:00:00Z"));
    }

    #[test]
    fn the_autumn_change_makes_one_shift_an_hour_longer() {
        // BST ends on Sunday 25 October 2026.
        let rota = london_mondays();
        let shift = rota.shift_at(utc("2026-10-24T12:00:00Z")).unwrap();
        assert_eq!(shift.starts, utc("2026-10-19T08:00:00Z"));
        assert_eq!(shift.ends, utc("2026-10-26T09:00:00Z"));
        assert_eq!(shift.ends - shift.starts, Duration::hours(169));
    }

    #[test]
    fn a_handover_in_the_skipped_hour_happens_as_the_clocks_land() {
        let rota = Rotation::new(
            2,
            vec![phone(SAM), phone(KIM)],
            Handover::parse("Sun 01:30").unwrap(),
            "Europe/London",
            date("2026-03-22"),
        )
        .unwrap();
        // 01:30 does not exist in London on 29 March; 01:30 UTC (02:30 BST)
        // stands in for it.
        assert_eq!(on_shift(&rota, "2026-03-29T01:29:00Z"), phone(SAM));
        assert_eq!(on_shift(&rota, "2026-03-29T01:30:00Z"), phone(KIM));
    }

    #[test]
    fn the_start_date_moves_to_the_first_handover_weekday() {
        // 2026-03-18 is a Wednesday; the first Monday after is the 23rd.
        let rota = Rotation::new(
            1,
            vec![phone(SAM)],
            Handover::parse("monday 09:00").unwrap(),
            "Europe/London",
            date("2026-03-18"),
        )
        .unwrap();
        assert_eq!(rota.starts_on, date("2026-03-23"));
    }

    #[test]
    fn bad_rotations_and_overrides_are_refused_with_a_reason() {
        let mon = Handover::parse("Mon 09:00").unwrap();
        let day = date("2026-03-16");
        assert_eq!(
            Rotation::new(1, vec![], mon, "UTC", day),
            Err(RotaError::NobodyInRotation)
        );
        assert_eq!(
            Rotation::new(1, vec![phone(SAM), phone(SAM)], mon, "UTC", day),
            Err(RotaError::RepeatedPerson(phone(SAM)))
        );
        assert!(matches!(
            Rotation::new(1, vec![phone(SAM)], mon, "Mars/Olympus", day),
            Err(RotaError::UnknownZone(_))
        ));
        assert_eq!(
            Rotation::new(0, vec![phone(SAM)], mon, "UTC", day),
            Err(RotaError::BadTier(0))
        );
        for bad in [
            "",
            "Mon",
            "Mon 9",
            "Someday 09:00",
            "Mon 25:00",
            "Mon 09:00 extra",
        ] {
            assert!(Handover::parse(bad).is_err(), "{bad}");
        }
        let now = utc("2026-03-20T10:00:00Z");
        assert_eq!(
            RotaOverride::new(1, phone(LEE), now, now, now),
            Err(RotaError::EmptyOverride)
        );
        assert_eq!(
            RotaOverride::new(1, phone(LEE), now, now + Duration::days(32), now),
            Err(RotaError::OverrideTooLong)
        );
    }

    #[test]
    fn an_override_wins_while_it_lasts_and_the_newest_wins_over_another() {
        let cover = RotaOverride::new(
            1,
            phone(LEE),
            utc("2026-03-18T12:00:00Z"),
            utc("2026-03-19T12:00:00Z"),
            utc("2026-03-17T00:00:00Z"),
        )
        .unwrap();
        let mut rota = Rota {
            rotations: vec![london_mondays()],
            overrides: vec![cover.clone()],
        };
        assert_eq!(
            rota.on_shift(1, utc("2026-03-18T11:59:00Z")).unwrap().phone,
            phone(SAM)
        );
        let covered = rota.on_shift(1, utc("2026-03-18T12:00:00Z")).unwrap();
        assert_eq!(
            (covered.phone, covered.cover),
            (phone(LEE), Cover::Override)
        );
        assert_eq!(
            rota.on_shift(1, utc("2026-03-19T12:00:00Z")).unwrap().phone,
            phone(SAM)
        );
        let swap_back = RotaOverride::new(
            1,
            phone(KIM),
            utc("2026-03-18T18:00:00Z"),
            utc("2026-03-18T20:00:00Z"),
            utc("2026-03-18T17:00:00Z"),
        )
        .unwrap();
        rota.overrides.push(swap_back);
        assert_eq!(
            rota.on_shift(1, utc("2026-03-18T19:00:00Z")).unwrap().phone,
            phone(KIM)
        );
        assert_eq!(rota.on_shift(2, utc("2026-03-18T19:00:00Z")), None);
        assert_eq!(cover.id, "T1-20260318T1200-0102");
    }

    #[test]
    fn tier_one_is_whoever_is_on_shift_and_other_tiers_follow_the_roster() {
        let rota = Rota {
            rotations: vec![london_mondays()],
            overrides: vec![],
        };
        let contacts = vec![
            contact("Sam", SAM, 1),
            contact("Kim", KIM, 1),
            contact("Lee", LEE, 2),
        ];
        let paged = rota.assign(&contacts, utc("2026-03-24T10:00:00Z"));
        let tiers: Vec<(&str, u8)> = paged.iter().map(|c| (c.name.as_str(), c.tier)).collect();
        assert_eq!(tiers, vec![("Kim", 1), ("Lee", 2)]);
        // Before the rotation starts, the roster's tiers stand.
        let before = rota.assign(&contacts, utc("2026-03-01T10:00:00Z"));
        assert_eq!(before.len(), 3);
    }

    #[test]
    fn someone_from_a_higher_tier_on_shift_is_paged_first_and_once() {
        let rota = Rota {
            rotations: vec![],
            overrides: vec![
                RotaOverride::new(
                    1,
                    phone(LEE),
                    utc("2026-03-18T00:00:00Z"),
                    utc("2026-03-19T00:00:00Z"),
                    utc("2026-03-17T00:00:00Z"),
                )
                .unwrap(),
            ],
        };
        let contacts = vec![contact("Sam", SAM, 1), contact("Lee", LEE, 2)];
        let paged = rota.assign(&contacts, utc("2026-03-18T10:00:00Z"));
        let tiers: Vec<(&str, u8)> = paged.iter().map(|c| (c.name.as_str(), c.tier)).collect();
        assert_eq!(tiers, vec![("Lee", 1)]);
    }
}
