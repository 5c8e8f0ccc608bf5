//! Deciding whether a mention is a complaint and how soon someone must act.
//!
//! Everything downstream depends only on [`Triage`] and [`Assessment`], so a
//! stronger model can replace [`KeywordTriage`] without touching the rest.

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
    /// 0 (no hurry) to 1 (act this minute).
    pub urgency: f32,
    pub priority: Priority,
    /// At most [`MAX_REASONS`], each a couple of words.
    pub reasons: Vec<String>,
}

pub const MAX_REASONS: usize = 3;

/// The one interface every triage implementation offers.
pub trait Triage: Send + Sync {
    fn assess(&self, mention: &Mention) -> Assessment;
}

/// A first, explainable triage from word lists: good enough to page on the
/// obvious cases, and honest about why it did.
#[derive(Debug, Clone)]
pub struct KeywordTriage {
    /// Authors with at least this many followers count as having reach.
    pub reach_threshold: u64,
}

impl Default for KeywordTriage {
    fn default() -> Self {
        Self {
            reach_threshold: 10_000,
        }
    }
}

/// A group of phrases that, found in a post, gives one short reason.
struct Signal {
    reason: &'static str,
    phrases: &'static [&'static str],
}

const COMPLAINT: &[Signal] = &[
    Signal {
        reason: "cancelled",
        phrases: &["cancelled", "canceled", "cancellation"],
    },
    Signal {
        reason: "delayed",
        phrases: &[
            "delayed",
            "delay ",
            "late again",
            "hours late",
            "still waiting",
        ],
    },
    Signal {
        reason: "no response",
        phrases: &[
            "no response",
            "no reply",
            "ignored",
            "nobody answers",
            "no one answers",
            "nobody is answering",
            "on hold",
            "hung up",
        ],
    },
    Signal {
        reason: "refund",
        phrases: &["refund", "charged twice", "overcharged", "money back"],
    },
    Signal {
        reason: "broken",
        phrases: &[
            "broken",
            "doesn't work",
            "does not work",
            "not working",
            "stopped working",
            "outage",
            "is down",
            "crashed",
        ],
    },
    Signal {
        reason: "lost",
        phrases: &[
            "lost my",
            "lost our",
            "missing bag",
            "lost luggage",
            "never arrived",
            "never delivered",
        ],
    },
    Signal {
        reason: "angry",
        phrases: &[
            "worst",
            "terrible",
            "awful",
            "disgusting",
            "unacceptable",
            "ridiculous",
            "furious",
            "fed up",
            "never again",
            "shame on",
        ],
    },
];

const TIME_PRESSURE: &[Signal] = &[
    Signal {
        reason: "stuck",
        phrases: &[
            "stuck",
            "stranded",
            "trapped",
            "locked out",
            "sat on the tarmac",
            "on the tarmac",
        ],
    },
    Signal {
        reason: "waiting hours",
        phrases: &[
            "an hour",
            "1 hour",
            "2 hours",
            "3 hours",
            "hours now",
            "for hours",
            "40 minutes",
            "45 minutes",
        ],
    },
    Signal {
        reason: "deadline now",
        phrases: &[
            "tonight",
            "right now",
            "in 30 minutes",
            "leaves in",
            "boarding",
            "missed my",
            "about to miss",
        ],
    },
];

const VULNERABLE: &[Signal] = &[
    Signal {
        reason: "kids",
        phrases: &[
            "kids",
            "children",
            "my son",
            "my daughter",
            "toddler",
            "baby",
            "infant",
        ],
    },
    Signal {
        reason: "health",
        phrases: &[
            "medical",
            "medication",
            "allergy",
            "allergic",
            "wheelchair",
            "pregnant",
            "elderly",
            "disabled",
            "insulin",
        ],
    },
    Signal {
        reason: "safety",
        phrases: &[
            "gas leak",
            "smell gas",
            "fire",
            "danger",
            "unsafe",
            "injured",
            "bleeding",
        ],
    },
];

const PRAISE: &[&str] = &[
    "thank you",
    "thanks",
    "love ",
    "amazing",
    "awesome",
    "great service",
    "well done",
    "brilliant",
];

