//! The public holding replies a team approves in advance, numbered per
//! brand, so the person on call can answer in public with `REPLY <code> <n>`
//! and never with free text.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::mention::{Mention, Platform};

/// Placeholders a template may use, each filled from the post it answers.
const PLACEHOLDERS: &[&str] = &["first_name", "handle", "brand"];

/// The longest value a placeholder is ever given, so a template's worst case
/// is known when it is added.
const FIRST_NAME_MAX: usize = 24;
const HANDLE_MAX: usize = 30;
const BRAND_MAX: usize = 64;

/// Said when the author's name cannot be read safely.
const NAMELESS: &str = "there";

/// How long a template's promise of contact runs when it names none.
pub const DEFAULT_PROMISE_WINDOW_MINUTES: u32 = 120;

/// The most characters a reply may have on each platform (X counts 280
/// weighted characters; a plain-text template with no links weighs one per
/// character).
pub fn reply_length_limit(platform: Platform) -> Option<usize> {
    match platform {
        Platform::X => Some(280),
        Platform::Bluesky => Some(300),
        Platform::Mastodon => Some(500),
        Platform::Facebook => Some(8000),
        Platform::Instagram => Some(2200),
        Platform::Reddit => None,
    }
}

/// The platforms Earshot can answer on.
pub const REPLY_PLATFORMS: [Platform; 5] = [
    Platform::X,
    Platform::Bluesky,
    Platform::Mastodon,
    Platform::Facebook,
    Platform::Instagram,
];

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("a reply template must not be empty")]
    Empty,
    #[error("unknown placeholder {{{0}}}: use {{first_name}}, {{handle}} or {{brand}}")]
    UnknownPlaceholder(String),
    #[error("a `{{` or `}}` that does not form a placeholder")]
    StrayBrace,
    #[error("the template can reach {worst} characters once filled in; {platform} allows {limit}")]
    TooLong {
        platform: Platform,
        worst: usize,
        limit: usize,
    },
    #[error("the promise window must be from 1 minute to 7 days")]
    BadWindow,
    #[error("{0} replies are not posted by Earshot")]
    PlatformNotSupported(Platform),
}

/// One approved reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTemplate {
    /// What staff type after the code: `REPLY K7QD 2`. Never reused within
    /// a watch, so a number learnt by heart keeps its meaning.
    pub number: u32,
    pub text: String,
    /// The reply promises contact within this many minutes: the owner is
    /// reminded when the alert is not DONE by then.
    pub promise_window_minutes: u32,
    pub added_at: DateTime<Utc>,
}

/// A piece of a template: literal text or a placeholder's name.
enum Piece<'a> {
    Text(&'a str),
    Slot(&'a str),
}

fn pieces(text: &str) -> Result<Vec<Piece<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err(TemplateError::StrayBrace);
        }
        out.push(Piece::Text(&rest[..open]));
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or(TemplateError::StrayBrace)?;
        let name = &after[..close];
        if name.contains('{') {
            return Err(TemplateError::StrayBrace);
        }
        if !PLACEHOLDERS.contains(&name) {
            return Err(TemplateError::UnknownPlaceholder(name.to_owned()));
        }
        out.push(Piece::Slot(name));
        rest = &after[close + 1..];
    }
    out.push(Piece::Text(rest));
    Ok(out)
}

fn slot_max(name: &str) -> usize {
    match name {
        "first_name" => FIRST_NAME_MAX,
        "handle" => HANDLE_MAX + 1,
        _ => BRAND_MAX,
    }
}

impl ReplyTemplate {
    /// Checks the text (placeholders, braces) and that, filled with the
    /// longest values allowed, it fits every platform Earshot answers on.
    pub fn new(
        number: u32,
        text: &str,
        promise_window_minutes: u32,
        added_at: DateTime<Utc>,
    ) -> Result<Self, TemplateError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TemplateError::Empty);
        }
        if !(1..=7 * 24 * 60).contains(&promise_window_minutes) {
            return Err(TemplateError::BadWindow);
        }
        let worst: usize = pieces(text)?
            .iter()
            .map(|piece| match piece {
                Piece::Text(t) => t.chars().count(),
                Piece::Slot(name) => slot_max(name),
            })
            .sum();
        for platform in REPLY_PLATFORMS {
            let limit = reply_length_limit(platform).unwrap_or(usize::MAX);
            if worst > limit {
                return Err(TemplateError::TooLong {
                    platform,
                    worst,
                    limit,
                });
            }
        }
        Ok(Self {
            number,
            text: text.to_owned(),
            promise_window_minutes,
            added_at,
        })
    }

    pub fn promise_window(&self) -> Duration {
        Duration::minutes(i64::from(self.promise_window_minutes))
    }

    /// The reply to `mention`, placeholders filled with values that cannot
    /// add a mention, a hashtag or a link; refused when it does not fit the
    /// post's platform.
    pub fn render(&self, mention: &Mention) -> Result<String, TemplateError> {
        let limit = reply_length_limit(mention.platform)
            .ok_or(TemplateError::PlatformNotSupported(mention.platform))?;
        let mut out = String::new();
        for piece in pieces(&self.text)? {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Slot("first_name") => out.push_str(&first_name(mention)),
                Piece::Slot("handle") => {
                    out.push('@');
                    out.push_str(&clean_handle(&mention.author.handle));
                }
                Piece::Slot(_) => out.push_str(&plain_words(&mention.brand, BRAND_MAX)),
            }
        }
        let length = out.chars().count();
        if length > limit {
            return Err(TemplateError::TooLong {
                platform: mention.platform,
                worst: length,
                limit,
            });
        }
        Ok(out)
    }
}

