//! What a voice call says: short, plain words a speech engine reads well,
//! and the reply code spelled one character at a time so it can be typed
//! back from memory.

use super::{AlertCode, Assessment, Mention, Priority};

/// Words of the post read out at most: a call should take seconds.
const MAX_SPOKEN_WORDS: usize = 25;

/// "Q F W J": each character alone, so it is never read as a word.
pub fn spell(code: &AlertCode) -> String {
    code.as_str()
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(" ")
}

fn priority_words(priority: Priority) -> &'static str {
    match priority {
        Priority::P1 => "priority one",
        Priority::P2 => "priority two",
        Priority::P3 => "priority three",
    }
}

/// The post without handles, hashtags and links (noise when spoken), cut
/// to a few words.
fn speakable(text: &str) -> String {
    let words: Vec<&str> = text
        .split_whitespace()
        .filter(|w| !w.starts_with('@') && !w.starts_with("http") && !w.starts_with('#'))
        .collect();
    words[..words.len().min(MAX_SPOKEN_WORDS)]
        .join(" ")
        .trim_end_matches(['.', '!', '?', ',', ';', ':'])
        .to_owned()
}

/// The call's text, e.g. "Earshot, priority one, Northwind: children
/// stranded on the tarmac. Text ACK, Q F W J. Again: Q F W J." The code is
/// said twice: the first time often goes by before the listener is ready.
pub fn spoken_alert(mention: &Mention, assessment: &Assessment, code: &AlertCode) -> String {
    let spelled = spell(code);
    let post = speakable(&mention.text);
    let what = if post.is_empty() {
        assessment.reasons.join(", ")
    } else {
        post
    };
    let brand = mention.brand.trim();
    let opening = if brand.is_empty() {
        format!("Earshot, {}", priority_words(assessment.priority))
    } else {
        format!("Earshot, {}, {brand}", priority_words(assessment.priority))
    };
    format!("{opening}: {what}. Text ACK, {spelled}. Again: {spelled}.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mention::{Author, MentionId, Platform, Voice};

    fn mention(text: &str) -> Mention {
        Mention {
            id: MentionId::new(Platform::X, "1"),
            platform: Platform::X,
            url: "https://x.com/i/status/1".into(),
            author: Author {
                id: "7".into(),
                handle: "dana".into(),
                display_name: None,
                followers: None,
            },
            text: text.into(),
            created_at: "2026-11-24T10:00:00Z".parse().unwrap(),
            received_at: "2026-11-24T10:00:01Z".parse().unwrap(),
            in_reply_to: None,
            quotes: None,
            brand: "Northwind".into(),
            voice: Voice::Customer,
        }
    }

    fn urgent() -> Assessment {
        Assessment::urgent_complaint(&["kids", "stuck"])
    }

    #[test]
    fn the_call_names_brand_priority_and_spells_the_code() {
        let code = AlertCode::parse("QFWJ").unwrap();
        assert_eq!(
            spoken_alert(
                &mention("@northwind children stranded on the tarmac! https://t.co/x"),
                &urgent(),
                &code
            ),
            "Earshot, priority one, Northwind: children stranded on the tarmac. Text ACK, Q F W J. Again: Q F W J."
        );
    }

    #[test]
    fn a_long_post_is_cut_and_an_empty_one_falls_back_to_the_reasons() {
        let code = AlertCode::parse("K3JD").unwrap();
        let long = "word ".repeat(80);
        let spoken = spoken_alert(&mention(&long), &urgent(), &code);
        assert_eq!(spoken.matches("word").count(), MAX_SPOKEN_WORDS);
        assert!(spoken.contains("word word. Text ACK, K 3 J D."), "{spoken}");
        let only_links = spoken_alert(&mention("@northwind https://t.co/x"), &urgent(), &code);
        assert!(
            only_links.contains("Northwind: kids, stuck."),
            "{only_links}"
        );
    }
}
