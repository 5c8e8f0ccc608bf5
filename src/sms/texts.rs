//! Every SMS Earshot sends, in the order a phone meets them: the alert, the
//! incident page, "posted again", the reminder, the summary of held alerts,
//! the answers to staff replies, and the source-health messages. Each
//! returns an [`SmsText`]: GSM-7, one segment, the call to action kept.

use chrono::{DateTime, Utc};

use super::SmsText;
use super::gsm7::{SMS_SEGMENT, clip, gsm_septets, to_gsm7, without_leading_mentions};
use crate::domain::hold::HeldAlert;
use crate::domain::incident::{INCIDENT_AFTER, Incident};
use crate::domain::triage::compact_count;
use crate::domain::{Alarm, SourceKey, SourceState};
use crate::domain::{AlertCode, Assessment, Mention, Platform};

/// Below this, a quote of the post says too little to be worth its quotes.
const MIN_QUOTE: usize = 12;
/// Room a handle may take; the rest of its SMS matters more.
const HANDLE_ROOM: usize = 30;

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

fn handle(raw: &str) -> String {
    clip(&to_gsm7(raw), HANDLE_ROOM)
}

fn septets(text: &str) -> usize {
    gsm_septets(text).unwrap_or(text.len())
}

/// The alert, for example:
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
pub fn alert(mention: &Mention, assessment: &Assessment, code: &AlertCode) -> SmsText {
    let mut head = format!(
        "{} {} @{}",
        assessment.priority,
        mention.platform.sms_label(),
        handle(&mention.author.handle)
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
            .map(septets)
            .sum();
        // Newlines between lines, plus the quote's own line and its two quotes.
        let separators = fixed_lines.len() + 1;
        let room = SMS_SEGMENT.saturating_sub(fixed + separators + 2);
        if room >= MIN_QUOTE || (reasons.is_empty() && link.is_none()) {
            if room > 0 && !text.is_empty() {
                lines.push(format!("\"{}\"", clip(&text, room)));
            }
            lines.extend(fixed_lines.into_iter().map(str::to_owned));
            return SmsText::lines(lines);
        }
        if reasons.pop().is_none() {
            link = None;
        }
    }
}

/// The incident page:
///
/// ```text
/// INCIDENT NorthwindAir: 3 similar P1 posts in 6 min (app, login)
/// Latest @kim: "the app logs me out and I can't check in, flight at 9"
/// Reply ACK K7QD
/// ```
pub fn incident(
    mention: &Mention,
    incident: &Incident,
    code: &AlertCode,
    now: DateTime<Utc>,
) -> SmsText {
    let minutes = (now - incident.since).num_minutes().max(1);
    let kind = if incident.posts == INCIDENT_AFTER {
        "INCIDENT"
    } else {
        "INCIDENT update"
    };
    let mut head = format!(
        "{kind} {}: {} similar P1 posts in {minutes} min",
        clip(&to_gsm7(&mention.brand), HANDLE_ROOM),
        incident.posts
    );
    if !incident.topic.is_empty() {
        let topic: Vec<&str> = incident.topic.iter().take(3).map(String::as_str).collect();
        head.push_str(&format!(" ({})", to_gsm7(&topic.join(", "))));
    }
    let tail = format!("Reply ACK {code}");
    let who = format!("Latest @{}: ", clip(&to_gsm7(&mention.author.handle), 20));
    let room = SMS_SEGMENT.saturating_sub(septets(&head) + tail.len() + septets(&who) + 4);
    let quote = clip(&to_gsm7(without_leading_mentions(&mention.text)), room);
    SmsText::lines([head, format!("{who}\"{quote}\""), tail])
}

/// To the owner of an alert whose author posts again.
pub fn posted_again(mention: &Mention, code: &AlertCode) -> SmsText {
    let who = handle(&mention.author.handle);
    let link = to_gsm7(&short_link(mention));
    let frame = format!("@{who} posted again (re {code}): \"\" {link}");
    let quote = clip(
        &to_gsm7(&mention.text),
        SMS_SEGMENT.saturating_sub(septets(&frame)),
    );
    SmsText::shape(&format!(
        "@{who} posted again (re {code}): \"{quote}\" {link}"
    ))
}

