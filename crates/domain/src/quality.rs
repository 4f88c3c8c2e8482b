//! Quality reviews: scorecards, how a review scores, calibration, the weekly sample and
//! the automatic checks that need no AI. Pure: documents in, figures out.
//!
//! A scorecard is a versioned JSON document a supervisor publishes (per email type —
//! queue × tag — or one for calls): sections of categories, each with a scale
//! (binary, 3-, 4- or 5-point), a weight, whether it may be N/A and whether it is
//! critical. A review scores every category of one conversation (or N/A), names a root
//! cause for each negative one, and may be part of a calibration session (several
//! reviewers, the same conversations, compared and not counted in the quality score).
//!
//! Score: each category's value as a share of its scale (binary 0/1; n-point (v−1)/(n−1)),
//! weighted, N/A left out, in percent. A critical category below 50 % makes the review 0.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Documents larger than this are refused (a scorecard is a few KB).
pub const QUALITY_DOC_MAX_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QualityError {
    #[error("not a valid document: {0}")]
    Malformed(String),
    #[error("{bytes} bytes: too large (limit {max})")]
    TooLarge { bytes: usize, max: usize },
    #[error("the scorecard has no categories")]
    Empty,
    #[error("category id {0:?} appears twice")]
    DuplicateCategory(String),
    #[error("category {0:?} has weight 0")]
    ZeroWeight(String),
    #[error("category {category:?}: {value} is not on its {scale} scale")]
    OffScale { category: String, value: u8, scale: &'static str },
    #[error("category {0:?} is not scored (give a value, or N/A where the scorecard allows it)")]
    NotScored(String),
    #[error("category {0:?} may not be N/A")]
    NotApplicableRefused(String),
    #[error("no category {0:?} on this scorecard")]
    UnknownCategory(String),
    #[error("root cause {cause:?} for {category:?} is not one of the scorecard's")]
    UnknownRootCause { category: String, cause: String },
    #[error("the review is for scorecard {review:?} version {review_version}, not {card:?} version {card_version}")]
    WrongScorecard { review: String, review_version: u32, card: String, card_version: u32 },
}

/// What a scorecard reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Call,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// 0 (no) or 1 (yes).
    Binary,
    /// 1–3.
    Three,
    /// 1–4.
    Four,
    /// 1–5.
    Five,
}

impl Scale {
    fn range(self) -> (u8, u8) {
        match self {
            Scale::Binary => (0, 1),
            Scale::Three => (1, 3),
            Scale::Four => (1, 4),
            Scale::Five => (1, 5),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Scale::Binary => "yes/no",
            Scale::Three => "3-point",
            Scale::Four => "4-point",
            Scale::Five => "5-point",
        }
    }

