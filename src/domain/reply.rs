//! What staff can text back, read forgivingly: case, spaces and a missing
//! code are all fine.

use super::alert::AlertCode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyCommand {
    /// Take the alert; without a code, the latest alert sent to this phone.
    Ack(Option<AlertCode>),
    Done(AlertCode),
    /// A false alarm: stored as feedback for triage training.
    Noise(AlertCode),
    Who(AlertCode),
    /// Hand the alert to someone else (by name; without one, the next
    /// tier); the owner keeps it until they ACK.
    Pass(AlertCode, Option<String>),
    /// No reminders for the alert for a while.
    Snooze(AlertCode, chrono::Duration),
    /// Take the on-call shift of your tier until it ends.
    Take,
    Help,
    /// Carrier opt-out keywords: no more alerts to this phone.
    Stop,
    /// Carrier opt-in keywords: alerts again.
    Start,
    /// Post the brand's approved reply number `.1` to the alert's post.
    Reply(AlertCode, u32),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    #[error("empty message")]
    Empty,
    #[error("unknown command `{0}`")]
    UnknownCommand(String),
    #[error("{0} needs an alert code, e.g. {0} K7QD")]
    MissingCode(&'static str),
    #[error("`{0}` is not an alert code")]
    BadCode(String),
    #[error("REPLY needs a code and a reply number, e.g. REPLY K7QD 1; free text is never posted")]
    ReplyNeedsNumber,
    #[error("SNOOZE needs a time up to 4h, e.g. SNOOZE K7QD 30m")]
    BadSnooze,
}

/// The longest SNOOZE: past it, an open alert should be handed over.
pub const MAX_SNOOZE: chrono::Duration = chrono::Duration::hours(4);

/// `30m`, `2h`, `90min`: a positive time up to [`MAX_SNOOZE`].
fn parse_snooze(raw: Option<&str>) -> Result<chrono::Duration, ReplyError> {
    let raw = raw.ok_or(ReplyError::BadSnooze)?.to_ascii_lowercase();
    let digits: String = raw.chars().take_while(char::is_ascii_digit).collect();
    let amount: i64 = digits.parse().map_err(|_| ReplyError::BadSnooze)?;
    let duration = match &raw[digits.len()..] {
        "m" | "min" | "mins" | "minutes" => chrono::Duration::minutes(amount),
        "h" | "hr" | "hrs" | "hour" | "hours" => chrono::Duration::hours(amount),
        _ => return Err(ReplyError::BadSnooze),
    };
    if duration <= chrono::Duration::zero() || duration > MAX_SNOOZE {
        return Err(ReplyError::BadSnooze);
    }
    Ok(duration)
}

/// Opt-out and opt-in words carriers and AWS treat specially.
const STOP_WORDS: &[&str] = &[
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "OPTOUT",
];
const START_WORDS: &[&str] = &["START", "UNSTOP", "YES", "OPTIN"];

pub fn parse_reply(body: &str) -> Result<ReplyCommand, ReplyError> {
    let mut words = body.split_whitespace();
    let command = words.next().ok_or(ReplyError::Empty)?.to_ascii_uppercase();
    let command = command.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let code = words
        .next()
        .map(|raw| AlertCode::parse(raw).ok_or_else(|| ReplyError::BadCode(raw.to_owned())));
    let needs_code =
        |name: &'static str| code.clone().unwrap_or(Err(ReplyError::MissingCode(name)));
    match command {
        "ACK" | "OK" => Ok(ReplyCommand::Ack(code.transpose()?)),
        "DONE" => Ok(ReplyCommand::Done(needs_code("DONE")?)),
        "NOISE" => Ok(ReplyCommand::Noise(needs_code("NOISE")?)),
        "WHO" => Ok(ReplyCommand::Who(needs_code("WHO")?)),
        "PASS" => {
            let code = needs_code("PASS")?;
            let name = words.collect::<Vec<_>>().join(" ");
            Ok(ReplyCommand::Pass(code, (!name.is_empty()).then_some(name)))
        }
        "SNOOZE" => {
            let code = needs_code("SNOOZE")?;
            Ok(ReplyCommand::Snooze(code, parse_snooze(words.next())?))
        }
        "TAKE" => Ok(ReplyCommand::Take),
        "REPLY" => {
            let code = needs_code("REPLY")?;
            // Exactly a number: anything more would look like text to post.
            let number = words
                .next()
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| *n > 0)
                .ok_or(ReplyError::ReplyNeedsNumber)?;
            if words.next().is_some() {
                return Err(ReplyError::ReplyNeedsNumber);
            }
            Ok(ReplyCommand::Reply(code, number))
        }
        "HELP" | "INFO" | "?" => Ok(ReplyCommand::Help),
        c if STOP_WORDS.contains(&c) => Ok(ReplyCommand::Stop),
        c if START_WORDS.contains(&c) => Ok(ReplyCommand::Start),
        other => Err(ReplyError::UnknownCommand(other.chars().take(12).collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(raw: &str) -> AlertCode {
        AlertCode::parse(raw).unwrap()
    }

    #[test]
    fn commands_are_read_in_any_case_with_or_without_codes() {
        assert_eq!(
            parse_reply("ack k7qd"),
            Ok(ReplyCommand::Ack(Some(code("K7QD"))))
        );
        assert_eq!(parse_reply("  ACK  "), Ok(ReplyCommand::Ack(None)));
        assert_eq!(
            parse_reply("Done K7QD thanks"),
            Ok(ReplyCommand::Done(code("K7QD")))
        );
        assert_eq!(
            parse_reply("noise K7QD"),
            Ok(ReplyCommand::Noise(code("K7QD")))
        );
        assert_eq!(parse_reply("WHO K7QD"), Ok(ReplyCommand::Who(code("K7QD"))));
        assert_eq!(parse_reply("help"), Ok(ReplyCommand::Help));
        assert_eq!(parse_reply("Stop"), Ok(ReplyCommand::Stop));
        assert_eq!(parse_reply("UNSUBSCRIBE"), Ok(ReplyCommand::Stop));
        assert_eq!(parse_reply("start"), Ok(ReplyCommand::Start));
        assert_eq!(
            parse_reply("reply k7qd 2"),
            Ok(ReplyCommand::Reply(code("K7QD"), 2))
        );
    }

    #[test]
    fn pass_snooze_and_take_are_read_with_their_arguments() {
        assert_eq!(
            parse_reply("pass qfwj Kim Lee"),
            Ok(ReplyCommand::Pass(code("QFWJ"), Some("Kim Lee".into())))
        );
        assert_eq!(
            parse_reply("PASS QFWJ"),
            Ok(ReplyCommand::Pass(code("QFWJ"), None))
        );
        assert_eq!(
            parse_reply("snooze QFWJ 30m"),
            Ok(ReplyCommand::Snooze(
                code("QFWJ"),
                chrono::Duration::minutes(30)
            ))
        );
        assert_eq!(
            parse_reply("SNOOZE QFWJ 4h"),
            Ok(ReplyCommand::Snooze(
                code("QFWJ"),
                chrono::Duration::hours(4)
            ))
        );
        assert_eq!(parse_reply("take"), Ok(ReplyCommand::Take));
        for bad in [
            "SNOOZE QFWJ",
            "SNOOZE QFWJ 5h",
            "SNOOZE QFWJ 0m",
            "SNOOZE QFWJ soon",
        ] {
            assert_eq!(parse_reply(bad), Err(ReplyError::BadSnooze), "{bad}");
        }
        assert_eq!(parse_reply("PASS"), Err(ReplyError::MissingCode("PASS")));
    }

    #[test]
    fn malformed_replies_say_what_is_wrong() {
        assert_eq!(parse_reply(""), Err(ReplyError::Empty));
        assert_eq!(parse_reply("DONE"), Err(ReplyError::MissingCode("DONE")));
        assert_eq!(
            parse_reply("ACK 0000"),
            Err(ReplyError::BadCode("0000".into()))
        );
        for free_text in [
            "REPLY K7QD",
            "REPLY K7QD sorry!",
            "REPLY K7QD 1 sorry",
            "REPLY K7QD 0",
        ] {
            assert_eq!(
                parse_reply(free_text),
                Err(ReplyError::ReplyNeedsNumber),
                "{free_text}"
            );
        }
        assert_eq!(parse_reply("REPLY"), Err(ReplyError::MissingCode("REPLY")));
        assert!(matches!(
            parse_reply("hello there"),
            Err(ReplyError::UnknownCommand(_))
        ));
    }
}
