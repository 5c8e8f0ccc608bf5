//! What the on-call phone receives: alert state, reply codes and the SMS text.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::mention::{Mention, Platform};
use super::triage::{Assessment, compact_count};

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

/// One SMS segment in the GSM 03.38 alphabet.
pub const SMS_SEGMENT: usize = 160;
/// Below this, a quote of the post says too little to be worth its quotes.
const MIN_QUOTE: usize = 12;

const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// These cost two septets each (escape + char).
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// Septets a GSM-7 string occupies; `None` if a character is not GSM-7.
pub fn gsm_septets(text: &str) -> Option<usize> {
    text.chars().try_fold(0, |n, c| {
        if GSM_BASIC.contains(c) {
            Some(n + 1)
        } else if GSM_EXTENDED.contains(c) {
            Some(n + 2)
        } else {
            None
        }
    })
}

/// Rewrites text into GSM-7 so one character never turns the whole SMS into
/// UCS-2 (70 characters a segment): typographic punctuation becomes ASCII,
/// accents fall back to their base letter, emoji and the like are dropped,
/// and runs of white space become one space.
pub fn to_gsm7(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let replacement: &str = match c {
            '\n' | '\r' | '\t' => " ",
            '‘' | '’' | '′' | '`' | '´' => "'",
            '“' | '”' | '″' | '«' | '»' => "\"",
            '–' | '—' | '−' => "-",
            '…' => "...",
            'á' | 'â' | 'ã' | 'ā' => "a",
            'Á' | 'Â' | 'À' | 'Ã' => "A",
            'ê' | 'ë' | 'ē' => "e",
            'È' | 'Ê' | 'Ë' => "E",
            'í' | 'î' | 'ï' => "i",
            'Í' | 'Î' | 'Ï' | 'Ì' => "I",
            'ó' | 'ô' | 'õ' => "o",
            'Ó' | 'Ô' | 'Õ' | 'Ò' => "O",
            'ú' | 'û' => "u",
            'Ú' | 'Û' | 'Ù' => "U",
            'ç' => "c",
            'ý' | 'ÿ' => "y",
            'ś' | 'š' => "s",
            'ł' => "l",
            'ń' => "n",
            'ž' | 'ź' | 'ż' => "z",
            'č' | 'ć' => "c",
            _ if GSM_BASIC.contains(c) || GSM_EXTENDED.contains(c) => {
                out.push(c);
                continue;
            }
            _ => "",
        };
        out.push_str(replacement);
    }
    collapse_spaces(&out)
}

fn collapse_spaces(text: &str) -> String {
    text.split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Cuts GSM-7 text to at most `budget` septets, marking the cut with `...`.
pub(crate) fn clip(text: &str, budget: usize) -> String {
    if gsm_septets(text).is_some_and(|n| n <= budget) {
        return text.to_owned();
    }
    let room = budget.saturating_sub(3);
    let mut used = 0;
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        let cost = if GSM_EXTENDED.contains(c) { 2 } else { 1 };
        if used + cost > room {
            break;
        }
        used += cost;
        out.push(c);
        chars.next();
    }
    // End on a whole word when one ends close enough to the cut.
    let mid_word = chars.peek().is_some_and(|c| !c.is_whitespace());
    if let Some(space) = out
        .rfind(' ')
        .filter(|&at| mid_word && out.len() - at <= WORD_SLACK)
    {
        out.truncate(space);
    }
    format!("{}...", out.trim_end())
}

/// How many characters a cut may give back to end on a whole word.
const WORD_SLACK: usize = 12;

/// A reply starts with the handles it answers (`@brand @agent ...`); in an
/// SMS about that brand they only take room from the words that matter.
pub(crate) fn without_leading_mentions(text: &str) -> &str {
    let mut rest = text.trim_start();
    while let Some(after_at) = rest.strip_prefix('@') {
        let end = after_at.find(char::is_whitespace).unwrap_or(after_at.len());
        let next = after_at[end..].trim_start();
        if next.is_empty() {
            break;
        }
        rest = next;
    }
    rest
}

/// Any GSM-7 text cut to one SMS segment.
pub fn fit_one_sms(text: &str) -> String {
    clip(text, SMS_SEGMENT)
}

/// The link staff tap, as short as each platform allows.
pub fn short_link(mention: &Mention) -> String {
    let native = mention.id.as_str().split_once(':').map_or("", |(_, id)| id);
    match mention.platform {
        Platform::X => format!("x.com/i/status/{native}"),
        Platform::Reddit => format!("redd.it/{native}"),
        _ => {
            let url = mention
                .url
                .trim_start_matches("https://")
                .trim_start_matches("http://");
            url.trim_start_matches("www.").to_owned()
        }
    }
}

