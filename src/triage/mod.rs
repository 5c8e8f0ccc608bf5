//! Triage staff can trust: a linear complaint model over hashed n-grams,
//! combined with explainable signals that decide urgency and say why.

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
use signals::SignalMatcher;

/// The model shipped with Earshot, trained only on `data/triage-corpus.csv`
/// (posts written for this project) by `earshot train`.
const SHIPPED_MODEL: &[u8] = include_bytes!("../../models/complaint.bin");

/// Model confidence a plain question needs to count as a complaint.
const QUESTION_COMPLAINT_THRESHOLD: f32 = 0.75;
/// Model probability from which a post with words of praise still counts
/// as a complaint.
const PRAISE_OVERRULED_FROM: f32 = 0.7;

/// The model plus signals, behind the domain's [`Triage`] interface.
#[derive(Debug, Clone)]
pub struct ModelTriage {
    model: LinearModel,
    settings: TriageSettings,
    signals: SignalMatcher,
}

impl ModelTriage {
    pub fn new(model: LinearModel, settings: TriageSettings) -> Self {
        Self {
            model,
            settings,
            signals: SignalMatcher::new(),
        }
    }

    /// The shipped model with default settings.
    pub fn shipped() -> Self {
        let model = LinearModel::read(SHIPPED_MODEL)
            .expect("the shipped model is checked by the test suite");
        Self::new(model, TriageSettings::default())
    }

    pub fn model(&self) -> &LinearModel {
        &self.model
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
        let intent = if complaint {
            Intent::Complaint
        } else if found.praise {
            Intent::Praise
        } else if found.question {
            Intent::Question
        } else {
            Intent::Other
        };

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

        let mut urgency = 0.0f32;
        if complaint {
            urgency = 0.25 + 0.15 * probability;
            if !found.pressure.is_empty() || urgent_term.is_some() {
                urgency += 0.3;
            }
            if !found.vulnerable.is_empty() {
                urgency += 0.3;
            }
            if repeated {
                urgency += 0.15;
            }
            if has_reach {
                urgency += 0.1;
            }
            // Asked in public, they are waiting for the brand's answer.
            if addressed {
                urgency += 0.1;
            }
            if vip {
                urgency += 0.3;
            }
        }
        let urgency = urgency.min(1.0);
        // Paging needs more than a high score: someone stuck, at risk or about
        // to lose something now (or a VIP), never praise or a question.
        let acute = !found.pressure.is_empty()
            || !found.vulnerable.is_empty()
            || urgent_term.is_some()
            || vip;

        let priority = if complaint && acute && !plain_question && urgency >= settings.p1_threshold
        {
            Priority::P1
        } else if complaint {
            Priority::P2
        } else {
            Priority::P3
        };

        let mut reasons: Vec<String> = Vec::new();
        if complaint {
            reasons.extend(
                found
                    .vulnerable
                    .reasons(signals::VULNERABLE)
                    .map(str::to_owned),
            );
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
    fn praise_is_never_paged() {
        let verdict = assess("Thank you @skyways, the crew were amazing with my kids tonight");
        assert_eq!(verdict.intent, Intent::Praise);
        assert_eq!(verdict.priority, Priority::P3);
        assert!(verdict.sentiment > 0.0);
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

        // A watch that pages only for the most urgent raises the bar.
        let strict = TriageContext {
            settings: Some(TriageSettings {
                p1_threshold: 0.9,
                ..TriageSettings::default()
            }),
            ..TriageContext::default()
        };
        let urgent = "@skyways stuck at gate 12 for an hour, nobody answers, this is a disgrace";
        assert_eq!(
            triage()
                .assess_text(urgent, None, &TriageContext::default())
                .priority,
            Priority::P1
        );
        assert_eq!(
            triage().assess_text(urgent, None, &strict).priority,
            Priority::P2
        );
    }

    #[test]
    fn ordinals_read_naturally() {
        assert_eq!(ordinal(2), "2nd");
        assert_eq!(ordinal(3), "3rd");
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(21), "21st");
    }
}
