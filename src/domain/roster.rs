//! The people who carry the on-call phone.

use std::fmt;

use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::zone::Zone;

/// A phone number in E.164 form (`+` then 7 to 15 digits, no leading zero),
/// checked when a person is added rather than when an alert is due.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

#[derive(Debug, Error, PartialEq, Eq)]
#[error(
    "`{0}` is not an E.164 phone number: write + then the country code and number, digits only, e.g. +15555550123"
)]
pub struct InvalidPhoneNumber(pub String);

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, InvalidPhoneNumber> {
        let digits = raw
            .strip_prefix('+')
            .ok_or_else(|| InvalidPhoneNumber(raw.to_owned()))?;
        let valid = (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidPhoneNumber(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as logs may show it: country code and last two digits.
    pub fn masked(&self) -> String {
        let digits = &self.0[1..];
        let head = &digits[..digits.len().min(2)];
        let tail = &digits[digits.len() - 2..];
        format!("+{head}{}{tail}", "*".repeat(digits.len() - head.len() - 2))
    }
}

super::string_form!(PhoneNumber, InvalidPhoneNumber);

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Debug output ends up in logs, so it never shows the whole number.
impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnCallContact {
    pub name: String,
    pub phone: PhoneNumber,
    pub added_at: DateTime<Utc>,
    /// Texted STOP: no alerts until START.
    #[serde(default)]
    pub opted_out: bool,
    /// 1 for first responders; higher tiers are paged when an urgent alert
    /// stays unacknowledged.
    #[serde(default = "first_tier")]
    pub tier: u8,
    /// IANA zone the quiet hours are in; UTC when absent.
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// Whether an urgent (P1) alert still reaches this phone in quiet hours;
    /// if not, the next tier is paged in their place.
    #[serde(default = "pages_in_quiet_hours")]
    pub p1_in_quiet_hours: bool,
    /// May post the brand's approved public replies with `REPLY`.
    #[serde(default)]
    pub can_reply: bool,
}

fn pages_in_quiet_hours() -> bool {
    true
}

impl OnCallContact {
    /// A first responder (tier 1) with no quiet hours, paged for urgent
    /// alerts at any hour, who has not texted STOP.
    pub fn new(name: impl Into<String>, phone: PhoneNumber, added_at: DateTime<Utc>) -> Self {
        Self {
            name: name.into(),
            phone,
            added_at,
            opted_out: false,
            tier: FIRST_TIER,
            time_zone: None,
            quiet_hours: None,
            p1_in_quiet_hours: true,
            can_reply: false,
        }
    }

    /// Whether `at` falls in this person's quiet hours, in their zone.
    pub fn is_quiet_at(&self, at: DateTime<Utc>) -> bool {
        let Some(quiet) = self.quiet_hours else {
            return false;
        };
        let zone = Zone::named_or_utc(self.time_zone.as_deref());
        quiet.contains(zone.wall_clock(at).time())
    }

    /// Whether an urgent alert may go to this phone now.
    pub fn takes_p1_at(&self, at: DateTime<Utc>) -> bool {
        !self.opted_out && (self.p1_in_quiet_hours || !self.is_quiet_at(at))
    }
}

/// A daily window in local time, e.g. 22:00-07:00 (crossing midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("`{0}` is not a quiet-hours window: write HH:MM-HH:MM, e.g. 22:00-07:00")]
pub struct InvalidQuietHours(pub String);

impl QuietHours {
    pub fn parse(raw: &str) -> Result<Self, InvalidQuietHours> {
        let invalid = || InvalidQuietHours(raw.to_owned());
        let (start, end) = raw.trim().split_once('-').ok_or_else(invalid)?;
        let time = |t: &str| NaiveTime::parse_from_str(t.trim(), "%H:%M").map_err(|_| invalid());
        let (start, end) = (time(start)?, time(end)?);
        if start == end {
            return Err(invalid());
        }
        Ok(Self { start, end })
    }

    pub fn contains(&self, time: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= time && time < self.end
        } else {
            time >= self.start || time < self.end
        }
    }
}

super::string_form!(QuietHours, InvalidQuietHours);

impl fmt::Display for QuietHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }
}

/// Checks an IANA time zone name such as `Europe/London`.
pub fn parse_time_zone(raw: &str) -> Result<String, String> {
    Zone::named(raw)
        .map(|zone| zone.name().to_owned())
        .ok_or_else(|| {
            format!("`{raw}` is not an IANA time zone such as Europe/London or America/New_York")
        })
}

pub const FIRST_TIER: u8 = 1;

fn first_tier() -> u8 {
    FIRST_TIER
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_e164_numbers() {
        for ok in ["+15555550123", "+447700900123", "+4915112345678"] {
            assert_eq!(PhoneNumber::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn refuses_anything_else_with_a_hint() {
        for bad in [
            "15555550123",
            "+1 555 555 0123",
            "+0123456789",
            "+12",
            "+1234567890123456",
            "",
            "+",
        ] {
            let err = PhoneNumber::parse(bad).unwrap_err();
            assert!(err.to_string().contains("E.164"), "{bad}");
        }
    }

    #[test]
    fn quiet_hours_may_cross_midnight_in_the_persons_zone() {
        let night = QuietHours::parse("22:00-07:00").unwrap();
        let at = |t: &str| NaiveTime::parse_from_str(t, "%H:%M").unwrap();
        assert!(night.contains(at("23:30")) && night.contains(at("06:59")));
        assert!(!night.contains(at("07:00")) && !night.contains(at("12:00")));
        let lunch = QuietHours::parse("12:00-13:00").unwrap();
        assert!(lunch.contains(at("12:30")) && !lunch.contains(at("13:00")));
        assert!(QuietHours::parse("22:00").is_err() && QuietHours::parse("25:00-07:00").is_err());
        assert_eq!(night.to_string(), "22:00-07:00");

        let phone = PhoneNumber::parse("+15555550100").unwrap();
        let mut sam = OnCallContact {
            time_zone: Some("America/New_York".into()),
            quiet_hours: Some(night),
            p1_in_quiet_hours: false,
            ..OnCallContact::new("Sam", phone, Utc::now())
        };
        // 03:00 UTC is 22:00 in New York in November: quiet there.
        let utc = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
        assert!(sam.is_quiet_at(utc("2026-11-24T03:00:00Z")));
        assert!(!sam.is_quiet_at(utc("2026-11-24T02:59:00Z")));
        assert!(!sam.takes_p1_at(utc("2026-11-24T03:00:00Z")));
        sam.p1_in_quiet_hours = true;
        assert!(sam.takes_p1_at(utc("2026-11-24T03:00:00Z")));
        assert_eq!(parse_time_zone("Europe/London").unwrap(), "Europe/London");
        assert!(parse_time_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn masked_numbers_hide_the_middle() {
        let phone = PhoneNumber::parse("+15555550123").unwrap();
        assert_eq!(phone.masked(), "+15*******23");
        assert!(!format!("{phone:?}").contains("5550123"));
    }
}