    /// `value` as a share of the scale, 0.0–1.0; `None` when off the scale.
    pub fn share(self, value: u8) -> Option<f64> {
        let (lo, hi) = self.range();
        (lo..=hi).contains(&value).then(|| f64::from(value - lo) / f64::from(hi - lo))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Category {
    pub id: String,
    pub label: String,
    pub scale: Scale,
    #[serde(default = "one")]
    pub weight: u32,
    #[serde(default)]
    pub critical: bool,
    /// Whether "not applicable" is an allowed answer.
    #[serde(default = "yes")]
    pub allow_na: bool,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Section {
    pub name: String,
    pub categories: Vec<Category>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Scorecard {
    pub name: String,
    pub version: u32,
    pub channel: Channel,
    /// The email type it reviews: a queue, and optionally a tag; none for every queue.
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
    pub sections: Vec<Section>,
    /// What a reviewer may name as the cause of a negative category.
    #[serde(default)]
    pub root_causes: Vec<String>,
}

impl Scorecard {
    pub fn parse(json: &[u8]) -> Result<Scorecard, QualityError> {
        if json.len() > QUALITY_DOC_MAX_BYTES {
            return Err(QualityError::TooLarge { bytes: json.len(), max: QUALITY_DOC_MAX_BYTES });
        }
        let card: Scorecard = serde_json::from_slice(json).map_err(|e| QualityError::Malformed(e.to_string()))?;
        let mut seen = std::collections::HashSet::new();
        for c in card.categories() {
            if !seen.insert(c.id.as_str()) {
                return Err(QualityError::DuplicateCategory(c.id.clone()));
            }
            if c.weight == 0 {
                return Err(QualityError::ZeroWeight(c.id.clone()));
            }
        }
        if seen.is_empty() {
            return Err(QualityError::Empty);
        }
        Ok(card)
    }

    pub fn categories(&self) -> impl Iterator<Item = &Category> {
        self.sections.iter().flat_map(|s| s.categories.iter())
    }

    /// Whether this scorecard reviews an email of `queue` carrying `tags` (or a call).
    pub fn applies_to(&self, channel: Channel, queue: &str, tags: &[String]) -> bool {
        self.channel == channel
            && self.queue.as_deref().is_none_or(|q| q == queue)
            && self.tag.as_deref().is_none_or(|t| tags.iter().any(|x| x.eq_ignore_ascii_case(t)))
    }
}

/// One reviewer's scoring of one conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Review {
    pub scorecard: String,
    pub scorecard_version: u32,
    /// The conversation's key (its customer, or its token).
    pub conversation: String,
    /// Whose work is reviewed.
    pub advisor: String,
    pub reviewer: String,
    /// Category id → value; `null` for N/A.
    pub scores: BTreeMap<String, Option<u8>>,
    /// Category id → root cause, for negative categories.
    #[serde(default)]
    pub root_causes: BTreeMap<String, String>,
    #[serde(default)]
    pub comment: String,
    /// Part of a calibration session: compared, not counted.
    #[serde(default)]
    pub calibration: bool,
}

impl Review {
    pub fn parse(json: &[u8]) -> Result<Review, QualityError> {
        if json.len() > QUALITY_DOC_MAX_BYTES {
            return Err(QualityError::TooLarge { bytes: json.len(), max: QUALITY_DOC_MAX_BYTES });
        }
        serde_json::from_slice(json).map_err(|e| QualityError::Malformed(e.to_string()))
    }
}

/// How a review scores on its scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ReviewScore {
    /// 0–100; `None` when every category was N/A.
    pub score_pct: Option<f64>,
    /// The critical categories below 50 % (the review scores 0 when any).
    pub critical_failed: Vec<String>,
    /// Category id → its share in percent (N/A left out).
    pub categories: BTreeMap<String, f64>,
}

/// A category counts as negative below this share: it needs a root cause, and a
/// critical one fails the review.
pub const NEGATIVE_BELOW: f64 = 0.5;

/// Check `review` against `card` and score it.
pub fn score(card: &Scorecard, review: &Review) -> Result<ReviewScore, QualityError> {
    if review.scorecard != card.name || review.scorecard_version != card.version {
        return Err(QualityError::WrongScorecard {
            review: review.scorecard.clone(),
            review_version: review.scorecard_version,
            card: card.name.clone(),
            card_version: card.version,
        });
    }
    if let Some(unknown) = review.scores.keys().find(|id| !card.categories().any(|c| &c.id == *id)) {
        return Err(QualityError::UnknownCategory(unknown.clone()));
    }
    let (mut weighted, mut weights) = (0.0, 0.0);
    let mut categories = BTreeMap::new();
    let mut critical_failed = Vec::new();
    for c in card.categories() {
        let value = match review.scores.get(&c.id) {
            None => return Err(QualityError::NotScored(c.id.clone())),
            Some(None) if !c.allow_na => return Err(QualityError::NotApplicableRefused(c.id.clone())),
            Some(None) => continue,
            Some(Some(v)) => *v,
        };
        let share = c.scale.share(value).ok_or(QualityError::OffScale { category: c.id.clone(), value, scale: c.scale.name() })?;
        if let Some(cause) = review.root_causes.get(&c.id) {
            if !card.root_causes.iter().any(|r| r == cause) {
                return Err(QualityError::UnknownRootCause { category: c.id.clone(), cause: cause.clone() });
            }
        }
        if c.critical && share < NEGATIVE_BELOW {
            critical_failed.push(c.id.clone());
        }
        weighted += share * f64::from(c.weight);
        weights += f64::from(c.weight);
        categories.insert(c.id.clone(), share * 100.0);
    }
    let score_pct = (weights > 0.0).then(|| if critical_failed.is_empty() { 100.0 * weighted / weights } else { 0.0 });
    Ok(ReviewScore { score_pct, critical_failed, categories })
}

/// An advisor's quality score: the mean of their scored reviews, calibration left out.
pub fn quality_score(reviews: &[(&Review, &ReviewScore)]) -> Option<f64> {
    let counted: Vec<f64> = reviews.iter().filter(|(r, _)| !r.calibration).filter_map(|(_, s)| s.score_pct).collect();
    (!counted.is_empty()).then(|| counted.iter().sum::<f64>() / counted.len() as f64)
}

/// A calibration session's comparison of several reviewers on one conversation: how far
/// apart their scores are, overall and per category (max − min, percentage points).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Calibration {
    pub reviewers: Vec<String>,
    pub score_spread: f64,
    pub category_spread: BTreeMap<String, f64>,
}

pub fn calibrate(reviews: &[(&Review, &ReviewScore)]) -> Calibration {
    let spread = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max) - v.iter().copied().fold(f64::INFINITY, f64::min);
    let scores: Vec<f64> = reviews.iter().filter_map(|(_, s)| s.score_pct).collect();
    let mut by_category: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (_, s) in reviews {
        for (id, v) in &s.categories {
            by_category.entry(id.clone()).or_default().push(*v);
        }
    }
    Calibration {
        reviewers: reviews.iter().map(|(r, _)| r.reviewer.clone()).collect(),
        score_spread: if scores.len() > 1 { spread(&scores) } else { 0.0 },
        category_spread: by_category.into_iter().map(|(id, v)| (id, if v.len() > 1 { spread(&v) } else { 0.0 })).collect(),
    }
}