/// To the owner of an acknowledged alert that is still open.
pub fn reminder(code: &AlertCode, author: &str, owned_since: DateTime<Utc>) -> SmsText {
    SmsText::shape(&format!(
        "Reminder: {code} (@{}) is still open, yours since {} UTC. Reply DONE {code} when sorted.",
        handle(author),
        owned_since.format("%H:%M")
    ))
}

/// What was held back from one phone and why, then as many of the alerts as
/// fit, most urgent first, e.g. `Held for you (quiet hours): 3 alerts. P1
/// K3JD @dana_rivers; P1 7PLE @priya; P2 QFWJ @tom. Reply WHO <code> or ACK
/// <code>.`
pub fn held_summary(held: &[HeldAlert]) -> SmsText {
    let mut reasons: Vec<&str> = Vec::new();
    for alert in held {
        let label = alert.reason.label();
        if !reasons.contains(&label) {
            reasons.push(label);
        }
    }
    let mut alerts: Vec<&HeldAlert> = held.iter().collect();
    alerts.sort_by_key(|a| (a.priority, a.at));
    let count = alerts.len();
    let plural = if count == 1 { "alert" } else { "alerts" };
    let head = format!("Held for you ({}): {count} {plural}.", reasons.join(", "));
    let entries: Vec<String> = alerts
        .iter()
        .map(|a| format!("{} {} @{}", a.priority, a.code, handle(&a.handle)))
        .collect();
    listed_in_one_sms(head, &entries, " Reply WHO <code> or ACK <code>.")
}

/// `head`, then as many `entries` as fit ("; " between them), then "+N
/// more." for the rest, then `tail`, which always fits.
fn listed_in_one_sms(head: String, entries: &[String], tail: &str) -> SmsText {
    let count = entries.len();
    let mut body = head;
    let mut listed = 0;
    for entry in entries {
        let entry = format!(" {entry};");
        let more = count - listed - 1;
        let reserve = tail.len()
            + if more > 0 {
                format!(" +{more} more.").len()
            } else {
                0
            };
        if septets(&body) + septets(&entry) + reserve > SMS_SEGMENT {
            break;
        }
        body.push_str(&entry);
        listed += 1;
    }
    if body.ends_with(';') {
        body.pop();
        body.push('.');
    }
    if listed < count {
        body.push_str(&format!(" +{} more.", count - listed));
    }
    body.push_str(tail);
    SmsText::shape(&body)
}

// Answers to staff replies.

/// The answer to HELP, and to anything unreadable.
pub const HELP: &str = "Earshot: ACK <code> (alone: latest), DONE/NOISE/WHO <code>, PASS <code> <name>, SNOOZE <code> 30m, REPLY <code> <n> (public reply), TAKE your tier's shift.";

pub fn help() -> SmsText {
    SmsText::shape(HELP)
}

/// A reply that could not be read; `problem` says why.
pub fn unreadable_reply(problem: &str) -> SmsText {
    let tail = ". Reply HELP for the commands.";
    let problem = clip(
        &to_gsm7(problem),
        SMS_SEGMENT - tail.len() - "Sorry, ".len(),
    );
    SmsText::shape(&format!("Sorry, {problem}{tail}"))
}

pub fn alerts_back_on() -> SmsText {
    SmsText::shape("Earshot alerts are back on for this phone.")
}

pub fn no_alert_sent_yet() -> SmsText {
    SmsText::shape("No alert has been sent to you yet. Reply ACK <code>.")
}

pub fn no_such_alert(code: &AlertCode) -> SmsText {
    SmsText::shape(&format!("No alert {code}. Reply HELP for commands."))
}

/// The ACK was first: the alert is theirs. `post` is the post's author and
/// link, when the post is still stored.
pub fn yours(code: &AlertCode, post: Option<&Mention>) -> SmsText {
    let tail = format!(" Reply DONE {code} when sorted.");
    let detail = post.map_or_else(String::new, |m| {
        let detail = format!(" @{} {}", handle(&m.author.handle), to_gsm7(&short_link(m)));
        clip(
            &detail,
            SMS_SEGMENT - tail.len() - format!("{code} is yours.").len(),
        )
    });
    SmsText::shape(&format!("{code} is yours.{detail}{tail}"))
}

