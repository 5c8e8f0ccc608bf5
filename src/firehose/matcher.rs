//! Which watch a firehose post concerns, decided in one pass: the brand's
//! own DIDs among the accounts the post mentions or answers, then every
//! watch's terms at once through one automaton over the text.
//!
//! A watch's query is read the way the platforms' searches read it: words
//! and "quoted phrases" that must all appear, alternatives split by `OR`,
//! `-word` to exclude; `@` and `#` are dropped (a hashtag or a handle still
//! contains the word) and operators such as `lang:en` are ignored. Terms
//! match whole words, ASCII letters in any case.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::domain::Watch;
use crate::domain::{Platform, Voice};
use crate::platforms::jetstream::PostEvent;

/// A watch's query, split into what the matcher needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Terms {
    /// Alternatives; each is a list of terms that must all appear.
    pub any_of: Vec<Vec<String>>,
    /// Terms that rule a post out.
    pub excluded: Vec<String>,
}

impl Terms {
    pub fn parse(query: &str) -> Self {
        let mut terms = Terms::default();
        let mut group: Vec<String> = Vec::new();
        for (token, quoted) in tokens(query) {
            if !quoted && token == "OR" {
                if !group.is_empty() {
                    terms.any_of.push(std::mem::take(&mut group));
                }
                continue;
            }
            if !quoted && (token == "AND" || token.contains(':')) {
                continue;
            }
            let (excluded, word) = match token.strip_prefix('-') {
                Some(rest) if !quoted => (true, rest),
                _ => (false, token.as_str()),
            };
            let word = word
                .trim_matches(|c| c == '(' || c == ')')
                .trim_start_matches(['@', '#'])
                .trim()
                .to_lowercase();
            if word.is_empty() {
                continue;
            }
            if excluded {
                terms.excluded.push(word);
            } else {
                group.push(word);
            }
        }
        if !group.is_empty() {
            terms.any_of.push(group);
        }
        terms
    }
}

/// Whitespace-separated tokens; a `"quoted phrase"` is one token (the
/// bool says it was quoted, so `"OR"` stays a word).
fn tokens(query: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    for c in query.chars() {
        match c {
            '"' => {
                if quoted && !current.is_empty() {
                    out.push((std::mem::take(&mut current), true));
                    was_quoted = false;
                } else {
                    was_quoted = !quoted;
                }
                quoted = !quoted;
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push((std::mem::take(&mut current), was_quoted));
                }
                was_quoted = false;
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push((current, quoted || was_quoted));
    }
    out
}

/// What a matched post is to the brand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match<'a> {
    pub brand: &'a str,
    pub voice: Voice,
}

struct Rule {
    brand: String,
    /// Term ids; a post matches when every id of one group was found.
    any_of: Vec<Vec<usize>>,
    excluded: Vec<usize>,
}

/// Every watch on Bluesky, compiled once per run.
pub struct WatchMatcher {
    rules: Vec<Rule>,
    /// One pattern per distinct word: a pattern id is a term id.
    automaton: Option<AhoCorasick>,
    /// Term id → the rules that use it.
    term_rules: Vec<Vec<usize>>,
    /// The brands' own DIDs → rule.
    own_dids: HashMap<String, usize>,
}

