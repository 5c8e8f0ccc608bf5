//! How well triage pages: of the urgent posts, how many become P1; of the
//! complaints that can wait and of the posts that are no complaint at all,
//! how many page someone anyway; and how well the urgency score ranks
//! urgent complaints above the ones that can wait.

use crate::domain::triage::{Assessment, Priority};

/// What a labelled post is, for measuring urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    Urgent,
    /// A complaint that can wait: a page for it is a false alarm.
    Mild,
    /// Not a complaint (praise, questions, remarks): never to be paged.
    NotComplaint,
}

/// The verdicts on labelled posts, kept to compute the figures.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct UrgencyScores {
    urgent: Vec<(f32, bool)>,
    mild: Vec<(f32, bool)>,
    not_complaint: Vec<(f32, bool)>,
}

/// Paged posts over all posts, 0 when there are none.
fn share_paged(verdicts: &[(f32, bool)]) -> f64 {
    if verdicts.is_empty() {
        return 0.0;
    }
    verdicts.iter().filter(|(_, paged)| *paged).count() as f64 / verdicts.len() as f64
}

impl UrgencyScores {
    pub fn add(&mut self, verdict: &Assessment, truth: Truth) {
        self.add_score(verdict.urgency, verdict.priority == Priority::P1, truth);
    }

    pub fn add_score(&mut self, urgency: f32, paged: bool, truth: Truth) {
        let list = match truth {
            Truth::Urgent => &mut self.urgent,
            Truth::Mild => &mut self.mild,
            Truth::NotComplaint => &mut self.not_complaint,
        };
        list.push((urgency, paged));
    }

    pub fn merge(&mut self, other: &UrgencyScores) {
        self.urgent.extend(&other.urgent);
        self.mild.extend(&other.mild);
        self.not_complaint.extend(&other.not_complaint);
    }

    /// (urgent, mild complaints, not complaints) counted.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.urgent.len(), self.mild.len(), self.not_complaint.len())
    }

    /// Share of urgent posts that became P1.
    pub fn p1_recall(&self) -> f64 {
        share_paged(&self.urgent)
    }

    /// Share of complaints that could wait that paged someone.
    pub fn mild_paged(&self) -> f64 {
        share_paged(&self.mild)
    }

    /// Share of posts that are no complaint that paged someone.
    pub fn not_complaint_paged(&self) -> f64 {
        share_paged(&self.not_complaint)
    }

    /// The chance that an urgent post scores above a mild complaint (ties
    /// count half): ROC AUC of the urgency score, urgent against mild.
    /// `None` without posts of both kinds.
    pub fn auc_urgent_vs_mild(&self) -> Option<f64> {
        auc(
            self.urgent.iter().map(|(score, _)| *score),
            self.mild.iter().map(|(score, _)| *score),
        )
    }
}

/// Mann-Whitney form of the ROC AUC: positives against negatives by rank.
fn auc(positives: impl Iterator<Item = f32>, negatives: impl Iterator<Item = f32>) -> Option<f64> {
    let mut all: Vec<(f32, bool)> = positives.map(|s| (s, true)).collect();
    let positive_count = all.len();
    all.extend(negatives.map(|s| (s, false)));
    let negative_count = all.len() - positive_count;
    if positive_count == 0 || negative_count == 0 {
        return None;
    }
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Ranks from 1, ties sharing their mean rank.
    let mut positive_rank_sum = 0.0f64;
    let mut start = 0;
    while start < all.len() {
        let mut end = start;
        while end < all.len() && all[end].0 == all[start].0 {
            end += 1;
        }
        let mean_rank = (start + 1 + end) as f64 / 2.0;
        let positives_here = all[start..end].iter().filter(|(_, p)| *p).count();
        positive_rank_sum += mean_rank * positives_here as f64;
        start = end;
    }
    let positives = positive_count as f64;
    Some(
        (positive_rank_sum - positives * (positives + 1.0) / 2.0)
            / (positives * negative_count as f64),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_is_one_for_a_perfect_ranking_a_half_for_ties_and_none_without_both() {
        assert_eq!(
            auc([0.9, 0.8].into_iter(), [0.1, 0.2].into_iter()),
            Some(1.0)
        );
        assert_eq!(auc([0.1].into_iter(), [0.9].into_iter()), Some(0.0));
        assert_eq!(auc([0.5].into_iter(), [0.5].into_iter()), Some(0.5));
        // One of the two urgent posts outranks the one mild post.
        assert_eq!(auc([0.9, 0.1].into_iter(), [0.5].into_iter()), Some(0.5));
        assert_eq!(auc([0.9].into_iter(), std::iter::empty()), None);
    }

    #[test]
    fn shares_paged_follow_their_definitions() {
        let mut scores = UrgencyScores::default();
        scores.add_score(0.9, true, Truth::Urgent);
        scores.add_score(0.7, true, Truth::Urgent);
        scores.add_score(0.2, false, Truth::Urgent);
        scores.add_score(0.8, true, Truth::Mild);
        scores.add_score(0.1, false, Truth::Mild);
        scores.add_score(0.1, false, Truth::NotComplaint);
        assert!((scores.p1_recall() - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(scores.mild_paged(), 0.5);
        assert_eq!(scores.not_complaint_paged(), 0.0);
        assert_eq!(scores.counts(), (3, 2, 1));

        assert_eq!(UrgencyScores::default().p1_recall(), 0.0);
    }
}
