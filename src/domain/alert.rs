//! Where an alert stands, and the reply codes staff answer it with.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a mention's alert stands. Stored with the mention so a retried
/// delivery can finish what a failed one started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AlertState {
    /// Nobody needs to be paged for this mention.
    None,
    /// An SMS is due and not yet confirmed sent to everyone on call.
    Pending,
    /// Every on-call phone accepted the SMS.
    Sent { at: DateTime<Utc>, recipients: u32 },
    /// The last attempt failed; a retry sends to whoever was missed.
    Failed { at: DateTime<Utc>, reason: String },
}

impl AlertState {
    /// Whether delivery still has work to do.
    pub fn is_outstanding(&self) -> bool {
        matches!(self, AlertState::Pending | AlertState::Failed { .. })
    }

    pub fn label(&self) -> &'static str {
        match self {
            AlertState::None => "none",
            AlertState::Pending => "pending",
            AlertState::Sent { .. } => "sent",
            AlertState::Failed { .. } => "failed",
        }
    }
}

/// The short code staff reply with (`ACK K7QD`). Letters and digits that
/// cannot be misread for one another on a small screen.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AlertCode(String);

const CODE_ALPHABET: &[u8] = b"ACDEFHJKLMNPQRTUVWXY3479";
const CODE_LEN: usize = 4;

impl AlertCode {
    /// The code for a mention on the given attempt. The same mention always
    /// gets the same first candidate, so retried deliveries agree on it; a
    /// collision with another mention moves on to the next attempt.
    pub fn candidate(mention_id: &str, attempt: u32) -> Self {
        let mut hash = fnv1a(mention_id.as_bytes());
        hash ^= u64::from(attempt).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        hash = fnv1a(&hash.to_le_bytes());
        let base = CODE_ALPHABET.len() as u64;
        let code = (0..CODE_LEN)
            .map(|i| CODE_ALPHABET[((hash / base.pow(i as u32)) % base) as usize] as char)
            .collect();
        Self(code)
    }

    /// Reads a code typed by a person, forgiving case and stray spaces.
    pub fn parse(raw: &str) -> Option<Self> {
        let code = raw.trim().to_ascii_uppercase();
        (code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b)))
            .then_some(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AlertCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// FNV-1a: tiny, and stable across Rust releases unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_readable() {
        let a = AlertCode::candidate("x:123", 0);
        assert_eq!(a, AlertCode::candidate("x:123", 0));
        assert_ne!(a, AlertCode::candidate("x:123", 1));
        assert_eq!(AlertCode::parse(&a.as_str().to_lowercase()), Some(a));
        assert_eq!(AlertCode::parse("O0I1"), None);
    }
}
