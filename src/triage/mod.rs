//! Triage staff can trust: a linear complaint model over hashed n-grams,
//! a second linear model that judges urgency from the words and the harm
//! signals, and explainable signals that say why.

pub mod measure;
pub mod model;
mod noise;
pub mod signals;

pub use crate::domain::triage::TriageSettings;
use crate::domain::triage::{
    Assessment, Intent, MAX_REASONS, Priority, Triage, TriageContext, followers_reason,
    opens_with_a_handle,
};
use crate::domain::{Mention, Voice};
pub use model::{LinearModel, ModelError, TrainingOptions};
use signals::{Found, SignalMatcher};

/// The complaint model shipped with Earshot, trained only on
/// `data/triage-corpus.csv` (posts written for this project) by `earshot train`.
const SHIPPED_MODEL: &[u8] = include_bytes!("../../models/complaint.bin");
/// The urgency model shipped with Earshot, trained only on
/// `data/urgency-corpus.csv` by `earshot train --urgency`.
const SHIPPED_URGENCY_MODEL: &[u8] = include_bytes!("../../models/urgency.bin");

/// Model confidence a plain question needs to count as a complaint.
const QUESTION_COMPLAINT_THRESHOLD: f32 = 0.75;
/// Model probability from which a post with words of praise still counts
/// as a complaint.
const PRAISE_OVERRULED_FROM: f32 = 0.7;
/// What context adds to the urgency the text alone gives: the author posting
/// again, a phrase the watch calls urgent, reach, speaking to the brand.
const REPEATED_BOOST: f32 = 0.15;
const URGENT_TERM_BOOST: f32 = 0.3;
const REACH_BOOST: f32 = 0.05;
const ADDRESSED_BOOST: f32 = 0.05;

/// The models plus signals, behind the domain's [`Triage`] interface.
#[derive(Debug, Clone)]
pub struct ModelTriage {
    model: LinearModel,
    urgency: LinearModel,
    settings: TriageSettings,
    signals: SignalMatcher,
}

/// The signal buckets the urgency model reads beside the words of a post:
/// each harm and time pressure named, whether it reads as a question,
/// praise or a named failure.
fn urgency_signals(found: &Found) -> impl Iterator<Item = usize> + '_ {
    let harm = found.harm.reasons(signals::HARM);
    let pressure = found.pressure.reasons(signals::TIME_PRESSURE);
    let flags = [
        (found.question, "question"),
        (found.praise, "praise"),
        (found.sarcasm, "sarcasm"),
        (!found.complaint.is_empty(), "named failure"),
        (found.harm.count() >= 2, "several harms"),
    ];
    harm.chain(pressure)
        .chain(
            flags
                .into_iter()
                .filter(|(on, _)| *on)
                .map(|(_, name)| name),
        )
        .map(model::signal_bucket)
}

impl ModelTriage {
    /// A complaint model with the shipped urgency model.
    pub fn new(model: LinearModel, settings: TriageSettings) -> Self {
        let urgency = LinearModel::read(SHIPPED_URGENCY_MODEL)
            .expect("the shipped urgency model is checked by the test suite");
        Self {
            model,
            urgency,
            settings,
            signals: SignalMatcher::new(),
        }
    }

    /// The same triage judging urgency with another model (one trained by
    /// `earshot train --urgency`).
    pub fn with_urgency_model(mut self, urgency: LinearModel) -> Self {
        self.urgency = urgency;
        self
    }

    /// The shipped models with default settings.
    pub fn shipped() -> Self {
        let model = LinearModel::read(SHIPPED_MODEL)
            .expect("the shipped model is checked by the test suite");
        Self::new(model, TriageSettings::default())
    }

    /// Trains an urgency model on `(text, is_urgent)` examples, reading the
    /// same signals triage reads.
    pub fn train_urgency(examples: &[(String, bool)], options: TrainingOptions) -> LinearModel {
        let signals = SignalMatcher::new();
        LinearModel::train_with_signals(examples, options, |lowered| {
            urgency_signals(&signals.find(lowered)).collect()
        })
    }

