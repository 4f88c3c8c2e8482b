//! Customer satisfaction: after a conversation is resolved the customer gets one short
//! survey email (one per conversation team-wide: a duty bid, `automation::duty`), with
//! links that open a reply whose subject carries the answer ("Rating 4 [survey:…]",
//! "Resolved yes [survey:…]"). No web server: the answer comes back as mail, is
//! recognised by its subject tag, never reopens the conversation and is filed in a
//! folder of its own. Pure: when to send, what to send, how to read an answer, the
//! figures.

use serde::{Deserialize, Serialize};

/// Policy `csat`: off until a supervisor turns it on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct SurveySettings {
    pub enabled: bool,
    /// Not more than one survey per customer within this many days.
    pub cooldown_days: u32,
    /// Resolutions older than this when an app first notices them get no survey (a
    /// restart after a day off sends no burst).
    pub max_age_minutes: u32,
}

impl Default for SurveySettings {
    fn default() -> Self {
        Self { enabled: false, cooldown_days: 30, max_age_minutes: 60 }
    }
}

/// The tag in the subject of every answer link: `[survey:<reference>]`.
pub const SURVEY_TAG: &str = "[survey:";

/// The Message-ID local part of our survey emails (`<blendesk-auto.survey-<ref>@domain>`):
/// an automatic message of ours (`autoreply::is_automatic_message_id`), so the breaker
/// counts it and replies to it are known as replies to automatic mail.
pub const SURVEY_ID_PREFIX: &str = "blendesk-auto.survey-";

/// A survey's reference: 12 hex digits, random per survey.
pub fn survey_reference(random: u64) -> String {
    format!("{:012x}", random & 0xffff_ffff_ffff)
}

pub fn survey_message_id(reference: &str, domain: &str) -> String {
    format!("<{SURVEY_ID_PREFIX}{reference}@{domain}>")
}

/// The reference of one of our survey Message-IDs.
pub fn reference_of_message_id(message_id: &str) -> Option<&str> {
    let local = message_id.trim().trim_start_matches('<').split('@').next()?;
    let r = local.strip_prefix(SURVEY_ID_PREFIX)?;
    is_reference(r).then_some(r)
}

fn is_reference(r: &str) -> bool {
    r.len() == 12 && r.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Why a resolved conversation gets no survey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SurveySkip {
    Disabled,
    /// One already went out for this conversation.
    Done,
    /// The customer's mail was automatic (RFC 3834 verdict "skip:…").
    Automatic(String),
    /// Resolved too long ago (`max_age_minutes`).
    TooOld,
    /// The customer had a survey within `cooldown_days`.
    SurveyedRecently,
}

/// What the rule needs to know about one resolved conversation.
#[derive(Debug, Clone)]
pub struct SurveyCandidate<'a> {
    /// When it was resolved (the Resolved event).
    pub resolved_ms: i64,
    /// The RFC 3834 verdict of the customer's newest email ("acknowledge" or "skip:…").
    pub verdict: &'a str,
    /// A survey for this conversation is already known (its bid or its Sent copy).
    pub already_surveyed: bool,
    /// The newest survey this customer was sent, if any.
    pub last_survey_to_customer_ms: Option<i64>,
}

pub fn should_survey(c: &SurveyCandidate<'_>, settings: &SurveySettings, now_ms: i64) -> Result<(), SurveySkip> {
    if !settings.enabled {
        return Err(SurveySkip::Disabled);
    }
    if c.already_surveyed {
        return Err(SurveySkip::Done);
    }
    if c.verdict != "acknowledge" {
        return Err(SurveySkip::Automatic(c.verdict.trim_start_matches("skip:").to_owned()));
    }
    if now_ms - c.resolved_ms > i64::from(settings.max_age_minutes) * 60_000 {
        return Err(SurveySkip::TooOld);
    }
    if c.last_survey_to_customer_ms.is_some_and(|t| now_ms - t < i64::from(settings.cooldown_days) * 86_400_000) {
        return Err(SurveySkip::SurveyedRecently);
    }
    Ok(())
}