/// The week's random sample: up to `per_advisor` conversations of each advisor, the
/// same for every reviewer who asks with the same `seed` (e.g. the ISO week), different
/// each week. `conversations`: (advisor, conversation key).
pub fn weekly_sample(conversations: &[(String, String)], per_advisor: usize, seed: &str) -> Vec<(String, String)> {
    // FNV-1a of seed and key: a stable shuffle without a random source.
    let rank = |key: &str| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in seed.bytes().chain([0]).chain(key.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h
    };
    let mut by_advisor: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, k) in conversations {
        by_advisor.entry(a).or_default().push(k);
    }
    let mut out = Vec::new();
    for (advisor, mut keys) in by_advisor {
        keys.sort_unstable();
        keys.dedup();
        keys.sort_by_key(|k| (rank(k), *k));
        out.extend(keys.into_iter().take(per_advisor).map(|k| (advisor.to_owned(), k.to_owned())));
    }
    out
}

/// What can be checked of a reply without AI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct AutoChecks {
    pub greeting: bool,
    pub closing: bool,
    /// `None`: not known (a reply not sent from the window, or by an earlier version).
    pub template_or_article_used: Option<bool>,
    /// Whether the reply met its SLA (`None`: not known).
    pub sla_met: Option<bool>,
    /// `None` when the reply promises no attachment; else whether one is attached.
    pub promised_attachment: Option<bool>,
}

const GREETINGS_EN: [&str; 7] = ["hi", "hello", "dear", "good morning", "good afternoon", "good evening", "hey"];
const GREETINGS_ZH: [&str; 4] = ["您好", "你好", "尊敬的", "亲爱的"];
const CLOSINGS_EN: [&str; 8] = ["kind regards", "best regards", "regards", "best wishes", "sincerely", "thank you", "thanks", "cheers"];
const CLOSINGS_ZH: [&str; 6] = ["此致", "祝好", "谢谢", "顺祝", "祝您", "感谢"];
const ATTACHMENT_EN: [&str; 4] = ["attached", "attachment", "enclosed", "i attach"];
const ATTACHMENT_ZH: [&str; 2] = ["附件", "附上"];

