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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Burst {
    /// Too few similar posts: page it on its own.
    Alone,
    /// Page it as the incident (or an update of it).
    Page(Incident),
    /// Store it as part of the incident, with no SMS of its own.
    Fold(Incident),
}

/// Latest urgent posts a brand's log keeps: a burst of similar posts
/// becomes an incident long before this many, and an incident keeps its
/// own count.
pub const RECENT_KEPT: usize = 48;
/// Posts of an incident kept to recognise the next one by.
const MEMBERS_KEPT: usize = 4;
/// Topic words kept per post: enough to tell one outage from another.
const WORDS_KEPT: usize = 16;

/// What one urgent post leaves in the log: enough to compare the next
/// post with, and the verdict it got, so a retry of the same post gets
/// the same answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrgentPost {
    pub id: MentionId,
    pub at: DateTime<Utc>,
    pub words: BTreeSet<String>,
    pub reasons: Vec<String>,
    pub burst: Burst,
}

/// An incident still taking posts, with its running count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunningIncident {
    pub incident: Incident,
    /// When its latest post came: it ends a window after that.
    pub last_at: DateTime<Utc>,
    /// Its first posts, to recognise the next one by.
    pub members: Vec<(BTreeSet<String>, Vec<String>)>,
}

/// A brand's recent urgent posts and running incidents: the state a new
/// urgent post is judged against, small and bounded whatever the traffic,
/// so judging it costs one read and one write of this log.
///
/// An incident lasts while similar posts keep coming within the window of
/// the last one; its count is every post it took, so each milestone pages
/// once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BurstLog {
    /// Oldest first, within the window, at most [`RECENT_KEPT`].
    pub recent: Vec<UrgentPost>,
    pub incidents: Vec<RunningIncident>,
}

impl BurstLog {
    /// When the log is of no more use: a window after its newest post, with
    /// a window to spare for late retries. An empty log never was.
    pub fn expires_at(&self) -> DateTime<Utc> {
        let newest = self.recent.iter().map(|post| post.at);
        let running = self.incidents.iter().map(|incident| incident.last_at);
        newest
            .chain(running)
            .max()
            .map_or(DateTime::UNIX_EPOCH, |at| at + INCIDENT_WINDOW * 2)
    }

    /// The verdict a retry of an admitted post gets again.
    pub fn verdict_of(&self, id: &MentionId) -> Option<&Burst> {
        self.recent.iter().find(|p| &p.id == id).map(|p| &p.burst)
    }

    /// Takes in a new urgent post received at `at` and returns what it is.
    pub fn admit(
        &mut self,
        id: &MentionId,
        at: DateTime<Utc>,
        mut words: BTreeSet<String>,
        reasons: &[String],
    ) -> Burst {
        if let Some(burst) = self.verdict_of(id) {
            return burst.clone();
        }
        let horizon = at - INCIDENT_WINDOW;
        self.recent.retain(|p| p.at > horizon);
        self.incidents.retain(|i| i.last_at > horizon);
        words = keep_telling_words(words);

        let burst = if let Some(running) = self.incidents.iter_mut().find(|running| {
            running
                .members
                .iter()
                .any(|(w, r)| similar(&words, reasons, w, r))
        }) {
            running.incident.posts += 1;
            running.last_at = at;
            if running.members.len() < MEMBERS_KEPT {
                running.members.push((words.clone(), reasons.to_vec()));
            }
            let incident = running.incident.clone();
            if UPDATE_AT.contains(&incident.posts) {
                Burst::Page(incident)
            } else {
                Burst::Fold(incident)
            }
        } else {
            self.start_incident(at, &words, reasons)
        };
        self.recent.push(UrgentPost {
            id: id.clone(),
            at,
            words,
            reasons: reasons.to_vec(),
            burst: burst.clone(),
        });
        if self.recent.len() > RECENT_KEPT {
            self.recent.remove(0);
        }
        burst
    }

    /// The post that makes enough similar ones outside any incident starts
    /// one; fewer page on their own.
    fn start_incident(
        &mut self,
        at: DateTime<Utc>,
        words: &BTreeSet<String>,
        reasons: &[String],
    ) -> Burst {
        let earlier: Vec<&UrgentPost> = self
            .recent
            .iter()
            .filter(|p| p.burst == Burst::Alone && similar(words, reasons, &p.words, &p.reasons))
            .collect();
        let posts = earlier.len() as u32 + 1;
        let Some(lead) = earlier.first() else {
            return Burst::Alone;
        };
        if posts < INCIDENT_AFTER {
            return Burst::Alone;
        }
        let mut topic = words.clone();
        for post in &earlier {
            topic = topic.intersection(&post.words).cloned().collect();
        }
        let mut members: Vec<_> = earlier
            .iter()
            .map(|p| (p.words.clone(), p.reasons.clone()))
            .collect();
        members.truncate(MEMBERS_KEPT - 1);
        members.push((words.clone(), reasons.to_vec()));
        let incident = Incident {
            lead: lead.id.clone(),
            posts,
            since: lead.at,
            topic: in_telling_order(topic),
        };
        self.incidents.push(RunningIncident {
            incident: incident.clone(),
            last_at: at,
            members,
        });
        Burst::Page(incident)
    }
}