fn matched(signals: &'static [Signal], text: &str) -> Vec<&'static str> {
    signals
        .iter()
        .filter(|signal| signal.phrases.iter().any(|p| text.contains(p)))
        .map(|signal| signal.reason)
        .collect()
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

impl Triage for KeywordTriage {
    fn assess(&self, mention: &Mention) -> Assessment {
        let text = mention.text.to_lowercase();
        let complaints = matched(COMPLAINT, &text);
        let pressure = matched(TIME_PRESSURE, &text);
        let vulnerable = matched(VULNERABLE, &text);
        let praised = PRAISE.iter().any(|p| text.contains(p));
        let has_reach = mention
            .author
            .followers
            .is_some_and(|n| n >= self.reach_threshold);

        // Distress without a complaint word ("stuck on the tarmac with the
        // kids") is still a complaint: nobody tweets that to say thanks.
        let complaint = !complaints.is_empty() || (!pressure.is_empty() && !praised);
        let intent = if complaint {
            Intent::Complaint
        } else if praised {
            Intent::Praise
        } else if text.contains('?') {
            Intent::Question
        } else {
            Intent::Other
        };

        let mut urgency: f32 = if complaint { 0.4 } else { 0.0 };
        if complaint {
            urgency += 0.3 * pressure.len().min(1) as f32;
            urgency += 0.3 * vulnerable.len().min(1) as f32;
            if has_reach {
                urgency += 0.1;
            }
        }
        let urgency = urgency.min(1.0);

        let priority = if complaint && (!pressure.is_empty() || !vulnerable.is_empty()) {
            Priority::P1
        } else if complaint {
            Priority::P2
        } else {
            Priority::P3
        };

        // Most telling first: who is at risk, then how pressing, then what.
        let mut reasons: Vec<String> = Vec::new();
        if complaint {
            reasons.extend(
                vulnerable
                    .iter()
                    .chain(&pressure)
                    .chain(&complaints)
                    .map(|r| (*r).to_owned()),
            );
            if has_reach {
                let reach = followers_reason(mention.author.followers.unwrap_or_default());
                reasons.insert(reasons.len().min(2), reach);
            }
        } else if praised {
            reasons.push("praise".to_owned());
        }
        reasons.truncate(MAX_REASONS);

        Assessment {
            complaint,
            intent,
            urgency,
            priority,
            reasons,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mention::{Author, MentionId, Platform, Voice};
    use chrono::Utc;

    fn post(text: &str, followers: u64) -> Mention {
        Mention {
            id: MentionId::new(Platform::X, "1"),
            platform: Platform::X,
            url: "https://x.com/i/status/1".into(),
            author: Author {
                id: "7".into(),
                handle: "someone".into(),
                display_name: None,
                followers: Some(followers),
            },
            text: text.into(),
            created_at: Utc::now(),
            received_at: Utc::now(),
            in_reply_to: None,
            quotes: None,
            brand: "skyways".into(),
            voice: Voice::Customer,
        }
    }

    #[test]
    fn stranded_family_pages_now_with_reasons() {
        let verdict = KeywordTriage::default().assess(&post(
            "@skyways we have been stuck on the tarmac for an hour with two kids and no water",
            45_200,
        ));
        assert!(verdict.complaint);
        assert_eq!(verdict.priority, Priority::P1);
        assert_eq!(verdict.reasons, vec!["kids", "stuck", "45k followers"]);
    }

    #[test]
    fn a_plain_complaint_waits_for_today() {
        let verdict = KeywordTriage::default().assess(&post(
            "@skyways still no refund for my cancelled booking in March",
            120,
        ));
        assert_eq!(verdict.intent, Intent::Complaint);
        assert_eq!(verdict.priority, Priority::P2);
        assert_eq!(verdict.reasons, vec!["cancelled", "refund"]);
    }

    #[test]
    fn praise_is_recorded_only() {
        let verdict = KeywordTriage::default().assess(&post(
            "Thank you @skyways, the crew were amazing with my kids tonight",
            300,
        ));
        assert!(!verdict.complaint);
        assert_eq!(verdict.intent, Intent::Praise);
        assert_eq!(verdict.priority, Priority::P3);
        assert_eq!(verdict.reasons, vec!["praise"]);
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