/// A `mailto:` link whose reply has `subject`.
pub fn answer_link(support: &str, subject: &str) -> String {
    let mut out = format!("mailto:{support}?subject=");
    for b in subject.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The survey's text, in the conversation's language: five rating links and two for
/// "was your issue resolved?".
pub fn survey_body(chinese: bool, support: &str, reference: &str) -> String {
    let tag = format!("{SURVEY_TAG}{reference}]");
    let (intro, rate, resolved, yes, no, outro) = if chinese {
        (
            "您好，\n\n您的问题已处理完毕。请花一秒钟告诉我们您的感受：点击下面的链接会打开一封回复邮件，直接发送即可。",
            "评分（5 = 非常满意）：",
            "您的问题解决了吗？",
            "是",
            "否",
            "谢谢！",
        )
    } else {
        (
            "Hello,\n\nYour request is resolved. Would you tell us how we did? Each link below opens a reply; just send it.",
            "Rating (5 = very satisfied):",
            "Was your issue resolved?",
            "yes",
            "no",
            "Thank you!",
        )
    };
    let mut text = format!("{intro}\n\n{rate}\n");
    for n in (1..=5).rev() {
        text.push_str(&format!("  {n}: {}\n", answer_link(support, &format!("Rating {n} {tag}"))));
    }
    text.push_str(&format!("\n{resolved}\n"));
    text.push_str(&format!("  {yes}: {}\n", answer_link(support, &format!("Resolved yes {tag}"))));
    text.push_str(&format!("  {no}: {}\n", answer_link(support, &format!("Resolved no {tag}"))));
    text.push_str(&format!("\n{outro}\n"));
    text
}

/// A customer's answer, read from the reply's subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SurveyAnswer {
    pub reference: String,
    /// 1–5.
    pub rating: Option<u8>,
    /// "Was your issue resolved?"
    pub resolved: Option<bool>,
}

/// Whether an email with this subject is a survey answer (it waits to be filed, and is
/// never part of a conversation, a load or a report).
pub fn is_answer(subject: &str) -> bool {
    parse_answer(subject).is_some()
}

/// Read an answer from a subject ("Re: Rating 4 [survey:0123456789ab]"). `None` for a
/// subject without a well-formed tag: ordinary mail. A tag with neither a rating nor a
/// yes/no is still an answer (the customer wrote back to the survey), with no figures.
pub fn parse_answer(subject: &str) -> Option<SurveyAnswer> {
    let start = subject.find(SURVEY_TAG)?;
    let rest = &subject[start + SURVEY_TAG.len()..];
    let reference = rest.get(..12).filter(|r| is_reference(r) && rest[12..].starts_with(']'))?.to_ascii_lowercase();
    let before = subject[..start].to_ascii_lowercase();
    let words: Vec<&str> = before.split(|c: char| c.is_whitespace() || c == ':').filter(|w| !w.is_empty()).collect();
    let after = |w: &str| words.iter().position(|x| *x == w).and_then(|i| words.get(i + 1)).copied();
    let rating = after("rating").and_then(|n| n.parse::<u8>().ok()).filter(|n| (1..=5).contains(n));
    let resolved = match after("resolved") {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    };
    Some(SurveyAnswer { reference, rating, resolved })
}

/// Satisfaction figures over a set of surveys and the answers they got.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct CsatFigures {
    pub surveys: u32,
    /// Surveys with at least one answer.
    pub answered: u32,
    pub response_rate_pct: Option<f64>,
    /// Mean rating (1–5).
    pub score: Option<f64>,
    /// Ratings of 4 or 5, among the rated.
    pub satisfied_pct: Option<f64>,
    /// "Resolved: yes" among the yes/no answers: first-contact resolution as the
    /// customer reports it.
    pub customer_fcr_pct: Option<f64>,
}