    pub fn model(&self) -> &LinearModel {
        &self.model
    }

    pub fn urgency_model(&self) -> &LinearModel {
        &self.urgency
    }

    pub fn settings(&self) -> &TriageSettings {
        &self.settings
    }

    /// Triage of bare text, for batch use.
    pub fn assess_text(
        &self,
        text: &str,
        followers: Option<u64>,
        context: &TriageContext,
    ) -> Assessment {
        let lowered = text.to_lowercase();
        let found = self.signals.find(&lowered);
        // The watch's own settings, where it has them.
        let settings = context.settings.as_ref().unwrap_or(&self.settings);
        let probability = self.model.probability_of_lowered(&lowered);

        let urgent_term = settings
            .urgent_terms
            .iter()
            .find(|term| !term.is_empty() && lowered.contains(&term.to_lowercase()));
        // The model decides, but a named failure ("never arrived", "charged
        // twice") or sarcasm is a complaint whatever it says, and praise
        // outweighs a hesitant model ("thanks, lovely crew"), not a sure one
        // ("thanks for the reply but the app still crashes").
        // A question naming no failure or time pressure ("can I bring a
        // pushchair for my baby?") needs a confident model to count as a
        // complaint, and is never paged.
        let plain_question =
            found.question && found.complaint.is_empty() && found.pressure.is_empty();
        let model_threshold = if plain_question {
            settings
                .complaint_threshold
                .max(QUESTION_COMPLAINT_THRESHOLD)
        } else {
            settings.complaint_threshold
        };
        let complaint =
            (probability >= model_threshold || found.sarcasm || !found.complaint.is_empty())
                && (!found.praise || probability >= PRAISE_OVERRULED_FROM);

        let has_reach = followers.is_some_and(|n| n >= settings.reach_threshold);
        let vip = context.author_handle.as_deref().is_some_and(|h| {
            settings
                .vip_authors
                .iter()
                .any(|v| v.trim_start_matches('@').eq_ignore_ascii_case(h))
        });
        let repeated = context.recent_posts >= 2;
        let addressed = context
            .addressed
            .unwrap_or_else(|| opens_with_a_handle(text));

        // Urgency is its own judgement: harm and pressure in the words,
        // weighed by the urgency model, then what the context adds.
        let mut urgency = self
            .urgency
            .probability_with_signals(&lowered, urgency_signals(&found));
        let boosts = [
            (repeated, REPEATED_BOOST),
            (urgent_term.is_some(), URGENT_TERM_BOOST),
            (has_reach, REACH_BOOST),
            (addressed, ADDRESSED_BOOST),
        ];
        // Context makes a complaint more pressing, not a remark.
        for (applies, boost) in boosts {
            if applies && complaint {
                urgency += boost;
            }
        }
        let urgency = urgency.min(1.0);
        // Praise, thanks for harm put right and plain questions are never
        // paged; a VIP's complaint always is.
        let enquiry = found.asks_first && found.complaint.is_empty() && found.pressure.is_empty();
        let thanks = found.gratitude && found.complaint.is_empty();
        let pageable = !found.praise && !plain_question && !enquiry && !thanks;
        let page = pageable
            && (urgency >= settings.p1_threshold || (complaint && (vip || urgent_term.is_some())));
        // Whatever must be paged is a complaint, said in words or not
        // ("the desk says our resort is oversold").
        let complaint = complaint || page;
        let intent = if complaint {
            Intent::Complaint
        } else if found.praise {
            Intent::Praise
        } else if found.question {
            Intent::Question
        } else {
            Intent::Other
        };
        let priority = if page {
            Priority::P1
        } else if complaint {
            Priority::P2
        } else {
            Priority::P3
        };

        let mut reasons: Vec<String> = Vec::new();
        if complaint {
            reasons.extend(harm_reasons(&found).map(str::to_owned));
            reasons.extend(
                found
                    .pressure
                    .reasons(signals::TIME_PRESSURE)
                    .map(str::to_owned),
            );
            if let Some(term) = urgent_term {
                reasons.push(term.to_lowercase());
            }
            if repeated {
                reasons.push(format!(
                    "{} post in {} min",
                    ordinal(context.recent_posts + 1),
                    context.window_minutes
                ));
            }
            if vip {
                reasons.push("VIP".to_owned());
            }
            if has_reach {
                reasons.push(followers_reason(followers.unwrap_or_default()));
            }
            reasons.extend(
                found
                    .complaint
                    .reasons(signals::COMPLAINT)
                    .map(str::to_owned),
            );
            if found.sarcasm && reasons.is_empty() {
                reasons.push("sarcasm".to_owned());
            }
            // Staff answer a post about the brand differently from one to it.
            if !addressed {
                reasons.push("about us".to_owned());
            }
        } else if found.praise {
            reasons.push("praise".to_owned());
        }
        reasons.dedup();
        reasons.truncate(MAX_REASONS);

        let sentiment = if found.praise {
            0.6
        } else {
            (0.5 - probability) * 2.0 * if complaint { 1.0 } else { 0.5 }
        };

        Assessment {
            complaint,
            intent,
            sentiment: sentiment.clamp(-1.0, 1.0),
            urgency,
            priority,
            reasons,
        }
    }
}

