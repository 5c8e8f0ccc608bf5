//! Flood control: many similar urgent complaints about one brand within
//! minutes (an outage, a stranded flight) are one incident. The first few
//! page as usual; the one that makes it an incident pages once as an
//! incident, with a count; later ones are folded into it, and the count
//! pages again at a few milestones.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::MentionId;

/// Similar urgent posts this close together belong to one incident.
pub const INCIDENT_WINDOW: Duration = Duration::minutes(15);
/// The post that makes this many similar ones is paged as an incident.
pub const INCIDENT_AFTER: u32 = 3;
/// Counts at which an incident pages again with an update.
pub const UPDATE_AT: [u32; 7] = [10, 25, 50, 100, 250, 500, 1000];

/// Shared by the posts of one incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    /// The first post of the burst.
    pub lead: MentionId,
    /// Similar posts so far, this one included.
    pub posts: u32,
    pub since: DateTime<Utc>,
    /// Words the posts share, for the SMS.
    pub topic: Vec<String>,
}

/// What a new urgent post is, given the similar ones before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Burst {
    /// Too few similar posts: page it on its own.
    Alone,
    /// Page it as the incident (or an update of it).
    Page(Incident),
    /// Store it as part of the incident, with no SMS of its own.
    Fold(Incident),
}

/// Decides from the similar urgent posts seen in the window (oldest first).
pub fn classify(earlier: &[(&MentionId, DateTime<Utc>)], mut topic: Vec<String>) -> Burst {
    // Numbers (flights, orders) say most, then longer words.
    topic.sort_by_key(|w| {
        (
            !w.chars().any(|c| c.is_ascii_digit()),
            std::cmp::Reverse(w.chars().count()),
            w.clone(),
        )
    });
    let posts = earlier.len() as u32 + 1;
    let Some((lead, since)) = earlier.first() else {
        return Burst::Alone;
    };
    let incident = Incident {
        lead: (*lead).clone(),
        posts,
        since: *since,
        topic,
    };
    if posts < INCIDENT_AFTER {
        Burst::Alone
    } else if posts == INCIDENT_AFTER || UPDATE_AT.contains(&posts) {
        Burst::Page(incident)
    } else {
        Burst::Fold(incident)
    }
}

const STOPWORDS: &[&str] = &[
    "this",
    "that",
    "with",
    "have",
    "from",
    "they",
    "your",
    "been",
    "just",
    "what",
    "when",
    "were",
    "will",
    "there",
    "their",
    "about",
    "would",
    "could",
    "should",
    "still",
    "again",
    "after",
    "them",
    "then",
    "than",
    "because",
    "into",
    "only",
    "over",
    "very",
    "really",
    "some",
    "here",
    "dont",
    "cant",
    "wont",
    "isnt",
    "even",
    "anyone",
    "nobody",
    "please",
    "thanks",
    "today",
    "anything",
    "something",
    "nothing",
    "telling",
    "every",
    "never",
    "always",
    "being",
    "going",
    "know",
    "need",
    "want",
    "like",
    "make",
    "made",
    "take",
    "told",
    "said",
    "says",
];

/// The words that say what a post is about: four letters or more, not a
/// handle, link or common word, and not part of the brand's own name.
pub fn topic_words(text: &str, brand: &str) -> BTreeSet<String> {
    let brand = brand.to_lowercase();
    text.split_whitespace()
        .filter(|token| !token.starts_with('@') && !token.starts_with("http"))
        .flat_map(|token| token.split(|c: char| !c.is_alphanumeric()))
        .map(str::to_lowercase)
        .filter(|word| word.chars().count() >= 4)
        .filter(|word| !STOPWORDS.contains(&word.as_str()) && !brand.contains(word.as_str()))
        .collect()
}

/// Two urgent posts are about the same thing when they share three things
/// (topic words or triage reasons, a reason that is also a shared word
/// counting once), or two when one is a number such as a flight or order
/// (`nw418`). Common complaint words ("stuck", "gate") alone are not enough.
pub fn similar(
    words: &BTreeSet<String>,
    reasons: &[String],
    other_words: &BTreeSet<String>,
    other_reasons: &[String],
) -> bool {
    let mut shared: BTreeSet<&str> = words
        .intersection(other_words)
        .map(String::as_str)
        .collect();
    shared.extend(
        reasons
            .iter()
            .filter(|r| other_reasons.contains(r))
            .map(String::as_str),
    );
    let names_a_number = shared.iter().any(|w| w.chars().any(|c| c.is_ascii_digit()));
    shared.len() >= 3 || (shared.len() >= 2 && names_a_number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Platform;

    fn id(n: &str) -> MentionId {
        MentionId::new(Platform::X, n)
    }

    fn at(minute: u32) -> DateTime<Utc> {
        format!("2026-11-24T09:{minute:02}:00Z").parse().unwrap()
    }

    #[test]
    fn the_third_similar_post_pages_as_an_incident_and_later_ones_fold() {
        let (a, b, c) = (id("1"), id("2"), id("3"));
        assert_eq!(classify(&[], vec![]), Burst::Alone);
        assert_eq!(classify(&[(&a, at(0))], vec![]), Burst::Alone);
        let Burst::Page(incident) = classify(&[(&a, at(0)), (&b, at(2))], vec!["login".into()])
        else {
            panic!("the third post is the incident");
        };
        assert_eq!(
            (incident.lead, incident.posts, incident.since),
            (a.clone(), 3, at(0))
        );
        assert!(matches!(
            classify(&[(&a, at(0)), (&b, at(2)), (&c, at(3))], vec![]),
            Burst::Fold(Incident { posts: 4, .. })
        ));
        let nine: Vec<_> = (0..9).map(|_| (&a, at(0))).collect();
        assert!(matches!(
            classify(&nine, vec![]),
            Burst::Page(Incident { posts: 10, .. })
        ));
    }

    #[test]
    fn posts_about_one_outage_are_similar_and_others_are_not() {
        let brand = "NorthwindAir";
        let outage = topic_words(
            "@NorthwindAir your app is down, login fails, can't check in for NW12",
            brand,
        );
        let outage_too = topic_words(
            "Northwind app down again?? login broken, check in impossible https://t.co/x",
            brand,
        );
        let lost_bag = topic_words("Northwind lost my suitcase in Denver", brand);
        assert!(outage.contains("down") && outage.contains("check"));
        assert!(
            !outage.contains("northwind"),
            "the brand's name says nothing"
        );
        assert!(similar(&outage, &[], &outage_too, &[]));
        assert!(!similar(&outage, &[], &lost_bag, &[]));
        let reasons = vec!["stuck".to_owned(), "kids".to_owned()];
        assert!(
            !similar(&lost_bag, &reasons, &outage, &reasons),
            "two shared reasons alone"
        );
        let delayed = topic_words("NW418 delayed again, stuck", brand);
        let delayed_too = topic_words("still stuck waiting for nw418", brand);
        assert!(similar(&delayed, &[], &delayed_too, &[]), "the same flight");
        let stranded = topic_words("stuck at the gate with a wheelchair", brand);
        let tarmac = topic_words("stuck on the tarmac at the gate for an hour", brand);
        let only_stuck = vec!["stuck".to_owned()];
        assert!(
            !similar(&stranded, &only_stuck, &tarmac, &only_stuck),
            "common complaint words are not one incident"
        );
    }
}