/// The figures for `surveys` sent and their answers (several answers to one survey:
/// the last of each kind counts, so a customer who changes their mind counts once).
pub fn csat_figures(surveys: &[&str], answers: &[SurveyAnswer]) -> CsatFigures {
    use std::collections::{BTreeMap, HashSet};
    let sent: HashSet<&str> = surveys.iter().copied().collect();
    let mut rating: BTreeMap<&str, u8> = BTreeMap::new();
    let mut resolved: BTreeMap<&str, bool> = BTreeMap::new();
    let mut answered: HashSet<&str> = HashSet::new();
    for a in answers.iter().filter(|a| sent.contains(a.reference.as_str())) {
        answered.insert(&a.reference);
        if let Some(r) = a.rating {
            rating.insert(&a.reference, r);
        }
        if let Some(y) = a.resolved {
            resolved.insert(&a.reference, y);
        }
    }
    let pct = |part: usize, whole: usize| (whole > 0).then(|| 100.0 * part as f64 / whole as f64);
    CsatFigures {
        surveys: sent.len() as u32,
        answered: answered.len() as u32,
        response_rate_pct: pct(answered.len(), sent.len()),
        score: (!rating.is_empty()).then(|| rating.values().map(|r| f64::from(*r)).sum::<f64>() / rating.len() as f64),
        satisfied_pct: pct(rating.values().filter(|r| **r >= 4).count(), rating.len()),
        customer_fcr_pct: pct(resolved.values().filter(|y| **y).count(), resolved.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn on() -> SurveySettings {
        SurveySettings { enabled: true, ..Default::default() }
    }

    fn candidate() -> SurveyCandidate<'static> {
        SurveyCandidate { resolved_ms: 1_000 * MIN, verdict: "acknowledge", already_surveyed: false, last_survey_to_customer_ms: None }
    }

    #[test]
    fn a_fresh_resolution_from_a_person_gets_one_survey() {
        let now = 1_010 * MIN;
        assert_eq!(should_survey(&candidate(), &on(), now), Ok(()));
        assert_eq!(should_survey(&candidate(), &SurveySettings::default(), now), Err(SurveySkip::Disabled), "off by default");
        let done = SurveyCandidate { already_surveyed: true, ..candidate() };
        assert_eq!(should_survey(&done, &on(), now), Err(SurveySkip::Done));
        let robot = SurveyCandidate { verdict: "skip:auto-submitted", ..candidate() };
        assert_eq!(should_survey(&robot, &on(), now), Err(SurveySkip::Automatic("auto-submitted".into())));
        assert_eq!(should_survey(&candidate(), &on(), 1_061 * MIN), Err(SurveySkip::TooOld));
        let recent = SurveyCandidate { last_survey_to_customer_ms: Some(now - 29 * 1_440 * MIN), ..candidate() };
        assert_eq!(should_survey(&recent, &on(), now), Err(SurveySkip::SurveyedRecently));
        let long_ago = SurveyCandidate { last_survey_to_customer_ms: Some(now - 31 * 1_440 * MIN), ..candidate() };
        assert_eq!(should_survey(&long_ago, &on(), now), Ok(()));
    }

    #[test]
    fn the_survey_links_open_replies_whose_subject_is_the_answer() {
        let body = survey_body(false, "support@shop.test", "0123456789ab");
        assert!(body.contains("mailto:support@shop.test?subject=Rating%205%20%5Bsurvey%3A0123456789ab%5D"), "{body}");
        assert!(body.contains("Resolved%20no%20%5Bsurvey%3A0123456789ab%5D"), "{body}");
        let zh = survey_body(true, "support@shop.test", "0123456789ab");
        assert!(zh.contains("您的问题解决了吗") && zh.contains("Rating%201%20"), "{zh}");
        // The subject each link carries reads back as its answer.
        let answer = parse_answer("Rating 5 [survey:0123456789ab]").unwrap();
        assert_eq!((answer.rating, answer.resolved, answer.reference.as_str()), (Some(5), None, "0123456789ab"));
    }

    #[test]
    fn answers_are_read_from_subjects_and_anything_else_is_not_an_answer() {
        let a = |s: &str| parse_answer(s).map(|a| (a.rating, a.resolved));
        assert_eq!(a("Re: Rating 4 [survey:0123456789AB]"), Some((Some(4), None)));
        assert_eq!(a("AW: Resolved no [survey:0123456789ab]"), Some((None, Some(false))));
        assert_eq!(a("Rating 9 [survey:0123456789ab]"), Some((None, None)), "out of range: an answer without a rating");
        assert_eq!(a("Rating 0 [survey:0123456789ab]"), Some((None, None)));
        assert_eq!(a("Re: thanks [survey:0123456789ab]"), Some((None, None)));
        assert_eq!(a("Rating 5 [survey:0123]"), None, "short reference");
        assert_eq!(a("Rating 5 [survey:0123456789abc]"), None, "long reference");
        assert_eq!(a("Rating 5 [survey:zzzzzzzzzzzz]"), None);
        assert_eq!(a("Where is my order?"), None);
        assert_eq!(a("[survey:"), None);
        assert_eq!(a("评分 5 [survey:0123456789ab] 中文"), Some((None, None)));
        // The one predicate every caller uses agrees with the parse.
        assert!(is_answer("Re: thanks [survey:0123456789ab]"));
        assert!(!is_answer("Rating 5 [survey:0123]") && !is_answer("Where is my order?"));
    }

    #[test]
    fn message_ids_carry_the_reference() {
        let id = survey_message_id(&survey_reference(0xabc), "shop.test");
        assert_eq!(id, "<blendesk-auto.survey-000000000abc@shop.test>");
        assert!(crate::automation::autoreply::is_automatic_message_id(&id));
        assert_eq!(reference_of_message_id(&id), Some("000000000abc"));
        assert_eq!(reference_of_message_id("<blendesk-auto.x@shop.test>"), None);
        assert_eq!(reference_of_message_id("<blendesk-auto.survey-nothex000000@shop.test>"), None);
    }

    #[test]
    fn figures_count_each_survey_once_and_only_surveys_we_sent() {
        let ans = |r: &str, rating: Option<u8>, resolved: Option<bool>| SurveyAnswer { reference: r.into(), rating, resolved };
        let answers = [
            ans("aaaaaaaaaaaa", Some(2), None),
            ans("aaaaaaaaaaaa", Some(5), Some(true)), // changed their mind: 5 counts
            ans("bbbbbbbbbbbb", Some(3), Some(false)),
            ans("ffffffffffff", Some(1), None), // not a survey of this set
        ];
        let f = csat_figures(&["aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc", "dddddddddddd"], &answers);
        assert_eq!((f.surveys, f.answered), (4, 2));
        assert_eq!(f.response_rate_pct, Some(50.0));
        assert_eq!(f.score, Some(4.0));
        assert_eq!(f.satisfied_pct, Some(50.0));
        assert_eq!(f.customer_fcr_pct, Some(50.0));
        assert_eq!(csat_figures(&[], &[]), CsatFigures::default());
    }
}