/// The harms named, a child and "alone" read together as `child alone`.
fn harm_reasons(found: &Found) -> impl Iterator<Item = &'static str> {
    let said = |reason| found.harm.has(signals::HARM, reason);
    let named = said("child alone");
    let child_alone = named || (said("alone") && said("kids"));
    found
        .harm
        .reasons(signals::HARM)
        .filter_map(move |reason| match reason {
            "alone" if child_alone && !named => Some("child alone"),
            "alone" | "kids" if child_alone => None,
            other => Some(other),
        })
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

impl Triage for ModelTriage {
    fn assess(&self, mention: &Mention, context: &TriageContext) -> Assessment {
        debug_assert_eq!(mention.voice, Voice::Customer);
        self.assess_text(&mention.text, mention.author.followers, context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triage() -> ModelTriage {
        ModelTriage::shipped()
    }

    fn assess(text: &str) -> Assessment {
        triage().assess_text(text, Some(300), &TriageContext::default())
    }

    #[test]
    fn a_family_stuck_on_the_tarmac_pages_now() {
        let verdict = assess(
            "@skyways we have been stuck on the tarmac for an hour with two kids and no water",
        );
        assert!(verdict.complaint);
        assert_eq!(verdict.priority, Priority::P1);
        assert_eq!(verdict.reasons, vec!["kids", "stuck", "waiting hours"]);
    }

    #[test]
    fn an_urgent_post_without_urgent_words_pages_and_names_the_harm() {
        let verdict = assess(
            "the desk at the airport says our resort is oversold, we have two kids and nowhere to go tonight",
        );
        assert_eq!(verdict.priority, Priority::P1, "{verdict:?}");
        assert!(verdict.complaint, "whatever pages is a complaint");
        assert_eq!(verdict.reasons, vec!["kids", "stranded abroad", "at night"]);
        let verdict = assess("@skyways my daughter is on her own at gate 12 and her phone is dead");
        assert_eq!(verdict.priority, Priority::P1, "{verdict:?}");
        assert_eq!(verdict.reasons[0], "child alone");
    }

    #[test]
    fn dramatic_words_and_mild_complaints_do_not_page() {
        for text in [
            "dying in this queue at the post office lol",
            "this album is fire",
            "@fibrenet the new router is a bit slow in the evenings",
        ] {
            let verdict = assess(text);
            assert_ne!(verdict.priority, Priority::P1, "{text}: {verdict:?}");
            assert!(verdict.urgency < 0.5, "{text}: {verdict:?}");
        }
    }

    #[test]
    fn praise_is_never_paged() {
        let verdict = assess("Thank you @skyways, the crew were amazing with my kids tonight");
        assert_eq!(verdict.intent, Intent::Praise);
        assert_eq!(verdict.priority, Priority::P3);
        assert!(verdict.sentiment > 0.0);
    }

    #[test]
    fn approval_of_staff_in_an_emergency_is_not_paged() {
        for text in [
            "Stationlink staff found my lost little boy on platform 3 within minutes and kept him calm. Outstanding",
            "A passenger collapsed at gate 9 and the Skyways crew had a defibrillator on him in seconds. Hats off",
        ] {
            let verdict = assess(text);
            assert_ne!(verdict.priority, Priority::P1, "{text}: {verdict:?}");
        }
    }

    #[test]
    fn words_of_praise_outweigh_a_hesitant_model_but_not_a_sure_one() {
        let examples: Vec<(String, bool)> = [
            ("my parcel is sat at the depot", true),
            ("parcel sat at the depot for a week", true),
            ("the crew were lovely", false),
            ("lovely flight today", false),
        ]
        .iter()
        .cycle()
        .take(40)
        .map(|(text, label)| (text.to_string(), *label))
        .collect();
        let model = LinearModel::train(&examples, TrainingOptions::default());
        let triage = ModelTriage::new(model, TriageSettings::default());
        let assess = |text| triage.assess_text(text, None, &TriageContext::default());

        let sure = assess("thanks, but my parcel is sat at the depot");
        assert!(sure.complaint, "{sure:?}");
        let hesitant = assess("thanks, the parcel came");
        assert_eq!(hesitant.intent, Intent::Praise, "{hesitant:?}");
    }

    #[test]
    fn questions_are_never_paged() {
        let verdict = assess("@skyways can I bring a pushchair for my baby on board?");
        assert_ne!(verdict.priority, Priority::P1);
        assert_eq!(verdict.intent, Intent::Question);
    }

    #[test]
    fn sarcasm_is_a_complaint() {
        let verdict = assess("Great job @metrorail, three hours late again. Love it");
        assert!(verdict.complaint, "{verdict:?}");
    }

    #[test]
    fn a_broken_promise_and_a_repeat_are_named() {
        let verdict = assess("@fibrenet you said an engineer would come Monday. third time");
        assert!(verdict.complaint, "{verdict:?}");
        assert_eq!(verdict.reasons, vec!["broken promise", "again"]);
    }

    #[test]
    fn one_named_failure_is_a_complaint() {
        let verdict = assess("@parcelpoint my parcel never arrived");
        assert!(verdict.complaint, "{verdict:?}");
        assert_eq!(verdict.reasons, vec!["lost"]);
        let verdict = assess("@parcelpoint do you deliver on sundays?");
        assert!(!verdict.complaint, "{verdict:?}");
    }

    #[test]
    fn a_plain_complaint_waits_for_today() {
        let verdict = assess("@skyways still no refund for my cancelled booking in March");
        assert!(verdict.complaint);
        assert_eq!(verdict.priority, Priority::P2);
    }

    #[test]
    fn a_complaint_about_the_brand_says_so_and_waits_a_little_longer() {
        let to_us = assess("@fibrenet no internet since Friday");
        let about_us = assess("no internet since Friday, thanks fibrenet");
        assert!(to_us.complaint && about_us.complaint, "{about_us:?}");
        assert!(!to_us.reasons.contains(&"about us".to_owned()), "{to_us:?}");
        assert_eq!(
            about_us.reasons.last().map(String::as_str),
            Some("about us")
        );
        assert!(about_us.urgency < to_us.urgency);

        // A reply in a thread is spoken to the brand whatever its words.
        let reply = triage().assess_text(
            "no internet since Friday, thanks fibrenet",
            None,
            &TriageContext {
                addressed: Some(true),
                ..TriageContext::default()
            },
        );
        assert!(!reply.reasons.contains(&"about us".to_owned()), "{reply:?}");
    }

    #[test]
    fn repeated_posts_and_reach_are_reasons() {
        let context = TriageContext {
            recent_posts: 2,
            window_minutes: 40,
            author_handle: Some("dana".into()),
            ..TriageContext::default()
        };
        let verdict = triage().assess_text(
            "@skyways stuck at gate 12 for an hour, nobody answers",
            Some(45_000),
            &context,
        );
        assert_eq!(verdict.priority, Priority::P1);
        assert_eq!(
            verdict.reasons,
            vec!["stuck", "waiting hours", "3rd post in 40 min"]
        );
    }

    #[test]
    fn watch_settings_add_urgent_terms_and_vips() {
        let settings = TriageSettings {
            urgent_terms: vec!["gate closed".into()],
            vip_authors: vec!["@MayorOfLeeds".into()],
            ..TriageSettings::default()
        };
        let triage = ModelTriage::new(triage().model, settings);
        let verdict = triage.assess_text(
            "@skyways the gate closed on us, refund please",
            None,
            &TriageContext::default(),
        );
        assert_eq!(verdict.priority, Priority::P1, "{verdict:?}");
        assert!(verdict.reasons.contains(&"gate closed".to_owned()));
        let vip = TriageContext {
            author_handle: Some("mayorofleeds".into()),
            ..TriageContext::default()
        };
        let verdict = triage.assess_text(
            "@skyways my bag never arrived and nobody answers",
            None,
            &vip,
        );
        assert_eq!(verdict.priority, Priority::P1, "{verdict:?}");
    }

    #[test]
    fn a_watchs_settings_in_the_context_override_the_defaults() {
        let text = "@skyways my bag never arrived and nobody answers";
        let plain = triage().assess_text(text, Some(2_000), &TriageContext::default());
        assert_ne!(plain.priority, Priority::P1, "{plain:?}");
        let context = TriageContext {
            author_handle: Some("dana".into()),
            settings: Some(TriageSettings {
                vip_authors: vec!["dana".into()],
                reach_threshold: 1_000,
                ..TriageSettings::default()
            }),
            ..TriageContext::default()
        };
        let tuned = triage().assess_text(text, Some(2_000), &context);
        assert_eq!(tuned.priority, Priority::P1, "{tuned:?}");
        assert!(tuned.reasons.contains(&"VIP".to_owned()), "{tuned:?}");
        assert!(
            tuned.reasons.contains(&"2k followers".to_owned()),
            "{tuned:?}"
        );

        // Each watch's sensitivity moves the operating point: a stricter one
        // lets a post wait that the default pages, a more sensitive one pages
        // what the default lets wait.
        let with_threshold = |p1_threshold| TriageContext {
            settings: Some(TriageSettings {
                p1_threshold,
                ..TriageSettings::default()
            }),
            ..TriageContext::default()
        };
        let post = "@skyways stuck at gate 12 for an hour, nobody answers, this is a disgrace";
        let urgency = triage()
            .assess_text(post, None, &TriageContext::default())
            .urgency;
        assert!(urgency > 0.1 && urgency < 0.9, "{urgency}");
        let strict = triage().assess_text(post, None, &with_threshold(urgency + 0.05));
        assert_eq!(strict.priority, Priority::P2, "{strict:?}");
        let sensitive = triage().assess_text(post, None, &with_threshold(urgency - 0.05));
        assert_eq!(sensitive.priority, Priority::P1, "{sensitive:?}");
    }

    #[test]
    fn ordinals_read_naturally() {
        assert_eq!(ordinal(2), "2nd");
        assert_eq!(ordinal(3), "3rd");
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(21), "21st");
    }
}