impl WatchMatcher {
    /// The watches that listen on Bluesky. A brand account given as a DID
    /// (`bluesky:did:plc:...`) is recognised on the stream; one given as a
    /// handle is not, as the stream names accounts by DID only.
    pub fn new(watches: &[Watch]) -> Self {
        let mut rules = Vec::new();
        let mut own_dids = HashMap::new();
        let mut words: Vec<String> = Vec::new();
        let mut term_rules: Vec<Vec<usize>> = Vec::new();
        let mut term_id = |word: &str, rule: usize| -> usize {
            let id = match words.iter().position(|w| w == word) {
                Some(id) => id,
                None => {
                    words.push(word.to_owned());
                    term_rules.push(Vec::new());
                    words.len() - 1
                }
            };
            if !term_rules[id].contains(&rule) {
                term_rules[id].push(rule);
            }
            id
        };
        for watch in watches.iter().filter(|w| w.polls(Platform::Bluesky)) {
            let index = rules.len();
            let terms = Terms::parse(&watch.query);
            let any_of = terms
                .any_of
                .iter()
                .map(|group| group.iter().map(|w| term_id(w, index)).collect())
                .collect();
            let excluded = terms.excluded.iter().map(|w| term_id(w, index)).collect();
            for account in &watch.accounts {
                if account.platform == Platform::Bluesky && account.id.starts_with("did:") {
                    own_dids.entry(account.id.clone()).or_insert(index);
                }
            }
            rules.push(Rule {
                brand: watch.brand.clone(),
                any_of,
                excluded,
            });
        }
        let automaton = (!words.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&words)
                .expect("plain words are valid patterns")
        });
        Self {
            rules,
            automaton,
            term_rules,
            own_dids,
        }
    }

    /// True when no watch listens on Bluesky.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The watch the post concerns, if any: the brand answering in a
    /// thread, a post that mentions or answers the brand's account, or one
    /// whose text matches a watch's terms (the first watch wins).
    pub fn find(&self, post: &PostEvent) -> Option<Match<'_>> {
        if let Some(&rule) = self.own_dids.get(post.did.as_str()) {
            // The brand's own replies are its answers to customers; its
            // other posts are not mentions.
            return post.is_reply().then(|| Match {
                brand: &self.rules[rule].brand,
                voice: Voice::Brand,
            });
        }
        if let Some(rule) = post
            .referenced_dids()
            .find_map(|did| self.own_dids.get(did))
        {
            return Some(Match {
                brand: &self.rules[*rule].brand,
                voice: Voice::Customer,
            });
        }
        self.by_terms(post.record.raw_text()).map(|rule| Match {
            brand: &self.rules[rule].brand,
            voice: Voice::Customer,
        })
    }

    /// The first rule whose terms the text satisfies.
    fn by_terms(&self, text: &str) -> Option<usize> {
        let automaton = self.automaton.as_ref()?;
        // Most posts match nothing, so this stays unallocated for them.
        let mut found: Vec<usize> = Vec::new();
        for hit in automaton.find_overlapping_iter(text) {
            if whole_word(text, hit.start(), hit.end()) {
                let term = hit.pattern().as_usize();
                if !found.contains(&term) {
                    found.push(term);
                }
            }
        }
        if found.is_empty() {
            return None;
        }
        let mut candidates: Vec<usize> = found
            .iter()
            .flat_map(|term| self.term_rules[*term].iter().copied())
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates.into_iter().find(|rule| {
            let rule = &self.rules[*rule];
            !rule.excluded.iter().any(|term| found.contains(term))
                && rule
                    .any_of
                    .iter()
                    .any(|group| group.iter().all(|term| found.contains(term)))
        })
    }
}