/// The first word of the author's display name, letters only (plus `'`
/// and `-` inside a name), or a neutral word when there is none.
fn first_name(mention: &Mention) -> String {
    let name = mention
        .author
        .display_name
        .as_deref()
        .and_then(|n| n.split_whitespace().find(|w| !w.is_empty()))
        .map(|word| plain_words(word, FIRST_NAME_MAX))
        .unwrap_or_default();
    if name.chars().any(char::is_alphabetic) {
        name
    } else {
        NAMELESS.to_owned()
    }
}

/// Letters, digits, spaces, `'` and `-` only: nothing a platform reads as a
/// mention, tag, link or markup.
fn plain_words(raw: &str, max: usize) -> String {
    let kept: String = raw
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '\'' | '-'))
        .take(max)
        .collect();
    kept.trim_matches(|c: char| c == '\'' || c == '-' || c == ' ')
        .to_owned()
}

/// A handle as platforms write it (letters, digits, `_`, `.` and `-`, plus
/// the `@server` of a Mastodon acct), up to the first character that is not.
fn clean_handle(raw: &str) -> String {
    raw.trim_start_matches('@')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '@'))
        .take(HANDLE_MAX)
        .collect()
}

/// The next number for a new template: one past the highest ever kept.
pub fn next_number(templates: &[ReplyTemplate]) -> u32 {
    templates.iter().map(|t| t.number).max().unwrap_or(0) + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Author, MentionId, Voice};

    fn at() -> DateTime<Utc> {
        "2026-12-05T10:00:00Z".parse().unwrap()
    }

    fn mention(platform: Platform, display_name: Option<&str>, handle: &str) -> Mention {
        Mention {
            id: MentionId::new(platform, "1"),
            platform,
            url: "https://example.invalid/1".into(),
            author: Author {
                id: "1".into(),
                handle: handle.into(),
                display_name: display_name.map(str::to_owned),
                followers: None,
            },
            text: "stuck".into(),
            created_at: at(),
            received_at: at(),
            in_reply_to: None,
            quotes: None,
            brand: "Northwind".into(),
            voice: Voice::Customer,
        }
    }

    #[test]
    fn placeholders_are_filled_with_plain_words_only() {
        let template = ReplyTemplate::new(
            1,
            "We're so sorry, {first_name}. {brand} is on it.",
            15,
            at(),
        )
        .unwrap();
        let dana = mention(Platform::X, Some("Dana Kowalski"), "dana_k");
        assert_eq!(
            template.render(&dana).unwrap(),
            "We're so sorry, Dana. Northwind is on it."
        );
        let sneaky = mention(
            Platform::X,
            Some("@everyone#free https://evil.example"),
            "x",
        );
        let rendered = template.render(&sneaky).unwrap();
        assert!(!rendered.contains('@') && !rendered.contains('#') && !rendered.contains("//"));
        let emoji_only = mention(Platform::X, Some("✈️✈️"), "x");
        assert_eq!(
            template.render(&emoji_only).unwrap(),
            "We're so sorry, there. Northwind is on it."
        );
    }

    #[test]
    fn the_handle_placeholder_names_the_author_once() {
        let template = ReplyTemplate::new(2, "{handle} we're on it", 30, at()).unwrap();
        let post = mention(Platform::Mastodon, None, "@dana@social.example<b>");
        assert_eq!(
            template.render(&post).unwrap(),
            "@dana@social.example we're on it"
        );
    }

    #[test]
    fn templates_with_unknown_placeholders_or_stray_braces_are_refused() {
        assert_eq!(
            ReplyTemplate::new(1, "Hi {name}", 15, at()),
            Err(TemplateError::UnknownPlaceholder("name".into()))
        );
        for bad in ["Hi {first_name", "Hi first_name}", "Hi {{first_name}}"] {
            assert_eq!(
                ReplyTemplate::new(1, bad, 15, at()),
                Err(TemplateError::StrayBrace),
                "{bad}"
            );
        }
        assert_eq!(
            ReplyTemplate::new(1, "  ", 15, at()),
            Err(TemplateError::Empty)
        );
        assert_eq!(
            ReplyTemplate::new(1, "ok", 0, at()),
            Err(TemplateError::BadWindow)
        );
    }

    #[test]
    fn a_template_must_fit_x_even_with_the_longest_name() {
        let fits = "a".repeat(280 - FIRST_NAME_MAX - 1);
        assert!(ReplyTemplate::new(1, &format!("{fits} {{first_name}}"), 15, at()).is_ok());
        let too_long = format!("{fits}a {{first_name}}");
        assert_eq!(
            ReplyTemplate::new(1, &too_long, 15, at()),
            Err(TemplateError::TooLong {
                platform: Platform::X,
                worst: 281,
                limit: 280
            })
        );
    }

    #[test]
    fn reddit_posts_are_not_answered() {
        let template = ReplyTemplate::new(1, "On it", 15, at()).unwrap();
        assert_eq!(
            template.render(&mention(Platform::Reddit, None, "u")),
            Err(TemplateError::PlatformNotSupported(Platform::Reddit))
        );
    }

    #[test]
    fn numbers_are_never_reused() {
        let one = ReplyTemplate::new(1, "a", 15, at()).unwrap();
        let three = ReplyTemplate::new(3, "b", 15, at()).unwrap();
        assert_eq!(next_number(&[]), 1);
        assert_eq!(next_number(&[three, one]), 4);
    }
}
