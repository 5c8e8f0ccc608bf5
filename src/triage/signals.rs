//! Explainable signals: phrases that say why a post is urgent, each with the
//! short reason staff read in the SMS.

/// A group of phrases that, found in a post, gives one reason.
pub struct Signal {
    pub reason: &'static str,
    pub phrases: &'static [&'static str],
}

/// What went wrong, in the customer's words.
pub const COMPLAINT: &[Signal] = &[
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
            "still not",
            "still no ",
        ],
    },
    Signal {
        reason: "no response",
        phrases: &[
            "no response",
            "no reply",
            "ignored",
            "ignoring",
            "nobody answers",
            "no one answers",
            "nobody is answering",
            "hung up",
            "no update",
            "no call back",
            "never called back",
        ],
    },
    Signal {
        reason: "money",
        phrases: &[
            "refund",
            "charged twice",
            "overcharged",
            "money back",
            "double charged",
            "hidden fee",
        ],
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
            " is down",
            " are down",
            "crashed",
            "crashing",
            "keeps failing",
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
            "never showed",
        ],
    },
    Signal {
        reason: "angry",
        phrases: &[
            "worst",
            "terrible service",
            "awful service",
            "disgusting",
            "unacceptable",
            "ridiculous",
            "furious",
            "fed up",
            "never again",
            "shame on",
            "shambles",
            "joke of a",
        ],
    },
];

/// Someone cannot wait: stuck, hours gone, or a deadline about to pass.
pub const TIME_PRESSURE: &[Signal] = &[
    Signal {
        reason: "stuck",
        phrases: &[
            "stuck",
            "stranded",
            "trapped",
            "locked out",
            "on the tarmac",
            "left at the gate",
            "sleeping on the floor",
        ],
    },
    Signal {
        reason: "waiting hours",
        phrases: &[
            "an hour",
            "1 hour",
            "2 hours",
            "3 hours",
            "4 hours",
            "5 hours",
            "hours now",
            "for hours",
            "40 minutes",
            "45 minutes",
            "55 minutes",
            "70 minutes",
            "90 minutes",
        ],
    },
    Signal {
        reason: "deadline now",
        phrases: &[
            "right now",
            "in 30 minutes",
            "closes in",
            "leaves in",
            "boarding",
            "missed my",
            "about to miss",
            "due tomorrow",
            "wedding today",
            "at midnight",
        ],
    },
];

/// People at risk, or danger.
pub const VULNERABLE: &[Signal] = &[
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
            "reacted",
            "wheelchair",
            "pregnant",
            "elderly",
            "disabled",
            "insulin",
            "oxygen",
            "fainting",
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
            "wires exposed",
            "glass in",
        ],
    },
];

pub const PRAISE: &[&str] = &[
    "thank you",
    "thanks",
    "love ",
    "loving",
    "lovely",
    "amazing",
    "awesome",
    "great service",
    "well done",
    "brilliant",
    "fantastic",
    "impressed",
    "kudos",
    "shout out",
];

/// Praise words next to bad news are usually sarcasm ("great job... three
/// hours late"); these are the bad-news half.
const SARCASM_CUES: &[&str] = &[
    "again",
    "late",
    "delay",
    "another",
    "🙄",
    "cheers",
    "perfect timing",
    "thanks for nothing",
];

/// What the phrase lists found in one post.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Found {
    pub complaint: Vec<&'static str>,
    pub pressure: Vec<&'static str>,
    pub vulnerable: Vec<&'static str>,
    pub praise: bool,
    pub sarcasm: bool,
    pub question: bool,
}

fn matched(signals: &'static [Signal], text: &str) -> Vec<&'static str> {
    signals
        .iter()
        .filter(|signal| signal.phrases.iter().any(|p| text.contains(p)))
        .map(|signal| signal.reason)
        .collect()
}

/// Reads the signals of a lower-cased post.
pub fn find(lowered: &str) -> Found {
    let complaint = matched(COMPLAINT, lowered);
    let pressure = matched(TIME_PRESSURE, lowered);
    let praise_words = PRAISE.iter().any(|p| lowered.contains(p))
        || lowered.contains("great job")
        || lowered.contains("brilliant.");
    let sarcasm = praise_words
        && (SARCASM_CUES.iter().any(|c| lowered.contains(c))
            || !complaint.is_empty()
            || !pressure.is_empty());
    Found {
        vulnerable: matched(VULNERABLE, lowered),
        praise: praise_words && !sarcasm,
        sarcasm,
        question: lowered.trim_end().ends_with('?')
            || lowered.starts_with("how ")
            || lowered.starts_with("is "),
        complaint,
        pressure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sarcastic_praise_is_not_praise() {
        let found = find("great job @metrorail, late again");
        assert!(found.sarcasm);
        assert!(!found.praise);
        let found = find("thanks for the lovely flight");
        assert!(found.praise && !found.sarcasm);
    }

    #[test]
    fn risk_and_pressure_have_their_own_reasons() {
        let found =
            find("stuck on the tarmac for an hour with the kids, my son needs his medication");
        assert_eq!(found.pressure, vec!["stuck", "waiting hours"]);
        assert_eq!(found.vulnerable, vec!["kids", "health"]);
    }

    #[test]
    fn questions_are_noticed() {
        assert!(find("do you fly to lisbon in winter?").question);
        assert!(!find("flight cancelled").question);
    }
}