/// Numbers (flights, orders) say most, then longer words.
fn in_telling_order(words: BTreeSet<String>) -> Vec<String> {
    let mut words: Vec<String> = words.into_iter().collect();
    words.sort_by_key(|w| {
        (
            !w.chars().any(|c| c.is_ascii_digit()),
            std::cmp::Reverse(w.chars().count()),
            w.clone(),
        )
    });
    words
}

/// The [`WORDS_KEPT`] words that say most, so a long post keeps the log
/// small.
fn keep_telling_words(words: BTreeSet<String>) -> BTreeSet<String> {
    if words.len() <= WORDS_KEPT {
        return words;
    }
    in_telling_order(words)
        .into_iter()
        .take(WORDS_KEPT)
        .collect()
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

    fn at_minute(minute: i64) -> DateTime<Utc> {
        at(0) + Duration::minutes(minute)
    }

    fn outage_words(n: usize) -> BTreeSet<String> {
        topic_words(
            &format!("login down for NW12, cannot check in, post {n}"),
            "NorthwindAir",
        )
    }

    #[test]
    fn the_third_similar_post_pages_as_an_incident_and_later_ones_fold() {
        let mut log = BurstLog::default();
        let admit = |log: &mut BurstLog, n: usize, minute: i64| {
            log.admit(&id(&n.to_string()), at_minute(minute), outage_words(n), &[])
        };
        assert_eq!(admit(&mut log, 1, 0), Burst::Alone);
        assert_eq!(admit(&mut log, 2, 1), Burst::Alone);
        let Burst::Page(incident) = admit(&mut log, 3, 2) else {
            panic!("the third post is the incident");
        };
        assert_eq!(
            (incident.lead, incident.posts, incident.since),
            (id("1"), 3, at_minute(0))
        );
        assert_eq!(incident.topic[0], "nw12", "a number says most");
        assert!(matches!(
            admit(&mut log, 4, 3),
            Burst::Fold(Incident { posts: 4, .. })
        ));
        for n in 5..10 {
            assert!(matches!(admit(&mut log, n, 4), Burst::Fold(_)));
        }
        assert!(matches!(
            admit(&mut log, 10, 5),
            Burst::Page(Incident { posts: 10, .. })
        ));
    }

    /// A log whose third post started an incident.
    fn three_posts_about_one_outage() -> BurstLog {
        let mut log = BurstLog::default();
        for n in 1..=3 {
            log.admit(&id(&n.to_string()), at_minute(0), outage_words(n), &[]);
        }
        log
    }

    #[test]
    fn a_log_is_kept_two_windows_past_its_newest_post() {
        assert_eq!(BurstLog::default().expires_at(), DateTime::UNIX_EPOCH);
        let mut log = three_posts_about_one_outage();
        assert_eq!(log.expires_at(), at_minute(30));
        log.admit(&id("9"), at_minute(7), outage_words(9), &[]);
        assert_eq!(log.expires_at(), at_minute(37));
    }

    #[test]
    fn a_retried_post_gets_its_first_verdict_and_counts_once() {
        let mut log = three_posts_about_one_outage();
        let again = log.admit(&id("3"), at_minute(1), outage_words(3), &[]);
        assert!(matches!(again, Burst::Page(Incident { posts: 3, .. })));
        assert!(matches!(
            log.admit(&id("4"), at_minute(1), outage_words(4), &[]),
            Burst::Fold(Incident { posts: 4, .. })
        ));
    }

    #[test]
    fn an_incident_counts_every_post_while_they_keep_coming() {
        let mut log = BurstLog::default();
        let mut paged_at = Vec::new();
        // One post a minute for two hours: far longer than the window, far
        // more posts than the log keeps.
        for n in 1..=120 {
            if let Burst::Page(incident) = log.admit(
                &id(&n.to_string()),
                at_minute(n as i64),
                outage_words(n),
                &[],
            ) {
                paged_at.push(incident.posts);
            }
        }
        assert_eq!(paged_at, vec![3, 10, 25, 50, 100]);
        assert!(log.recent.len() <= RECENT_KEPT);
        assert_eq!(log.incidents.len(), 1);
    }

    #[test]
    fn an_incident_ends_a_window_after_its_last_post() {
        let mut log = three_posts_about_one_outage();
        let later = log.admit(&id("4"), at_minute(16), outage_words(4), &[]);
        assert_eq!(later, Burst::Alone, "a new burst starts from nothing");
        assert!(log.incidents.is_empty());
        assert_eq!(log.recent.len(), 1);
    }

    #[test]
    fn unrelated_urgent_posts_page_alone_and_the_log_stays_small() {
        let mut log = BurstLog::default();
        for n in 0..500 {
            let words = topic_words(&format!("order {n} lost parcel{n} courier{n}"), "Shop");
            assert_eq!(
                log.admit(&id(&n.to_string()), at(0), words, &[]),
                Burst::Alone
            );
        }
        assert_eq!(log.recent.len(), RECENT_KEPT);
        let long_post = (0..200)
            .map(|n| format!("word{n}"))
            .collect::<Vec<_>>()
            .join(" ");
        log.admit(&id("long"), at(0), topic_words(&long_post, "Shop"), &[]);
        assert!(log.recent.last().unwrap().words.len() <= WORDS_KEPT);
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
