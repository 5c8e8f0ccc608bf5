//! Everything Earshot texts. [`SmsText`] can only be made by shaping text
//! into GSM-7 and fitting it into one segment, and the SMS port sends
//! nothing else; [`texts`] holds every message, top to bottom.

pub mod gsm7;
pub mod texts;
mod transliteration;

use std::fmt;
use std::ops::Deref;

pub use gsm7::{SMS_SEGMENT, gsm_septets, to_gsm7};

/// One SMS segment of GSM-7 text, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsText {
    text: String,
    /// Whether fitting cut the end off: a template that budgets its own
    /// room never needs that.
    cut: bool,
}

impl SmsText {
    /// Any text as one SMS: shaped into GSM-7 on one line, then cut to one
    /// segment.
    pub fn shape(text: &str) -> Self {
        Self::fit(to_gsm7(text))
    }

    /// Several lines, each shaped into GSM-7, kept on lines of their own.
    pub fn lines<S: AsRef<str>>(lines: impl IntoIterator<Item = S>) -> Self {
        let shaped: Vec<String> = lines
            .into_iter()
            .map(|line| to_gsm7(line.as_ref()))
            .collect();
        Self::fit(shaped.join("\n"))
    }

    fn fit(gsm: String) -> Self {
        let clipped = gsm7::clip(&gsm, SMS_SEGMENT);
        Self {
            cut: clipped != gsm,
            text: clipped,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True if fitting one segment cut the end of the message off.
    pub fn was_cut(&self) -> bool {
        self.cut
    }

    /// Septets used, at most [`SMS_SEGMENT`].
    pub fn septets(&self) -> usize {
        gsm_septets(&self.text).unwrap_or(self.text.len())
    }
}

impl Deref for SmsText {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for SmsText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq<String> for SmsText {
    fn eq(&self, other: &String) -> bool {
        &self.text == other
    }
}

impl PartialEq<&str> for SmsText {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl From<SmsText> for String {
    fn from(sms: SmsText) -> String {
        sms.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_text_becomes_one_gsm_segment() {
        let sms = SmsText::shape(&"Łukasz says “еще раз” 😡 ".repeat(20));
        assert!(sms.septets() <= SMS_SEGMENT, "{sms}");
        assert!(gsm_septets(&sms).is_some(), "{sms}");
        assert!(sms.was_cut());
        assert!(
            sms.starts_with("Lukasz says \"eshche raz\" Lukasz"),
            "{sms}"
        );
    }

    #[test]
    fn lines_stay_on_their_own_lines() {
        let sms = SmsText::lines(["first\tline", "second\nline"]);
        assert_eq!(sms, "first line\nsecond line");
        assert!(!sms.was_cut());
    }
}