pub fn already_yours(code: &AlertCode) -> SmsText {
    SmsText::shape(&format!(
        "{code} is already yours. Reply DONE {code} when sorted."
    ))
}

/// A person on the roster, by name, and the UTC time they took an alert.
fn who_since(name: &str, since: DateTime<Utc>) -> (String, String) {
    (
        clip(&to_gsm7(name), HANDLE_ROOM),
        since.format("%H:%M UTC").to_string(),
    )
}

pub fn already_taken(code: &AlertCode, owner: &str, since: DateTime<Utc>) -> SmsText {
    let (owner, since) = who_since(owner, since);
    SmsText::shape(&format!("{code} is already {owner}'s (since {since})."))
}

pub fn closed(code: &AlertCode, name: &str) -> SmsText {
    SmsText::shape(&format!("{code} closed. Thank you, {name}."))
}

pub fn already_closed(code: &AlertCode, closer: &str) -> SmsText {
    SmsText::shape(&format!("{code} was already closed by {closer}."))
}

pub fn noted_as_noise(code: &AlertCode) -> SmsText {
    SmsText::shape(&format!(
        "Thanks: {code} noted as a false alarm. It will help triage learn."
    ))
}

pub fn owner_is(code: &AlertCode, owner: &str, since: DateTime<Utc>) -> SmsText {
    let (owner, since) = who_since(owner, since);
    SmsText::shape(&format!("{code}: {owner} has it since {since}."))
}

pub fn nobody_yet(code: &AlertCode) -> SmsText {
    SmsText::shape(&format!("{code}: nobody yet. Reply ACK {code} to take it."))
}

// Public replies (`REPLY <code> <n>`), to the person who sent one.

pub fn not_allowed_to_reply() -> SmsText {
    SmsText::shape(
        "You are not set up to post public replies. Ask an admin to add you with --can-reply.",
    )
}

pub fn alert_no_longer_stored(code: &AlertCode) -> SmsText {
    SmsText::shape(&format!(
        "Alert {code} is no longer stored; nothing was posted."
    ))
}

/// The brand has no approved reply `number`; `approved` lists those it has.
pub fn no_such_template(brand: &str, number: u32, approved: &[u32]) -> SmsText {
    let brand = handle(brand);
    if approved.is_empty() {
        return SmsText::shape(&format!(
            "{brand} has no approved replies; nothing was posted."
        ));
    }
    let approved: Vec<String> = approved.iter().map(u32::to_string).collect();
    SmsText::shape(&format!(
        "{brand} has no reply {number}. Approved: {}. Nothing was posted.",
        approved.join(", ")
    ))
}

/// The template cannot be posted to this post; `problem` says why.
pub fn template_cannot_go(code: &AlertCode, number: u32, problem: &str) -> SmsText {
    SmsText::shape(&format!("Reply {number} cannot go to {code}: {problem}."))
}

/// `link` is where the reply can be seen, without its scheme.
pub fn reply_already_posted(code: &AlertCode, number: u32, link: &str) -> SmsText {
    SmsText::shape(&format!(
        "Reply {number} to {code} was already posted. {link}"
    ))
}

pub fn reply_in_flight(code: &AlertCode, number: u32) -> SmsText {
    SmsText::shape(&format!(
        "Reply {number} to {code} is being posted right now; not posting it twice."
    ))
}

/// Posted; `reminder_minutes` is the promise window when a timer started.
pub fn reply_posted(
    code: &AlertCode,
    number: u32,
    author: &str,
    link: &str,
    reminder_minutes: Option<u32>,
) -> SmsText {
    let timer = reminder_minutes.map_or_else(String::new, |minutes| {
        format!(" Reminder in {minutes} min unless DONE.")
    });
    SmsText::shape(&format!(
        "Posted reply {number} to @{} for {code}. {link}{timer}",
        handle(author)
    ))
}

/// Not posted: `problem` is what the platform said, `next` what to do.
pub fn reply_failed(code: &AlertCode, number: u32, problem: &str, next: &str) -> SmsText {
    let head = format!("Reply {number} to {code} NOT posted: ");
    let tail = format!(". {}", to_gsm7(next));
    let problem = clip(
        &to_gsm7(problem),
        SMS_SEGMENT.saturating_sub(septets(&head) + septets(&tail)),
    );
    SmsText::shape(&format!("{head}{problem}{tail}"))
}

