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

/// Harm: who or what is at risk if nobody acts now, each named as staff
/// should read it in the SMS. Phrases match whole words only ("rent" is not
/// in "parent"); one ending in `*` also matches longer words ("allerg*").
pub const HARM: &[Signal] = &[
    Signal {
        reason: "gas",
        phrases: &[
            "gas leak",
            "smell of gas",
            "smell gas",
            "smells of gas",
            "smelling gas",
            "smelt gas",
            "gas smell",
            "rotten egg*",
            "carbon monoxide",
            "co alarm",
            "co detector",
        ],
    },
    Signal {
        reason: "fire",
        // Not "fire" alone: "fire tv", "this album is fire".
        phrases: &[
            "caught fire",
            "fire alarm",
            "flames",
            "smoke",
            "smoking",
            "sparks",
            "sparking",
            "burning smell",
            "smell of burning",
            "melted",
            "melting",
            "fire brigade",
            "scorch*",
        ],
    },
    Signal {
        reason: "live wires",
        phrases: &[
            "bare wire*",
            "exposed wire*",
            "live wire*",
            "electric shock",
            "shocked me",
            "wires hanging",
            "wires showing",
        ],
    },
    Signal {
        reason: "unsafe driving",
        phrases: &[
            "driving dangerously",
            "dangerous driving",
            "drunk",
            "speeding",
            "ran a red",
            "swerv*",
            "asleep at the wheel",
            "road rage",
            "mph",
        ],
    },
    Signal {
        reason: "assault",
        phrases: &[
            "assault*",
            "punched",
            "attacked",
            "threaten*",
            "grabbed",
            "knife",
            "violent",
            "harass*",
        ],
    },
    Signal {
        reason: "danger",
        phrases: &[
            "danger*",
            "unsafe",
            "hazard*",
            "collapsed",
            "ceiling fell",
            "ceiling came down",
            "broken glass",
            "glass in",
            "injur*",
            "bleeding",
            "ambulance",
            "a&e",
            "hospital",
            "999",
            "911",
        ],
    },
    Signal {
        reason: "child alone",
        phrases: &[
            "left alone",
            "unaccompanied",
            "lost child",
            "where she is",
            "where he is",
            "went missing",
            "can't find my son",
            "can't find my daughter",
        ],
    },
    Signal {
        // With `kids` in the same post, read as `child alone`.
        reason: "alone",
        phrases: &[
            "alone",
            "on her own",
            "on his own",
            "by herself",
            "by himself",
            "on my own",
        ],
    },
    Signal {
        reason: "kids",
        phrases: &[
            "kids",
            "kid",
            "children",
            "child",
            "my son",
            "my daughter",
            "toddler",
            "baby",
            "babies",
            "newborn",
            "infant",
        ],
    },
    Signal {
        reason: "medication",
        phrases: &[
            "medication",
            "medicine",
            "meds",
            "insulin",
            "prescription*",
            "inhaler",
            "dose",
            "doses",
            "tablets",
            "pills",
            "chemo",
        ],
    },
    Signal {
        reason: "allergy",
        phrases: &[
            "allerg*",
            "anaphyla*",
            "epipen",
            "epi pen",
            "peanut*",
            "swelling",
            "swollen",
            "wheezing",
            "can't breathe",
            "cant breathe",
            "reaction",
        ],
    },
    Signal {
        reason: "medical device",
        phrases: &[
            "oxygen",
            "dialysis",
            "ventilator",
            "cpap",
            "pacemaker",
            "feeding pump",
            "nebuli*",
            "heart monitor",
            "telecare",
            "careline",
            "alarm pendant",
        ],
    },
    Signal {
        reason: "pregnant",
        phrases: &[
            "pregnan*",
            "labour",
            "contractions",
            "waters broke",
            "midwife",
        ],
    },
    Signal {
        reason: "elderly",
        phrases: &[
            "elderly",
            "my nan",
            "my gran",
            "grandma",
            "grandad",
            "granddad",
            "grandpa",
            "grandmother",
            "grandfather",
            "pensioner",
            "dementia",
            "alzheimer*",
            "frail",
        ],
    },
    Signal {
        reason: "no heating",
        phrases: &[
            "no heat",
            "no heating",
            "heating off",
            "boiler",
            "freezing",
            "no hot water",
            "hypotherm*",
        ],
    },
    Signal {
        reason: "no cooling",
        phrases: &[
            "no aircon",
            "no air con",
            "aircon off",
            "heatwave",
            "40c",
            "40 degrees",
            "overheat*",
            "heatstroke",
        ],
    },
    Signal {
        reason: "no power",
        phrases: &[
            "no power",
            "power cut",
            "no electric*",
            "electricity off",
            "cut off",
            "disconnected",
            "cut us off",
        ],
    },
    Signal {
        reason: "no phone line",
        phrases: &[
            "landline",
            "no phone",
            "can't call",
            "cannot call",
            "emergency calls",
        ],
    },
    Signal {
        reason: "stranded abroad",
        phrases: &[
            "abroad",
            "overseas",
            "no hotel",
            "nowhere to stay",
            "nowhere to sleep",
            "oversold",
            "overbooked",
            "over-booked",
            "gave our room",
            "given our room",
            "gave away our room",
            "last ferry",
            "last train",
            "last bus",
            "passport*",
            "car hire",
            "embassy",
            "consulate",
        ],
    },
    Signal {
        reason: "at night",
        phrases: &[
            "1am",
            "2am",
            "3am",
            "4am",
            "midnight",
            "tonight",
            "in the dark",
            "at night",
            "middle of the night",
        ],
    },
    Signal {
        reason: "rent due today",
        phrases: &[
            "rent",
            "wages",
            "payday",
            "pay day",
            "salary",
            "salaries",
            "mortgage",
            "pay my staff",
            "payroll",
            "due today",
        ],
    },
    Signal {
        reason: "account emptied",
        phrases: &[
            "emptied",
            "drained",
            "every penny",
            "all my money",
            "all our money",
            "overdrawn",
            "fraud*",
            "unauthori*",
            "stolen",
            "hacked",
            "no money",
            "buy food",
        ],
    },
    Signal {
        reason: "card frozen",
        phrases: &[
            "card frozen",
            "froze my",
            "frozen my",
            "blocked my card",
            "card blocked",
            "card declined",
            "account frozen",
            "account locked",
            "locked my account",
        ],
    },
    Signal {
        reason: "funeral",
        phrases: &["funeral", "cremation", "burial"],
    },
    Signal {
        reason: "exam",
        phrases: &[
            "exam",
            "exams",
            "interview",
            "court",
            "hearing",
            "driving test",
        ],
    },
    Signal {
        reason: "wedding",
        phrases: &["wedding", "bride", "groom"],
    },
    Signal {
        reason: "surgery",
        phrases: &["surgery", "operation", "hospital appointment", "scan"],
    },
    Signal {
        reason: "access refused",
        phrases: &[
            "wheelchair",
            "guide dog",
            "assistance dog",
            "service dog",
            "mobility scooter",
            "disabled",
            "disability",
            "blind",
            "deaf",
            "crutches",
            "ramp",
        ],
    },
    Signal {
        reason: "asked again",
        phrases: &[
            "fourth time",
            "4th time",
            "fifth time",
            "5th time",
            "still nobody",
            "still no one",
            "asked three times",
            "asked 3 times",
            "day 3",
            "day three",
            "day four",
            "day 4",
            "again and again",
            "times now",
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

/// Thanks, approval and happy endings: a story of harm put right, or staff
/// praised without the usual words ("slick", "won me over"), is no page.
const GRATITUDE: &[&str] = &[
    "hero",
    "legend",
    "cannot fault",
    "can't fault",
    "moved to tears",
    "close one",
    "he's fine",
    "she's fine",
    "they're fine",
    "all good",
    "saved the day",
    "faith in humanity",
    "grateful",
    "shoutout",
    "thrilled",
    "above and beyond",
    "so kind",
    "lifesaver",
    "life saver",
    "credit to",
    "excellent",
    "superb",
    "outstanding",
    "top notch",
    "top marks",
    "slick",
    "spot on",
    "won me over",
    "no hard sell",
    "five stars",
    "5 stars",
    "10/10",
    "props to",
    "hats off",
    "class act",
    "nailed it",
    "nice one",
    "delighted",
    "wonderful",
    "chuffed",
    "highly recommend",
    "walked us through",
    "made our day",
    "made my day",
    "well played",
];

/// Words that open an enquiry.
const ASKING: &[&str] = &[
    "do ", "does ", "can ", "could ", "is ", "are ", "will ", "would ", "should ", "how ", "what ",
    "where ", "when ", "which ", "anyone ", "any ",
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

/// Whether the text from `start` to `end` begins a word and, unless it may
/// `run_on`, ends one.
fn whole_words(lowered: &str, start: usize, end: usize, run_on: bool) -> bool {
    let is_letter = |c: char| c.is_alphanumeric();
    let starts = !lowered[..start].chars().next_back().is_some_and(is_letter);
    let ends = run_on || !lowered[end..].chars().next().is_some_and(is_letter);
    starts && ends
}

/// Which signals of one group matched, by their index in the group.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Matched(u32);

impl Matched {
    /// Whether the signal of `group` giving `reason` matched.
    pub fn has(self, group: &'static [Signal], reason: &str) -> bool {
        self.reasons(group).any(|r| r == reason)
    }

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
    pub harm: Matched,
    pub praise: bool,
    pub sarcasm: bool,
    pub question: bool,
    /// Opens by asking ("does the flat have a CO alarm?", "anyone else
    /// flying tomorrow?"): an enquiry, however alarming its words.
    pub asks_first: bool,
    /// Thanks or a happy ending ("hero", "cannot fault them", "he's fine"),
    /// not sarcastic.
    pub gratitude: bool,
}

/// A phrase group and how its matches are recorded.
type SignalGroup = (&'static [Signal], fn(usize) -> Target);

#[derive(Debug, Clone, Copy)]
enum Target {
    Complaint(usize),
    Pressure(usize),
    /// A harm phrase; `true` when it may run on into a longer word.
    Harm(usize, bool),
    Praise,
    SarcasmCue,
    Gratitude,
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
        let groups: [SignalGroup; 2] = [
            (COMPLAINT, Target::Complaint),
            (TIME_PRESSURE, Target::Pressure),
        ];
        for (group, target) in groups {
            for (index, signal) in group.iter().enumerate() {
                for phrase in signal.phrases {
                    phrases.push(phrase);
                    targets.push(target(index));
                }
            }
        }
        for (index, signal) in HARM.iter().enumerate() {
            for phrase in signal.phrases {
                let stem = phrase.strip_suffix('*');
                phrases.push(stem.unwrap_or(phrase));
                targets.push(Target::Harm(index, stem.is_some()));
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
        for phrase in GRATITUDE {
            phrases.push(phrase);
            targets.push(Target::Gratitude);
        }
        let automaton = AhoCorasick::new(&phrases).expect("the phrase lists are valid patterns");
        Self { automaton, targets }
    }

    /// Reads the signals of a lower-cased post.
    pub fn find(&self, lowered: &str) -> Found {
        let mut found = Found::default();
        let mut praise_words = false;
        let mut sarcasm_cue = false;
        let mut gratitude = false;
        for hit in self.automaton.find_overlapping_iter(lowered) {
            if ends_inside_a_name(lowered, hit.end()) {
                continue;
            }
            match self.targets[hit.pattern().as_usize()] {
                Target::Complaint(i) => found.complaint.insert(i),
                Target::Pressure(i) => found.pressure.insert(i),
                Target::Harm(i, runs_on) => {
                    if whole_words(lowered, hit.start(), hit.end(), runs_on) {
                        found.harm.insert(i);
                    }
                }
                Target::Praise => praise_words = true,
                Target::SarcasmCue => sarcasm_cue = true,
                Target::Gratitude => gratitude = true,
            }
        }
        // Praise next to bad news is sarcasm ("great job... three hours late").
        found.sarcasm = praise_words
            && (sarcasm_cue || !found.complaint.is_empty() || !found.pressure.is_empty());
        found.praise = praise_words && !found.sarcasm;
        let trimmed = lowered.trim_end();
        found.question =
            trimmed.ends_with('?') || lowered.starts_with("how ") || lowered.starts_with("is ");
        let opening = lowered.trim_start();
        found.asks_first = ASKING.iter().any(|word| opening.starts_with(word))
            && opening
                .split(['.', '!', '\n'])
                .next()
                .is_some_and(|first| first.contains('?'));
        // Thanks next to bad news is no thanks ("hero of a driver, late again").
        found.gratitude = (gratitude || praise_words)
            && !sarcasm_cue
            && found.complaint.is_empty()
            && found.pressure.is_empty();
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
        assert_eq!(reasons(found.harm, HARM), vec!["kids", "medication"]);
        assert_eq!(found.complaint.count(), 0);
    }

    #[test]
    fn harm_is_named_as_staff_should_read_it() {
        let harm = |text: &str| reasons(find(text).harm, HARM);
        assert_eq!(harm("strong smell of gas in the hallway"), vec!["gas"]);
        assert_eq!(
            harm("my 7 year old was left alone on the platform"),
            vec!["child alone", "alone"]
        );
        assert_eq!(
            harm("rent is due today and you froze my card"),
            vec!["rent due today", "card frozen"]
        );
        assert_eq!(harm("she is anaphylactic"), vec!["allergy"]);
    }

    #[test]
    fn harm_phrases_match_whole_words() {
        let harm = |text: &str| find(text).harm.count();
        assert_eq!(harm("my parents love the current offer"), 0, "rent");
        assert_eq!(harm("a scandal of a menu"), 0, "scan");
        assert_eq!(harm("the skid marks"), 0, "kid");
        assert_eq!(harm("our rent, due friday"), 1);
        assert_eq!(harm("allergic to nuts"), 1, "a stem runs on");
    }

    #[test]
    fn handles_and_links_are_names_not_words() {
        let found = find("@ballababy927 @firestick_fan see https://x.co/late-baby-fire ok");
        assert_eq!(found.harm.count() + found.pressure.count(), 0);
        assert!(!found.sarcasm && !found.praise);
        // The words around them still count.
        let found = find("@skyways my baby is stuck at the gate\n@skyways hello?");
        assert_eq!(reasons(found.harm, HARM), vec!["kids"]);
        assert_eq!(reasons(found.pressure, TIME_PRESSURE), vec!["stuck"]);
        // A phrase that starts with a space still belongs to its own words.
        assert!(find("@skyways is down again").complaint.count() > 0);
    }

    #[test]
    fn fire_means_a_fire() {
        assert_eq!(find("my amazon fire tv box is great").harm.count(), 0);
        assert_eq!(find("this album is fire").harm.count(), 0);
        let found = find("the charger caught fire in the kitchen");
        assert_eq!(reasons(found.harm, HARM), vec!["fire"]);
    }

    #[test]
    fn enquiries_and_happy_endings_are_noticed() {
        assert!(find("does the flat have a carbon monoxide alarm? can't see it").asks_first);
        assert!(!find("smell of gas in the hall. is this normal??").asks_first);
        assert!(find("my son reacted at nursery, they called 999. he's fine").gratitude);
        assert!(!find("hero of a driver, left us stranded, late again").gratitude);
    }

    #[test]
    fn questions_are_noticed() {
        assert!(find("do you fly to lisbon in winter?").question);
        assert!(!find("flight cancelled").question);
    }
}
