//! The GSM 03.38 alphabet: what one SMS segment can carry without turning
//! into UCS-2 (70 characters a segment), and how text is made to fit it.

use super::transliteration::latin_for;

/// One SMS segment in the GSM 03.38 alphabet.
pub const SMS_SEGMENT: usize = 160;

const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// These cost two septets each (escape + char).
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{c}";

fn is_gsm(c: char) -> bool {
    GSM_BASIC.contains(c) || GSM_EXTENDED.contains(c)
}

fn septets_of(c: char) -> usize {
    if GSM_EXTENDED.contains(c) { 2 } else { 1 }
}

/// Septets a GSM-7 string occupies; `None` if a character is not GSM-7.
pub fn gsm_septets(text: &str) -> Option<usize> {
    text.chars()
        .try_fold(0, |n, c| is_gsm(c).then(|| n + septets_of(c)))
}

/// Emoji and other pictographs: transliterating them would spell out
/// their names ("face with rolling eyes"), so they are dropped instead.
fn is_pictograph(c: char) -> bool {
    matches!(u32::from(c),
        0x1F000..=0x1FAFF // emoticons, pictographs, flags, skin tones
        | 0x2300..=0x23FF // watches, hourglasses, media keys
        | 0x2600..=0x27BF // symbols and dingbats
        | 0x2B00..=0x2BFF // stars and heavy arrows
        | 0xFE00..=0xFE0F // variation selectors
        | 0x200D          // the joiner inside composed emoji
        | 0x20E3          // keycap
        | 0xE0000..=0xE007F // tag sequences
    )
}

/// Rewrites text into GSM-7 so one character never turns the whole SMS into
/// UCS-2: typographic punctuation becomes ASCII, letters outside the
/// alphabet are transliterated (Łukasz becomes Lukasz, Cyrillic is spelt in
/// Latin letters), emoji are dropped, and runs of white space become one
/// space. The rare ideographs beyond plane 1 are dropped too: the packed
/// spelling table stops at plane 1.
pub fn to_gsm7(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            '‘' | '’' | '′' | '`' | '´' => out.push('\''),
            '“' | '”' | '″' | '«' | '»' => out.push('"'),
            '–' | '—' | '−' => out.push('-'),
            '…' => out.push_str("..."),
            _ if is_gsm(c) => out.push(c),
            _ if is_pictograph(c) => {}
            _ => {
                if let Some(latin) = latin_for(c) {
                    out.extend(latin.chars().filter(|&l| is_gsm(l) && l != '\n'));
                }
            }
        }
    }
    collapse_spaces(&out)
}

fn collapse_spaces(text: &str) -> String {
    text.split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// How many characters a cut may give back to end on a whole word.
const WORD_SLACK: usize = 12;

/// Cuts GSM-7 text to at most `budget` septets, marking the cut with `...`.
pub fn clip(text: &str, budget: usize) -> String {
    if gsm_septets(text).is_some_and(|n| n <= budget) {
        return text.to_owned();
    }
    let room = budget.saturating_sub(3);
    let mut used = 0;
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        let cost = septets_of(c);
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

/// A reply starts with the handles it answers (`@brand @agent ...`); in an
/// SMS about that brand they only take room from the words that matter.
pub fn without_leading_mentions(text: &str) -> &str {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipped_text_ends_on_a_whole_word_when_one_is_near() {
        assert_eq!(clip("hello wonderful world", 14), "hello...");
        assert_eq!(clip("hello world", 20), "hello world");
        assert_eq!(clip("abcdefghijklmnopqrstuvwxyz", 10), "abcdefg...");
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
    fn letters_outside_gsm_are_transliterated_and_emoji_dropped() {
        for (raw, shaped) in [
            ("Łukasz Żółć", "Lukasz Zolc"),
            ("Привет, где мой багаж?", "Privet, gde moi bagazh?"),
            ("ok 🙄👍🏽 thanks ⭐️", "ok thanks"),
            ("👨‍👩‍👧 stuck 🇬🇧", "stuck"),
            ("東京 flight `late`", "Dong Jing flight 'late'"),
        ] {
            assert_eq!(to_gsm7(raw), shaped);
        }
    }

    #[test]
    fn ideographs_beyond_plane_1_are_dropped() {
        assert_eq!(to_gsm7("\u{20000} late \u{21FFF}"), "late");
    }
}