// The rest of the chain, hand-overs and the rota.

/// To everyone else paged for an alert, once: "QFWJ taken by Sam. No need
/// to act on it." or "QFWJ closed by Sam."
pub fn chain_taken(code: &AlertCode, by: &str) -> SmsText {
    SmsText::shape(&format!(
        "{code} taken by {}. No need to act on it.",
        clip(&to_gsm7(by), HANDLE_ROOM)
    ))
}

pub fn chain_closed(code: &AlertCode, by: &str, noise: bool) -> SmsText {
    let by = clip(&to_gsm7(by), HANDLE_ROOM);
    if noise {
        SmsText::shape(&format!("{code} closed by {by} as a false alarm."))
    } else {
        SmsText::shape(&format!("{code} closed by {by}."))
    }
}

/// To tier 1, once per run of failures: "Earshot: SMS to Kim failed 3
/// times in a row (Phone is currently unreachable). Check the number:
/// earshot roster list"
pub fn failing_number(name: &str, failures: u32, reason: &str) -> SmsText {
    let tail = ". Check the number: earshot roster list";
    let head = format!(
        "Earshot: SMS to {} failed {failures} times in a row (",
        clip(&to_gsm7(name), HANDLE_ROOM)
    );
    let reason = clip(
        &to_gsm7(reason),
        SMS_SEGMENT.saturating_sub(septets(&head) + septets(tail) + 1),
    );
    SmsText::shape(&format!("{head}{reason}){tail}"))
}

/// To whoever comes on shift: "You are on call (tier 1) until Mon 30 Mar
/// 09:00 Europe/London. Open: 2. P1 QFWJ @dana; P2 K3JD @tom. Reply WHO
/// <code>."
pub fn shift_starts(tier: u8, until: &str, open: &[String]) -> SmsText {
    let head = format!("You are on call (tier {tier}) until {until}.");
    if open.is_empty() {
        return SmsText::shape(&format!("{head} Nothing is open."));
    }
    listed_in_one_sms(
        format!("{head} Open: {}.", open.len()),
        open,
        " Reply WHO <code>.",
    )
}

/// To the person an alert is passed to.
pub fn passed_to_you(code: &AlertCode, from: &str, post: Option<&Mention>) -> SmsText {
    let from = clip(&to_gsm7(from), HANDLE_ROOM);
    let about = post.map_or_else(String::new, |m| format!(" (@{})", handle(&m.author.handle)));
    SmsText::shape(&format!(
        "{from} passes you {code}{about}. Reply ACK {code} to take it; until then it stays {from}'s."
    ))
}

pub fn offered(code: &AlertCode, to: &str) -> SmsText {
    let to = clip(&to_gsm7(to), HANDLE_ROOM);
    SmsText::shape(&format!(
        "{code} offered to {to}. It stays yours until {to} replies ACK {code}."
    ))
}

/// To the first owner, once the person it was passed to took it.
pub fn taken_over(code: &AlertCode, by: &str) -> SmsText {
    SmsText::shape(&format!(
        "{} took {code} from you. Nothing more to do.",
        clip(&to_gsm7(by), HANDLE_ROOM)
    ))
}

/// PASS or SNOOZE of an alert the sender does not own.
pub fn not_yours(code: &AlertCode, owner: Option<&str>) -> SmsText {
    match owner {
        Some(owner) => SmsText::shape(&format!(
            "{code} is {}'s: only they can pass or snooze it.",
            clip(&to_gsm7(owner), HANDLE_ROOM)
        )),
        None => SmsText::shape(&format!(
            "Nobody has {code} yet. Reply ACK {code} first, then PASS or SNOOZE it."
        )),
    }
}

pub fn nobody_called(name: &str) -> SmsText {
    SmsText::shape(&format!(
        "Nobody called {} is on the roster. Reply PASS <code> <name>.",
        clip(&to_gsm7(name), HANDLE_ROOM)
    ))
}

pub fn nobody_to_pass_to() -> SmsText {
    SmsText::shape("Nobody else can take it now. Reply PASS <code> <name>.")
}

pub fn snoozed(code: &AlertCode, until: DateTime<Utc>) -> SmsText {
    SmsText::shape(&format!(
        "{code} snoozed: no reminder until {} UTC. Reply DONE {code} when sorted.",
        until.format("%H:%M")
    ))
}

