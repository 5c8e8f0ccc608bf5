//! Deciding whether a mention is a complaint and how soon someone must act.
//!
//! Everything downstream depends only on [`Triage`] and [`Assessment`]; the
//! implementation lives in `crate::triage`.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::mention::Mention;

/// How soon a person should look at a mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Priority {
    /// Page someone now.
    P1,
    /// Someone should answer today.
    P2,
    /// Record only.
    P3,
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    Complaint,
    Question,
    Praise,
    Other,
}

impl Intent {
    pub fn label(self) -> &'static str {
        match self {
            Intent::Complaint => "complaint",
            Intent::Question => "question",
            Intent::Praise => "praise",
            Intent::Other => "other",
        }
    }
}

/// The verdict on one mention, with reasons short enough for an SMS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub complaint: bool,
    pub intent: Intent,
    /// -1 (hostile) to 1 (delighted).
    pub sentiment: f32,
    /// 0 (no hurry) to 1 (act this minute).
    pub urgency: f32,
    pub priority: Priority,
    /// At most [`MAX_REASONS`], each a couple of words.
    pub reasons: Vec<String>,
}

#[cfg(test)]
impl Assessment {
    /// An urgent (P1) complaint, as the tests of what alerts say need one.
    pub(crate) fn urgent_complaint(reasons: &[&str]) -> Self {
        Self {
            complaint: true,
            intent: Intent::Complaint,
            sentiment: -0.8,
            urgency: 0.9,
            priority: Priority::P1,
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
        }
    }
}

pub const MAX_REASONS: usize = 3;

/// What one brand's watch may tune.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TriageSettings {
    /// Extra phrases that make a complaint urgent for this brand
    /// ("gate closed", "no power").
    pub urgent_terms: Vec<String>,
    /// Handles (without `@`) whose complaints always page.
    pub vip_authors: Vec<String>,
    /// Followers from which an author's reach counts as a reason.
    pub reach_threshold: u64,
    /// Urgency from which a post pages someone (P1). The default was
    /// chosen on industries held out of the urgency corpus (benches/README.md).
    pub p1_threshold: f32,
    /// Model probability from which a post counts as a complaint.
    pub complaint_threshold: f32,
}

impl Default for TriageSettings {
    fn default() -> Self {
        Self {
            urgent_terms: Vec::new(),
            vip_authors: Vec::new(),
            reach_threshold: 10_000,
            p1_threshold: 0.45,
            complaint_threshold: 0.5,
        }
    }
}

/// What the store knows around a mention, beyond its text.
#[derive(Debug, Clone, PartialEq)]
pub struct TriageContext {
    /// The author's earlier posts about the brand within the window.
    pub recent_posts: usize,
    pub window_minutes: i64,
    pub author_handle: Option<String>,
    /// Whether the author spoke *to* the brand (a reply in a thread) rather
    /// than about it; `None` leaves it to the text ([`opens_with_a_handle`]).
    pub addressed: Option<bool>,
    /// The brand's watch settings; the triage's own defaults without them.
    pub settings: Option<TriageSettings>,
}

impl Default for TriageContext {
    fn default() -> Self {
        Self {
            recent_posts: 0,
            window_minutes: 60,
            author_handle: None,
            addressed: None,
            settings: None,
        }
    }
}

/// A post that opens with a handle (`@brand ...`, or `.@brand ...` to reply
/// in public) is spoken to that account, not merely about it.
pub fn opens_with_a_handle(text: &str) -> bool {
    let text = text.trim_start();
    let text = text.strip_prefix('.').unwrap_or(text);
    text.strip_prefix('@')
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
}

/// The one interface every triage implementation offers.
pub trait Triage: Send + Sync {
    fn assess(&self, mention: &Mention, context: &TriageContext) -> Assessment;
}

/// `45k followers`, `1.2M followers`: the reach reason as staff read it.
pub fn followers_reason(followers: u64) -> String {
    format!("{} followers", compact_count(followers))
}

/// A count in at most four characters: 950, 12k, 1.2M.
pub fn compact_count(n: u64) -> String {
    match n {
        0..=999 => n.to_string(),
        1_000..=999_999 => format!("{}k", n / 1_000),
        _ => {
            let tenths = n / 100_000;
            if tenths.is_multiple_of(10) || tenths >= 100 {
                format!("{}M", tenths / 10)
            } else {
                format!("{}.{}M", tenths / 10, tenths % 10)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_opening_with_a_handle_is_spoken_to_it() {
        assert!(opens_with_a_handle("@skyways where is my bag"));
        assert!(opens_with_a_handle(".@skyways where is my bag"));
        assert!(opens_with_a_handle("  @sky_ways hi"));
        assert!(!opens_with_a_handle("flying @skyways today"));
        assert!(!opens_with_a_handle("@ skyways"));
        assert!(!opens_with_a_handle(""));
    }

    #[test]
    fn follower_counts_are_compact() {
        assert_eq!(compact_count(950), "950");
        assert_eq!(compact_count(45_200), "45k");
        assert_eq!(compact_count(1_200_000), "1.2M");
        assert_eq!(compact_count(3_000_000), "3M");
        assert_eq!(compact_count(25_300_000), "25M");
    }
}