/// The match is not part of a longer word.
fn whole_word(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Account;
    use crate::platforms::jetstream::{Event, parse_frame};
    use serde_json::json;

    fn watch(brand: &str, query: &str, accounts: &[&str]) -> Watch {
        Watch::new(
            brand,
            query,
            vec![Platform::Bluesky],
            accounts
                .iter()
                .map(|a| Account::parse(a).unwrap())
                .collect(),
            "2025-12-01T00:00:00Z".parse().unwrap(),
        )
        .unwrap()
    }

    fn post(did: &str, record: serde_json::Value) -> Box<PostEvent> {
        let raw = json!({"did": did, "time_us": 1, "kind": "commit",
            "commit": {"rev": "r", "operation": "create", "collection": "app.bsky.feed.post", "rkey": "k", "record": record}});
        match parse_frame(&raw.to_string()).unwrap() {
            Event::Post(post) => post,
            _ => panic!("a post"),
        }
    }

    fn text(text: &str) -> Box<PostEvent> {
        post(
            "did:plc:someone",
            json!({"text": text, "createdAt": "2025-12-05T10:00:00Z"}),
        )
    }

    #[test]
    fn queries_read_like_search_syntax() {
        let terms = Terms::parse("\"northwind air\" OR #Northwind OR @nwair -jobs lang:en");
        assert_eq!(
            terms.any_of,
            vec![
                vec!["northwind air".to_owned()],
                vec!["northwind".to_owned()],
                vec!["nwair".to_owned()]
            ]
        );
        assert_eq!(terms.excluded, vec!["jobs".to_owned()]);
        assert_eq!(
            Terms::parse("northwind refund").any_of,
            vec![vec!["northwind".to_owned(), "refund".to_owned()]]
        );
    }

    #[test]
    fn terms_match_whole_words_in_any_case_and_all_words_of_a_group() {
        let matcher = WatchMatcher::new(&[
            watch(
                "Northwind",
                "northwind refund OR \"northwind air\" -jobs",
                &[],
            ),
            watch("Contoso", "contoso", &[]),
        ]);
        let brand = |t: &str| matcher.find(&text(t)).map(|m| m.brand.to_owned());
        assert_eq!(brand("NORTHWIND AIR lost my bag"), Some("Northwind".into()));
        assert_eq!(brand("northwind, refund me now"), Some("Northwind".into()));
        assert_eq!(brand("northwind is fine"), None, "refund is missing");
        assert_eq!(brand("northwind air jobs fair"), None, "excluded");
        assert_eq!(brand("northwindair refund"), None, "not a whole word");
        assert_eq!(brand("#contoso down again"), Some("Contoso".into()));
        assert_eq!(brand("contosos"), None);
        assert_eq!(brand("nothing here"), None);
    }

    #[test]
    fn the_brand_account_is_found_in_mentions_and_threads() {
        let matcher = WatchMatcher::new(&[watch(
            "Northwind",
            "\"northwind air\"",
            &["bluesky:did:plc:northwind", "bluesky:northwind.example"],
        )]);
        let mention = post(
            "did:plc:cust",
            json!({"text": "@nw help", "createdAt": "2025-12-05T10:00:00Z",
                "facets": [{"index": {"byteStart": 0, "byteEnd": 3},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:northwind"}]}]}),
        );
        assert_eq!(
            matcher.find(&mention),
            Some(Match {
                brand: "Northwind",
                voice: Voice::Customer
            })
        );
        let thread = |author: &str| {
            post(
                author,
                json!({"text": "still waiting", "createdAt": "2025-12-05T10:00:00Z",
                "reply": {"root": {"uri": "at://did:plc:northwind/app.bsky.feed.post/1", "cid": "c"},
                          "parent": {"uri": "at://did:plc:cust/app.bsky.feed.post/2", "cid": "c"}}}),
            )
        };
        assert_eq!(
            matcher.find(&thread("did:plc:cust")).map(|m| m.voice),
            Some(Voice::Customer)
        );
        assert_eq!(
            matcher.find(&thread("did:plc:northwind")).map(|m| m.voice),
            Some(Voice::Brand)
        );
        let own_post = post(
            "did:plc:northwind",
            json!({"text": "northwind air: new routes", "createdAt": "2025-12-05T10:00:00Z"}),
        );
        assert_eq!(
            matcher.find(&own_post),
            None,
            "the brand's own announcements are not mentions"
        );
    }

    #[test]
    fn watches_not_on_bluesky_are_left_out() {
        let mut x_only = watch("Fabrikam", "fabrikam", &[]);
        x_only.platforms = vec![Platform::X];
        let matcher = WatchMatcher::new(&[x_only]);
        assert!(matcher.is_empty());
        assert_eq!(matcher.find(&text("fabrikam broke")), None);
    }
}