/// TAKE: the sender now holds their tier until the shift ends.
pub fn shift_taken(tier: u8, until: &str) -> SmsText {
    SmsText::shape(&format!("Tier {tier} is yours until {until}."))
}

/// To whoever was on shift when someone else took it.
pub fn shift_taken_from_you(tier: u8, by: &str, until: &str) -> SmsText {
    SmsText::shape(&format!(
        "{} took your tier {tier} shift until {until}. You will not be paged for it.",
        clip(&to_gsm7(by), HANDLE_ROOM)
    ))
}

pub fn already_on_shift(tier: u8, until: &str) -> SmsText {
    SmsText::shape(&format!("You already have tier {tier} until {until}."))
}

pub fn no_shift_to_take(tier: u8) -> SmsText {
    SmsText::shape(&format!(
        "Tier {tier} has no rota, so there is no shift to take."
    ))
}

// Source health, to the first tier.

/// A polled source's alarm was raised.
pub fn source_alarm(state: &SourceState, alarm: Alarm) -> SmsText {
    let key = &state.key;
    let brand = clip(&to_gsm7(&key.brand), HANDLE_ROOM);
    match alarm {
        Alarm::Failing => {
            let head = format!(
                "Earshot: {} search for {brand} has failed {} times in a row (",
                key.platform, state.consecutive_failures,
            );
            let tail = "). Mentions there may be missed.";
            let error = to_gsm7(state.last_error.as_deref().unwrap_or("unknown error"));
            let error = clip(
                &error,
                SMS_SEGMENT.saturating_sub(septets(&head) + tail.len()),
            );
            SmsText::shape(&format!("{head}{error}{tail}"))
        }
        Alarm::Silent => SmsText::shape(&format!(
            "Earshot: {} search for {brand} has found nothing new since {}, far longer than usual. Check the source.",
            key.platform,
            state.last_mention_at.map_or_else(
                || "it started".to_owned(),
                |at| at.format("%Y-%m-%d %H:%M UTC").to_string()
            )
        )),
        // Raised only by the firehose, which says by how much (below).
        Alarm::Lagging => SmsText::shape(&format!(
            "Earshot: {} for {brand} is behind real time. Mentions there reach you late.",
            key.platform,
        )),
    }
}

/// A polled source's alarm was cleared.
pub fn source_recovered(key: &SourceKey) -> SmsText {
    SmsText::shape(&format!(
        "Earshot: {} search for {} is working again.",
        key.platform,
        clip(&to_gsm7(&key.brand), HANDLE_ROOM)
    ))
}

/// The Bluesky firehose's cursor is `minutes` behind real time.
pub fn firehose_lagging(minutes: i64) -> SmsText {
    SmsText::shape(&format!(
        "Earshot: the Bluesky firehose is {minutes} minutes behind. New Bluesky posts reach you late until it catches up."
    ))
}

