//! Explainable signals: phrases that say why a post is urgent, each with the
//! short reason staff read in the SMS.

use aho_corasick::AhoCorasick;

use super::model::is_link;

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
            "still haven't",
            "still hasn't",
            "hasn't arrived",
            "haven't received",
            "not received",
            "not arrived yet",
            "days now",
            "weeks now",
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
            "no answer",
            "no help",
            "unhelpful",
            "useless",
            "no one is helping",
            "nobody is helping",
            "any update",
            "hello?",
            "no one",
            "nobody",
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
            "charged me",
            "overcharging",
            "rip off",
            "ripped off",
            "scam",
            "charged",
            "paid for",
            "price went up",
            "went up",
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
            "won't load",
            "won't work",
            "not loading",
            "can't log in",
            "cannot log in",
            "keeps crashing",
            "error message",
            "glitch",
            "won't",
            "buffering",
            "no signal",
            "no internet",
            "no water",
            "down again",
            "failed",
            "keeps ",
        ],
    },
    Signal {
        reason: "broken promise",
        phrases: &["supposed to", "promised", "you said", "no warning"],
    },
    Signal {
        reason: "again",
        phrases: &["third time", "3rd time", "every time", "every single time"],
    },
    Signal {
        reason: "refused",
        phrases: &["refused", "rejected"],
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
        // Customers ask "why" and "where is my" about what went wrong.
        reason: "asks why",
        phrases: &[
            "why is ",
            "why does ",
            "why has ",
            "why have ",
            "why did ",
            "why can't ",
            "why cant ",
            "why won't ",
            "why isn't ",
            "why hasn't ",
            "why am i ",
            "where is my ",
            "where's my ",
            "wheres my ",
            "how much longer",
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
            "disappointed",
            "disappointing",
            "frustrated",
            "frustrating",
            "horrible",
            "poor service",
            "rude",
            "sort it out",
            "sort this out",
            "wtf",
            "smh",
            "#fail",
            "not impressed",
            "rubbish",
            "come on",
            "can't even",
            "used to be",
            "escalate",
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
            // Not "fire" alone: "fire tv", "you're on fire".
            "caught fire",
            "fire alarm",
            "smoke",
            "burning",
            "flames",
            "sparking",
            "electric shock",
            "danger",
            "unsafe",
            "injured",
            "bleeding",
            "wires exposed",
            "glass in",
        ],
    },
];

/// Whether a phrase found ending at byte `end` ends inside a handle or a
/// link, whose letters are names, not words ("@ballababy927" names no baby,
/// "/fire-sale" no fire). Checked per hit, so posts pay nothing extra.
fn ends_inside_a_name(lowered: &str, end: usize) -> bool {
    let upto = lowered[..end].trim_end();
    let word_start = upto
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(at, c)| at + c.len_utf8());
    let word = &upto[word_start..];
    word.starts_with('@') || word.starts_with(".@") || is_link(word)
}

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

/// Which signals of one group matched, by their index in the group.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Matched(u32);

impl Matched {
    fn insert(&mut self, index: usize) {
        self.0 |= 1 << index;
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn count(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The reasons of the matched signals, in the group's order.
    pub fn reasons(self, group: &'static [Signal]) -> impl Iterator<Item = &'static str> {
        group
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, signal)| signal.reason)
    }
}

/// What the phrase lists found in one post.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Found {
    pub complaint: Matched,
    pub pressure: Matched,
    pub vulnerable: Matched,
    pub praise: bool,
    pub sarcasm: bool,
    pub question: bool,
}