/// The automatic checks of a reply's text (`chinese`: the conversation's language).
pub fn auto_checks(
    text: &str,
    chinese: bool,
    attachments: usize,
    template_or_article_used: Option<bool>,
    sla_met: Option<bool>,
) -> AutoChecks {
    let lines: Vec<String> = text.lines().map(|l| l.trim().to_lowercase()).filter(|l| !l.is_empty() && !l.starts_with('>')).collect();
    let first = lines.first().map(String::as_str).unwrap_or("");
    let last_lines = lines.iter().rev().take(4).map(String::as_str).collect::<Vec<_>>();
    let (greetings, closings, attachment): (&[&str], &[&str], &[&str]) =
        if chinese { (&GREETINGS_ZH, &CLOSINGS_ZH, &ATTACHMENT_ZH) } else { (&GREETINGS_EN, &CLOSINGS_EN, &ATTACHMENT_EN) };
    let word_start = |line: &str, w: &str| line.starts_with(w) && (chinese || !line[w.len()..].starts_with(|c: char| c.is_alphanumeric()));
    let lower = text.to_lowercase();
    AutoChecks {
        greeting: greetings.iter().any(|g| word_start(first, g)),
        closing: last_lines.iter().any(|l| closings.iter().any(|c| word_start(l, c))),
        template_or_article_used,
        sla_met,
        promised_attachment: attachment.iter().any(|a| lower.contains(a)).then_some(attachments > 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CARD: &str = r#"{
        "name": "Billing email", "version": 2, "channel": "email", "queue": "Billing",
        "root_causes": ["knowledge", "process", "tone"],
        "sections": [
            {"name": "Accuracy", "categories": [
                {"id": "correct", "label": "The answer is correct", "scale": "binary", "weight": 3, "critical": true, "allow_na": false},
                {"id": "complete", "label": "Every question answered", "scale": "five", "weight": 2}
            ]},
            {"name": "Tone", "categories": [
                {"id": "tone", "label": "Friendly and clear", "scale": "four"},
                {"id": "policy", "label": "Refund policy explained", "scale": "three"}
            ]}
        ]
    }"#;

    fn card() -> Scorecard {
        Scorecard::parse(CARD.as_bytes()).unwrap()
    }

    fn review(scores: &[(&str, Option<u8>)]) -> Review {
        Review {
            scorecard: "Billing email".into(),
            scorecard_version: 2,
            conversation: "ann@example.com".into(),
            advisor: "alice".into(),
            reviewer: "sam".into(),
            scores: scores.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            root_causes: BTreeMap::new(),
            comment: String::new(),
            calibration: false,
        }
    }

    #[test]
    fn a_review_scores_by_weight_and_leaves_na_out() {
        // correct 1/1 ×3, complete (4−1)/4 = 0.75 ×2, tone (3−1)/3 ×1, policy N/A.
        let s = score(&card(), &review(&[("correct", Some(1)), ("complete", Some(4)), ("tone", Some(3)), ("policy", None)])).unwrap();
        let expected = 100.0 * (3.0 + 1.5 + 2.0 / 3.0) / 6.0;
        assert!((s.score_pct.unwrap() - expected).abs() < 1e-9, "{s:?}");
        assert!(s.critical_failed.is_empty());
        assert_eq!(s.categories.len(), 3, "N/A is left out");
    }

    #[test]
    fn a_failed_critical_category_makes_the_review_zero() {
        let s = score(&card(), &review(&[("correct", Some(0)), ("complete", Some(5)), ("tone", Some(4)), ("policy", Some(3))])).unwrap();
        assert_eq!(s.score_pct, Some(0.0));
        assert_eq!(s.critical_failed, ["correct"]);
    }

    #[test]
    fn bad_reviews_and_scorecards_are_clear_errors() {
        let c = card();
        let all = |v: Option<u8>| review(&[("correct", Some(1)), ("complete", v), ("tone", Some(1)), ("policy", Some(1))]);
        assert_eq!(score(&c, &all(Some(6))), Err(QualityError::OffScale { category: "complete".into(), value: 6, scale: "5-point" }));
        assert_eq!(score(&c, &all(Some(0))).unwrap_err().to_string(), "category \"complete\": 0 is not on its 5-point scale");
        assert_eq!(score(&c, &review(&[("correct", Some(1))])), Err(QualityError::NotScored("complete".into())));
        let na = review(&[("correct", None), ("complete", Some(1)), ("tone", Some(1)), ("policy", Some(1))]);
        assert_eq!(score(&c, &na), Err(QualityError::NotApplicableRefused("correct".into())));
        let mut extra = all(Some(1));
        extra.scores.insert("speed".into(), Some(1));
        assert_eq!(score(&c, &extra), Err(QualityError::UnknownCategory("speed".into())));
        let mut cause = all(Some(1));
        cause.root_causes.insert("complete".into(), "weather".into());
        assert!(matches!(score(&c, &cause), Err(QualityError::UnknownRootCause { .. })));
        let mut old = all(Some(1));
        old.scorecard_version = 1;
        assert!(matches!(score(&c, &old), Err(QualityError::WrongScorecard { .. })));
        let twice = CARD.replace("\"id\": \"tone\"", "\"id\": \"correct\"");
        assert_eq!(Scorecard::parse(twice.as_bytes()), Err(QualityError::DuplicateCategory("correct".into())));
        assert!(matches!(Scorecard::parse(b"{\"name\": 1}"), Err(QualityError::Malformed(_))));
        assert!(matches!(Scorecard::parse(&vec![b' '; QUALITY_DOC_MAX_BYTES + 1]), Err(QualityError::TooLarge { .. })));
        let empty = r#"{"name": "x", "version": 1, "channel": "call", "sections": []}"#;
        assert_eq!(Scorecard::parse(empty.as_bytes()), Err(QualityError::Empty));
    }

    #[test]
    fn a_scorecard_applies_to_its_email_type() {
        let c = card();
        assert!(c.applies_to(Channel::Email, "Billing", &[]));
        assert!(!c.applies_to(Channel::Email, "INBOX", &[]));
        assert!(!c.applies_to(Channel::Call, "Billing", &[]));
        let tagged = Scorecard { tag: Some("refund".into()), ..c };
        assert!(tagged.applies_to(Channel::Email, "Billing", &["Refund".into()]));
        assert!(!tagged.applies_to(Channel::Email, "Billing", &["invoice".into()]));
    }

    #[test]
    fn calibration_is_compared_and_not_counted() {
        let c = card();
        let a = review(&[("correct", Some(1)), ("complete", Some(5)), ("tone", Some(4)), ("policy", Some(3))]);
        let b = Review {
            reviewer: "tina".into(),
            calibration: true,
            ..review(&[("correct", Some(1)), ("complete", Some(1)), ("tone", Some(4)), ("policy", Some(3))])
        };
        let (sa, sb) = (score(&c, &a).unwrap(), score(&c, &b).unwrap());
        assert_eq!(sa.score_pct, Some(100.0));
        assert_eq!(quality_score(&[(&a, &sa), (&b, &sb)]), Some(100.0), "the calibration review does not count");
        let cal = calibrate(&[(&a, &sa), (&b, &sb)]);
        assert_eq!(cal.reviewers, ["sam", "tina"]);
        assert_eq!(cal.category_spread["complete"], 100.0);
        assert_eq!(cal.category_spread["tone"], 0.0);
        assert!((cal.score_spread - (100.0 - sb.score_pct.unwrap())).abs() < 1e-9);
    }

    #[test]
    fn the_weekly_sample_is_stable_per_week_and_fair_per_advisor() {
        let convs: Vec<(String, String)> = (0..20)
            .flat_map(|i| [("alice".to_string(), format!("c{i}@example.com")), ("bob".to_string(), format!("d{i}@example.com"))])
            .collect();
        let w1 = weekly_sample(&convs, 3, "2026-W49");
        assert_eq!(w1.len(), 6);
        assert_eq!(w1.iter().filter(|(a, _)| a == "alice").count(), 3);
        assert_eq!(w1, weekly_sample(&convs, 3, "2026-W49"), "the same for every reviewer");
        assert_ne!(w1, weekly_sample(&convs, 3, "2026-W50"), "another week, another sample");
        assert_eq!(weekly_sample(&convs[..2], 5, "w").len(), 2, "fewer than asked: all of them");
    }

    #[test]
    fn automatic_checks_read_greeting_closing_and_promises() {
        let en = "Hello Ann,\n\nThe invoice is attached.\n\nKind regards,\nAlice\n\n> old quoted text";
        let c = auto_checks(en, false, 0, Some(true), Some(true));
        assert_eq!(
            c,
            AutoChecks {
                greeting: true,
                closing: true,
                template_or_article_used: Some(true),
                sla_met: Some(true),
                promised_attachment: Some(false)
            }
        );
        assert_eq!(auto_checks(en, false, 1, None, None).promised_attachment, Some(true));
        let bare = auto_checks("Hiring is closed.\nYour order ships today.", false, 0, None, Some(false));
        assert!(!bare.greeting && !bare.closing, "'Hiring' is not 'Hi'");
        assert_eq!(bare.promised_attachment, None);
        let zh = auto_checks("您好，王先生：\n\n发票已附上，请查收。\n\n祝好\n客服部", true, 1, None, None);
        assert!(zh.greeting && zh.closing);
        assert_eq!(zh.promised_attachment, Some(true));
    }
}