/// The Bluesky firehose is back near real time.
pub fn firehose_caught_up() -> SmsText {
    SmsText::shape("Earshot: the Bluesky firehose has caught up.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::PhoneNumber;
    use crate::domain::hold::HoldReason;
    use crate::domain::mention::{Author, MentionId, Voice};
    use crate::domain::triage::Priority;

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
        Assessment::urgent_complaint(reasons)
    }

    fn at(minute: u32) -> DateTime<Utc> {
        format!("2026-11-24T09:{minute:02}:00Z").parse().unwrap()
    }

    fn held(code: &str, priority: Priority, handle: &str, reason: HoldReason) -> HeldAlert {
        HeldAlert {
            phone: PhoneNumber::parse("+15555550100").unwrap(),
            mention: MentionId::new(Platform::X, code),
            code: AlertCode::parse(code).unwrap(),
            priority,
            handle: handle.into(),
            reason,
            at: "2026-11-24T03:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn sms_shows_priority_author_reasons_quote_link_and_code() {
        let code = AlertCode::candidate("x:1862000000000000001", 0);
        let sms = alert(
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
        let sms = alert(
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
        let sms = alert(&mention(&handle, "help", None), &urgent(&reasons), &code);
        assert!(gsm_septets(&sms).unwrap() <= SMS_SEGMENT);
        assert!(sms.starts_with("P1 X @hhh"));
        assert!(sms.ends_with(&format!("Reply ACK {code}")));
    }

    #[test]
    fn leading_handles_are_left_out_of_the_quote() {
        let code = AlertCode::candidate("x:3", 0);
        let sms = alert(
            &mention("dana_r", "@skyways @help stuck at B12 with @mum", None),
            &urgent(&["stuck"]),
            &code,
        );
        assert!(sms.contains("\n\"stuck at B12 with @mum\"\n"), "{sms}");
        assert_eq!(without_leading_mentions("@skyways"), "@skyways");
    }

    #[test]
    fn a_polish_name_and_a_cyrillic_post_keep_their_letters() {
        let post = mention("Łukasz", "Где мой багаж? 😡", None);
        let sms = alert(
            &post,
            &urgent(&["baggage"]),
            &AlertCode::candidate("x:4", 0),
        );
        let lines: Vec<&str> = sms.lines().take(2).collect();
        assert_eq!(lines, ["P1 X @Lukasz: baggage", "\"Gde moi bagazh?\""]);
    }

    #[test]
    fn the_incident_sms_fits_one_segment_with_the_code() {
        let mention = Mention {
            id: MentionId::new(Platform::X, "9"),
            platform: Platform::X,
            url: "https://x.com/kim/status/9".into(),
            author: Author {
                id: "7".into(),
                handle: "kim".into(),
                display_name: None,
                followers: Some(120),
            },
            text: "@NorthwindAir the app logs me out and I cannot check in, my flight boards at 9 and the desk queue is two hours long".into(),
            created_at: at(6),
            received_at: at(6),
            in_reply_to: None,
            quotes: None,
            brand: "NorthwindAir".into(),
            voice: Voice::Customer,
        };
        let incident = Incident {
            lead: MentionId::new(Platform::X, "1"),
            posts: 3,
            since: at(0),
            topic: vec!["app".into(), "check".into()],
        };
        let code = AlertCode::parse("K7QD").unwrap();
        let sms = super::incident(&mention, &incident, &code, at(6));
        assert!(sms.len() <= SMS_SEGMENT, "{sms}");
        assert!(
            sms.starts_with("INCIDENT NorthwindAir: 3 similar P1 posts in 6 min (app, check)\nLatest @kim: \"the app logs me out"),
            "{sms}"
        );
        assert!(sms.ends_with("\nReply ACK K7QD"), "{sms}");
    }

    #[test]
    fn a_summary_lists_the_most_urgent_first_in_one_sms() {
        let body = held_summary(&[
            held("QFWJ", Priority::P2, "tom", HoldReason::QuietHours),
            held("K3JD", Priority::P1, "dana_rivers", HoldReason::QuietHours),
        ]);
        assert_eq!(
            body,
            "Held for you (quiet hours): 2 alerts. P1 K3JD @dana_rivers; P2 QFWJ @tom. Reply WHO <code> or ACK <code>."
        );
    }

    #[test]
    fn a_long_summary_counts_what_does_not_fit() {
        let many: Vec<_> = [
            "AAAA", "KKKK", "CCCC", "DDDD", "EEEE", "FFFF", "LLLL", "HHHH", "JJJJ",
        ]
        .iter()
        .map(|code| {
            held(
                code,
                Priority::P1,
                "a_rather_long_handle",
                HoldReason::PhoneCap,
            )
        })
        .collect();
        let body = held_summary(&many);
        assert!(body.chars().count() <= SMS_SEGMENT, "{body}");
        assert!(
            body.starts_with("Held for you (hourly SMS cap): 9 alerts. P1 AAAA"),
            "{body}"
        );
        assert!(body.contains(" more."), "{body}");
        assert!(body.ends_with("Reply WHO <code> or ACK <code>."), "{body}");
    }

    #[test]
    fn help_fits_one_sms() {
        assert!(HELP.len() <= 160);
    }

    /// Every template, filled with the longest values it can meet: each is
    /// GSM-7, fits one segment, and budgets its own room, so fitting never
    /// cuts off its end (the code or what to reply).
    #[test]
    fn every_template_fits_one_segment_with_the_longest_values() {
        // Bluesky handles may be domain names; Mastodon ones carry the server.
        let long_handle = "customer.relations.department.example-airline.bsky.social";
        let long_brand = "Northwind Regional Airways Holdings";
        let long_post = "Łukasz here — “still” stuck at gate B12 😡 with two kids, no water, no staff, Где мой багаж? ".repeat(6);
        let code = AlertCode::parse("K7QD").unwrap();
        let mut post = mention(long_handle, &long_post, Some(12_345_678));
        post.platform = Platform::Bluesky;
        post.id = MentionId::new(
            Platform::Bluesky,
            "at://did:plc:abcdefghijklmnopqrstuvwx/app.bsky.feed.post/3kabcdefghijk",
        );
        post.url = format!("https://bsky.app/profile/{long_handle}/post/3kabcdefghijk");
        post.brand = long_brand.into();
        let reasons = urgent(&["kids", "stuck", "no water", "repeat poster", "safety words"]);
        let burst = Incident {
            lead: post.id.clone(),
            posts: 1000,
            since: at(0),
            topic: vec!["gate".into(), "water".into(), "staff".into(), "kids".into()],
        };
        let held_alerts: Vec<HeldAlert> = (0..40)
            .map(|i| {
                let mut alert = held("K7QD", Priority::P1, long_handle, HoldReason::QuietHours);
                alert.reason = [
                    HoldReason::QuietHours,
                    HoldReason::PhoneCap,
                    HoldReason::DailyCap,
                ][i % 3];
                alert
            })
            .collect();
        let long_name = "Maria-Magdalena Wójcik-Szczepańska";
        let mut source = SourceState::new(SourceKey {
            brand: long_brand.into(),
            platform: Platform::Mastodon,
        });
        source.consecutive_failures = 1000;
        source.last_error = Some(format!(
            "HTTP 503 from the server: {}",
            "upstream timed out ".repeat(20)
        ));
        source.last_mention_at = Some(at(0));

        let texts: Vec<(&str, SmsText, String)> = vec![
            (
                "alert",
                alert(&post, &reasons, &code),
                format!("Reply ACK {code}"),
            ),
            (
                "incident",
                incident(&post, &burst, &code, at(59)),
                format!("Reply ACK {code}"),
            ),
            (
                "posted again",
                posted_again(&post, &code),
                "3kabcdefghijk".into(),
            ),
            (
                "reminder",
                reminder(&code, long_handle, at(0)),
                format!("Reply DONE {code} when sorted."),
            ),
            (
                "held summary",
                held_summary(&held_alerts),
                "Reply WHO <code> or ACK <code>.".into(),
            ),
            ("help", help(), "TAKE your tier's shift.".into()),
            (
                "unreadable",
                unreadable_reply(&"an unknown command ".repeat(12)),
                "Reply HELP for the commands.".into(),
            ),
            ("back on", alerts_back_on(), "this phone.".into()),
            ("none yet", no_alert_sent_yet(), "Reply ACK <code>.".into()),
            (
                "no such",
                no_such_alert(&code),
                "Reply HELP for commands.".into(),
            ),
            (
                "yours",
                yours(&code, Some(&post)),
                format!("Reply DONE {code} when sorted."),
            ),
            (
                "already yours",
                already_yours(&code),
                format!("Reply DONE {code} when sorted."),
            ),
            (
                "taken",
                already_taken(&code, long_name, at(0)),
                "UTC).".into(),
            ),
            ("closed", closed(&code, long_name), "ska.".into()),
            (
                "already closed",
                already_closed(&code, long_name),
                "ska.".into(),
            ),
            ("noise", noted_as_noise(&code), "help triage learn.".into()),
            ("who", owner_is(&code, long_name, at(0)), "UTC.".into()),
            (
                "nobody",
                nobody_yet(&code),
                format!("Reply ACK {code} to take it."),
            ),
            (
                "failing",
                source_alarm(&source, Alarm::Failing),
                "Mentions there may be missed.".into(),
            ),
            (
                "silent",
                source_alarm(&source, Alarm::Silent),
                "Check the source.".into(),
            ),
            (
                "recovered",
                source_recovered(&source.key),
                "is working again.".into(),
            ),
            (
                "lagging",
                source_alarm(&source, Alarm::Lagging),
                "reach you late.".into(),
            ),
            (
                "firehose lagging",
                firehose_lagging(i64::MAX),
                "until it catches up.".into(),
            ),
            (
                "firehose caught up",
                firehose_caught_up(),
                "has caught up.".into(),
            ),
            (
                "chain taken",
                chain_taken(&code, long_name),
                "No need to act on it.".into(),
            ),
            (
                "chain closed",
                chain_closed(&code, long_name, true),
                "as a false alarm.".into(),
            ),
            (
                "failing number",
                failing_number(
                    long_name,
                    1000,
                    &"Phone carrier has blocked this message ".repeat(8),
                ),
                ". Check the number: earshot roster list".into(),
            ),
            (
                "shift starts",
                shift_starts(
                    9,
                    "Mon 30 Mar 09:00 America/Argentina/ComodRivadavia",
                    &vec![format!("P1 {code} @{long_handle}"); 40],
                ),
                "Reply WHO <code>.".into(),
            ),
            (
                "passed to you",
                passed_to_you(&code, long_name, Some(&post)),
                "...'s.".into(),
            ),
            ("offered", offered(&code, long_name), format!("ACK {code}.")),
            (
                "taken over",
                taken_over(&code, long_name),
                "Nothing more to do.".into(),
            ),
            (
                "not yours",
                not_yours(&code, Some(long_name)),
                "pass or snooze it.".into(),
            ),
            (
                "nobody has it",
                not_yours(&code, None),
                "PASS or SNOOZE it.".into(),
            ),
            (
                "nobody called",
                nobody_called(long_name),
                "PASS <code> <name>.".into(),
            ),
            (
                "snoozed",
                snoozed(&code, at(0)),
                format!("DONE {code} when sorted."),
            ),
            (
                "shift taken",
                shift_taken(9, "Mon 30 Mar 09:00 America/Argentina/ComodRivadavia"),
                "ComodRivadavia.".into(),
            ),
            (
                "shift taken from you",
                shift_taken_from_you(
                    9,
                    long_name,
                    "Mon 30 Mar 09:00 America/Argentina/ComodRivadavia",
                ),
                "You will not be paged for it.".into(),
            ),
            ("no shift", no_shift_to_take(9), "no shift to take.".into()),
            (
                "already on shift",
                already_on_shift(9, "Mon 30 Mar 09:00 America/Argentina/ComodRivadavia"),
                "ComodRivadavia.".into(),
            ),
            (
                "nobody to pass to",
                nobody_to_pass_to(),
                "PASS <code> <name>.".into(),
            ),
            (
                "not allowed to reply",
                not_allowed_to_reply(),
                "--can-reply.".into(),
            ),
            (
                "reply gone",
                alert_no_longer_stored(&code),
                "nothing was posted.".into(),
            ),
            (
                "no such template",
                no_such_template(long_brand, 4_000_000_000, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
                "Nothing was posted.".into(),
            ),
            (
                "template cannot go",
                template_cannot_go(&code, 4_000_000_000, "the post was deleted"),
                "deleted.".into(),
            ),
            (
                "reply already posted",
                reply_already_posted(&code, 4_000_000_000, &post.url[8..]),
                "3kabcdefghijk".into(),
            ),
            (
                "reply in flight",
                reply_in_flight(&code, 4_000_000_000),
                "not posting it twice.".into(),
            ),
            (
                "reply posted",
                reply_posted(
                    &code,
                    4_000_000_000,
                    long_handle,
                    "x.com/i/status/1862000000000000001",
                    Some(1440),
                ),
                "Reminder in 1440 min unless DONE.".into(),
            ),
            (
                "reply failed",
                reply_failed(
                    &code,
                    4_000_000_000,
                    &"HTTP 503 upstream timed out ".repeat(10),
                    "Try again in a minute.",
                ),
                ". Try again in a minute.".into(),
            ),
        ];
        for (name, sms, ending) in texts {
            let septets = gsm_septets(&sms);
            assert!(septets.is_some(), "{name} is not GSM-7: {sms}");
            assert!(
                septets.unwrap() <= SMS_SEGMENT,
                "{name} is {septets:?} septets: {sms}"
            );
            assert!(!sms.was_cut(), "{name} was cut to fit: {sms}");
            assert!(sms.ends_with(&ending), "{name} lost its ending: {sms}");
        }
    }
}