/// A phrase group and how its matches are recorded.
type SignalGroup = (&'static [Signal], fn(usize) -> Target);

#[derive(Debug, Clone, Copy)]
enum Target {
    Complaint(usize),
    Pressure(usize),
    Vulnerable(usize),
    Praise,
    SarcasmCue,
}

/// Every phrase of every list in one automaton: a post is read once,
/// whatever the number of phrases.
#[derive(Debug, Clone)]
pub struct SignalMatcher {
    automaton: AhoCorasick,
    targets: Vec<Target>,
}

impl Default for SignalMatcher {
    fn default() -> Self {
        Self::new()
    }
}

impl SignalMatcher {
    pub fn new() -> Self {
        let mut phrases: Vec<&str> = Vec::new();
        let mut targets = Vec::new();
        let groups: [SignalGroup; 3] = [
            (COMPLAINT, Target::Complaint),
            (TIME_PRESSURE, Target::Pressure),
            (VULNERABLE, Target::Vulnerable),
        ];
        for (group, target) in groups {
            for (index, signal) in group.iter().enumerate() {
                for phrase in signal.phrases {
                    phrases.push(phrase);
                    targets.push(target(index));
                }
            }
        }
        for phrase in PRAISE.iter().chain(&["great job", "brilliant."]) {
            phrases.push(phrase);
            targets.push(Target::Praise);
        }
        for phrase in SARCASM_CUES {
            phrases.push(phrase);
            targets.push(Target::SarcasmCue);
        }
        let automaton = AhoCorasick::new(&phrases).expect("the phrase lists are valid patterns");
        Self { automaton, targets }
    }

    /// Reads the signals of a lower-cased post.
    pub fn find(&self, lowered: &str) -> Found {
        let mut found = Found::default();
        let mut praise_words = false;
        let mut sarcasm_cue = false;
        for hit in self.automaton.find_overlapping_iter(lowered) {
            if ends_inside_a_name(lowered, hit.end()) {
                continue;
            }
            match self.targets[hit.pattern().as_usize()] {
                Target::Complaint(i) => found.complaint.insert(i),
                Target::Pressure(i) => found.pressure.insert(i),
                Target::Vulnerable(i) => found.vulnerable.insert(i),
                Target::Praise => praise_words = true,
                Target::SarcasmCue => sarcasm_cue = true,
            }
        }
        // Praise next to bad news is sarcasm ("great job... three hours late").
        found.sarcasm = praise_words
            && (sarcasm_cue || !found.complaint.is_empty() || !found.pressure.is_empty());
        found.praise = praise_words && !found.sarcasm;
        let trimmed = lowered.trim_end();
        found.question =
            trimmed.ends_with('?') || lowered.starts_with("how ") || lowered.starts_with("is ");
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &str) -> Found {
        SignalMatcher::new().find(text)
    }

    fn reasons(matched: Matched, group: &'static [Signal]) -> Vec<&'static str> {
        matched.reasons(group).collect()
    }

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
        assert_eq!(
            reasons(found.pressure, TIME_PRESSURE),
            vec!["stuck", "waiting hours"]
        );
        assert_eq!(
            reasons(found.vulnerable, VULNERABLE),
            vec!["kids", "health"]
        );
        assert_eq!(found.complaint.count(), 0);
    }

    #[test]
    fn handles_and_links_are_names_not_words() {
        let found = find("@ballababy927 @firestick_fan see https://x.co/late-baby-fire ok");
        assert_eq!(found.vulnerable.count() + found.pressure.count(), 0);
        assert!(!found.sarcasm && !found.praise);
        // The words around them still count.
        let found = find("@skyways my baby is stuck at the gate\n@skyways hello?");
        assert_eq!(reasons(found.vulnerable, VULNERABLE), vec!["kids"]);
        assert_eq!(reasons(found.pressure, TIME_PRESSURE), vec!["stuck"]);
        // A phrase that starts with a space still belongs to its own words.
        assert!(find("@skyways is down again").complaint.count() > 0);
    }

    #[test]
    fn fire_means_a_fire() {
        assert_eq!(find("my amazon fire tv box is great").vulnerable.count(), 0);
        let found = find("the charger caught fire in the kitchen");
        assert_eq!(reasons(found.vulnerable, VULNERABLE), vec!["safety"]);
    }

    #[test]
    fn questions_are_noticed() {
        assert!(find("do you fly to lisbon in winter?").question);
        assert!(!find("flight cancelled").question);
    }
}
