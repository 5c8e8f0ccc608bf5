//! The people who carry the on-call phone.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

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

impl TryFrom<String> for PhoneNumber {
    type Error = InvalidPhoneNumber;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<PhoneNumber> for String {
    fn from(phone: PhoneNumber) -> Self {
        phone.0
    }
}

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
    fn masked_numbers_hide_the_middle() {
        let phone = PhoneNumber::parse("+15555550123").unwrap();
        assert_eq!(phone.masked(), "+15*******23");
        assert!(!format!("{phone:?}").contains("5550123"));
    }
}