/// The alert as one 160-septet GSM-7 SMS, for example:
///
/// ```text
/// P1 X @dana_r 45k: kids, stuck
/// "2 kids on the tarmac for an hour, no water, nobody tells us anything @skyways"
/// x.com/i/status/1862...
/// Reply ACK K7QD
/// ```
///
/// When space runs short the quote shrinks first, then the reasons go, then
/// the link: priority, who, and the code always fit.
pub fn compose_sms(mention: &Mention, assessment: &Assessment, code: &AlertCode) -> String {
    let handle = clip(&to_gsm7(&mention.author.handle), 30);
    let mut head = format!(
        "{} {} @{handle}",
        assessment.priority,
        mention.platform.sms_label()
    );
    if let Some(followers) = mention.author.followers {
        head.push(' ');
        head.push_str(&compact_count(followers));
    }
    // The header already shows reach, so a followers reason would repeat it.
    let mut reasons: Vec<String> = assessment
        .reasons
        .iter()
        .filter(|r| !r.ends_with(" followers"))
        .map(|r| to_gsm7(r))
        .collect();
    let mut link = Some(to_gsm7(&short_link(mention)));
    let tail = format!("Reply ACK {code}");
    let text = to_gsm7(without_leading_mentions(&mention.text));

    loop {
        let first_line = if reasons.is_empty() {
            head.clone()
        } else {
            format!("{head}: {}", reasons.join(", "))
        };
        let mut lines = vec![first_line];
        let fixed_lines: Vec<&str> = link
            .iter()
            .map(String::as_str)
            .chain([tail.as_str()])
            .collect();
        let fixed: usize = lines
            .iter()
            .map(String::as_str)
            .chain(fixed_lines.iter().copied())
            .map(|l| gsm_septets(l).unwrap_or(l.len()))
            .sum();
        // Newlines between lines, plus the quote's own line and its two quotes.
        let separators = fixed_lines.len() + 1;
        let room = SMS_SEGMENT.saturating_sub(fixed + separators + 2);
        if room >= MIN_QUOTE || (reasons.is_empty() && link.is_none()) {
            if room > 0 && !text.is_empty() {
                lines.push(format!("\"{}\"", clip(&text, room)));
            }
            lines.extend(fixed_lines.into_iter().map(str::to_owned));
            let sms = lines.join("\n");
            return clip(&sms, SMS_SEGMENT);
        }
        if reasons.pop().is_none() {
            link = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::mention::{Author, MentionId, Voice};
    use crate::domain::triage::{Intent, Priority};

    fn mention(handle: &str, text: &str, followers: Option<u64>) -> Mention {
        Mention {
            id: MentionId::new(Platform::X, "1862000000000000001"),
            platform: Platform::X,
            url: format!("https://x.com/{handle}/status/1862000000000000001"),
            author: Author {
                id: "42".into(),
                handle: handle.into(),
                display_name: None,
                followers,
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

    fn urgent(reasons: &[&str]) -> Assessment {
        Assessment {
            complaint: true,
            intent: Intent::Complaint,
            sentiment: -0.8,
            urgency: 0.9,
            priority: Priority::P1,
            reasons: reasons.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn sms_shows_priority_author_reasons_quote_link_and_code() {
        let code = AlertCode::candidate("x:1862000000000000001", 0);
        let sms = compose_sms(
            &mention(
                "dana_r",
                "2 kids on the tarmac for an hour, no water",
                Some(45_200),
            ),
            &urgent(&["kids", "stuck", "45k followers"]),
            &code,
        );
        assert_eq!(
            sms,
            format!(
                "P1 X @dana_r 45k: kids, stuck\n\"2 kids on the tarmac for an hour, no water\"\nx.com/i/status/1862000000000000001\nReply ACK {code}"
            )
        );
    }

    #[test]
    fn long_posts_are_clipped_to_one_gsm_segment() {
        let long = "The gate agent told us — again — that the crew “is on the way” 🙄 ".repeat(10);
        let code = AlertCode::candidate("x:1", 0);
        let sms = compose_sms(
            &mention("a_very_long_handle_x", &long, Some(1_200_000)),
            &urgent(&["kids", "stuck", "delayed"]),
            &code,
        );
        let septets = gsm_septets(&sms).expect("GSM-7 only");
        assert!(septets <= SMS_SEGMENT, "{septets}: {sms}");
        assert!(sms.ends_with(&format!("Reply ACK {code}")));
        assert!(sms.contains("...\""));
        assert!(sms.contains("x.com/i/status/"));
    }

    #[test]
    fn reasons_then_link_give_way_before_priority_and_code() {
        let handle = "h".repeat(60);
        let reasons = [
            "a very long first reason",
            "a very long second reason",
            "and a third one",
        ];
        let code = AlertCode::candidate("x:2", 0);
        let sms = compose_sms(&mention(&handle, "help", None), &urgent(&reasons), &code);
        assert!(gsm_septets(&sms).unwrap() <= SMS_SEGMENT);
        assert!(sms.starts_with("P1 X @hhh"));
        assert!(sms.ends_with(&format!("Reply ACK {code}")));
    }

    #[test]
    fn clipped_text_ends_on_a_whole_word_when_one_is_near() {
        assert_eq!(clip("hello wonderful world", 14), "hello...");
        assert_eq!(clip("hello world", 20), "hello world");
        assert_eq!(clip("abcdefghijklmnopqrstuvwxyz", 10), "abcdefg...");
    }

    #[test]
    fn leading_handles_are_left_out_of_the_quote() {
        let code = AlertCode::candidate("x:3", 0);
        let sms = compose_sms(
            &mention("dana_r", "@skyways @help stuck at B12 with @mum", None),
            &urgent(&["stuck"]),
            &code,
        );
        assert!(sms.contains("\n\"stuck at B12 with @mum\"\n"), "{sms}");
        assert_eq!(without_leading_mentions("@skyways"), "@skyways");
    }

    #[test]
    fn non_gsm_characters_are_rewritten_not_kept() {
        assert_eq!(
            to_gsm7("“Late” — again… 😡\nwhy"),
            "\"Late\" - again... why"
        );
        assert_eq!(to_gsm7("Zürich café"), "Zürich café");
        assert_eq!(gsm_septets("{x}"), Some(5));
        assert_eq!(gsm_septets("😡"), None);
    }

    #[test]
    fn codes_are_stable_and_readable() {
        let a = AlertCode::candidate("x:123", 0);
        assert_eq!(a, AlertCode::candidate("x:123", 0));
        assert_ne!(a, AlertCode::candidate("x:123", 1));
        assert_eq!(AlertCode::parse(&a.as_str().to_lowercase()), Some(a));
        assert_eq!(AlertCode::parse("O0I1"), None);
    }
}
