//! The supervisor's blending policy: a versioned JSON document kept in the shared
//! mailbox. Every field is optional except `version`; absent fields take the defaults
//! below, so a team with no policy at all still blends (default cap 3).
//!
//! The document is written by a supervisor but read by every app from a mailbox any
//! team member may be able to write to, so parsing treats it as hostile: bounded size,
//! no panics, and every failure is a [`PolicyError`] with a message a person can act on.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::advisor::AdvisorId;
use crate::blending::callback_policy::CallbackSettings;
use crate::blending::sla_policy::{QueueSlaSettings, SlaPolicy};

/// The policy format this code reads and writes.
pub const POLICY_VERSION: u32 = 1;
/// A policy larger than this is refused before parsing; a real one is a few KiB.
pub const POLICY_MAX_BYTES: usize = 256 * 1024;
/// Cap for advisors the policy does not name, and for everyone when no policy exists.
pub const DEFAULT_CAP: u32 = 3;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("blending policy is {bytes} bytes; the limit is {max} bytes")]
    TooLarge { bytes: usize, max: usize },
    #[error("blending policy is not a valid policy document: {0}")]
    Malformed(String),
    #[error("blending policy has no \"version\" field")]
    MissingVersion,
    #[error(
        "blending policy version {found} is not supported (this app reads version \
         {supported}); update Blendesk"
    )]
    UnsupportedVersion { found: u64, supported: u32 },
    #[error(
        "blending policy names advisor {key:?}, which is not a valid advisor id \
         (use 1 to 32 characters from a-z, 0-9 and _)"
    )]
    InvalidAdvisorKey { key: String },
    #[error("blending policy could not be written as JSON: {0}")]
    Serialize(String),
    #[error("blending policy's SLA settings for {}: {problem}", queue.as_deref().map_or("every queue (\"default\")".to_owned(), |q| format!("queue {q:?}")))]
    InvalidSla { queue: Option<String>, problem: String },
    #[error("blending policy's callback settings: {0}")]
    InvalidCallback(String),
}

/// Queues and languages an advisor may claim from. `None` means "all": an advisor the
/// policy does not restrict sees every queue and language, so a new team works before a
/// supervisor has written any skills. An explicit empty list means "none".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct Skills {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queues: Option<BTreeSet<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub languages: Option<BTreeSet<String>>,
}

/// Every queue and every language.
pub static ALL_SKILLS: Skills = Skills { queues: None, languages: None };

impl Skills {
    /// Queue names are compared exactly (they are mailbox folder names).
    pub fn covers_queue(&self, queue: &str) -> bool {
        match &self.queues {
            None => true,
            Some(queues) => queues.contains(queue),
        }
    }

    /// Languages are compared case-insensitively, and a skill without a region covers
    /// every region of it ("en" covers "en-GB"). An email whose language is unknown
    /// (`None`) is offered to everyone in the queue, or it would never be answered.
    pub fn covers_language(&self, language: Option<&str>) -> bool {
        match (&self.languages, language) {
            (None, _) | (Some(_), None) => true,
            (Some(languages), Some(lang)) => languages.iter().any(|skill| language_matches(skill, lang)),
        }
    }
}

fn language_matches(skill: &str, lang: &str) -> bool {
    let skill = skill.trim();
    let lang = lang.trim();
    if skill.eq_ignore_ascii_case(lang) {
        return true;
    }
    // "en" covers "en-GB" and "en_GB", but "en-GB" does not cover "en-US".
    let primary = lang.split(['-', '_']).next().unwrap_or(lang);
    !skill.contains(['-', '_']) && skill.eq_ignore_ascii_case(primary)
}

/// The settings a supervisor tries in "what if" before publishing them: the team-wide
/// ones and each advisor's cap and skills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct PolicyDraft {
    pub default_cap: u32,
    pub wrap_up_seconds: u32,
    pub gap_pacing: bool,
    pub hand_back: bool,
    /// Advisors whose cap or skills the draft sets (by id); others keep theirs.
    #[serde(default)]
    pub advisors: BTreeMap<String, AdvisorPolicy>,
}

impl PolicyDraft {
    /// Refuse what no policy may say (the same bounds a cap edit has).
    pub fn check(&self) -> Result<(), String> {
        if self.default_cap > 99 {
            return Err(format!("a cap of {} is more than 99", self.default_cap));
        }
        if self.wrap_up_seconds > 3600 {
            return Err(format!("a wrap-up of {} s is more than an hour", self.wrap_up_seconds));
        }
        for (id, a) in &self.advisors {
            AdvisorId::parse(id).map_err(|e| format!("advisor {id:?}: {e}"))?;
            if let Some(cap) = a.cap.filter(|c| *c > 99) {
                return Err(format!("{id}: a cap of {cap} is more than 99"));
            }
        }
        Ok(())
    }
}

/// Per-advisor settings; absent fields fall back to the team defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct AdvisorPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skills: Option<Skills>,
}

/// Priority rules: VIP senders and urgency words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PriorityRules {
    /// Full addresses ("ceo@acme.com") or domains ("acme.com" or "@acme.com"; a domain
    /// also covers its subdomains).
    pub vip_senders: Vec<String>,
    /// Case-insensitive substrings of the subject or body excerpt, in any language
    /// ("urgent", "紧急").
    pub urgency_words: Vec<String>,
}

impl PriorityRules {
    /// Whether `sender` (a bare address, or "Name <address>") is a VIP.
    pub fn is_vip(&self, sender: &str) -> bool {
        let address = bare_address(sender).to_lowercase();
        let Some((_, domain)) = address.rsplit_once('@') else {
            return false;
        };
        self.vip_senders.iter().any(|entry| {
            let entry = entry.trim().to_lowercase();
            if entry.is_empty() {
                return false;
            }
            match entry.strip_prefix('@') {
                Some(vip_domain) => domain_matches(domain, vip_domain),
                None if entry.contains('@') => entry == address,
                None => domain_matches(domain, &entry),
            }
        })
    }

    /// Whether the subject or body excerpt contains an urgency word.
    pub fn is_urgent(&self, subject: &str, body_excerpt: &str) -> bool {
        let subject = subject.to_lowercase();
        let body = body_excerpt.to_lowercase();
        self.urgency_words.iter().any(|word| {
            // An empty word would match every email and make "urgent" meaningless.
            let word = word.trim().to_lowercase();
            !word.is_empty() && (subject.contains(&word) || body.contains(&word))
        })
    }
}

fn bare_address(sender: &str) -> &str {
    let sender = sender.trim();
    match (sender.rfind('<'), sender.rfind('>')) {
        (Some(open), Some(close)) if open < close => sender[open + 1..close].trim(),
        _ => sender,
    }
}

fn domain_matches(domain: &str, vip_domain: &str) -> bool {
    domain == vip_domain || domain.strip_suffix(vip_domain).is_some_and(|prefix| prefix.ends_with('.'))
}

/// The blending policy. Build one with [`Policy::parse`] or [`Policy::default`] (the
/// rules that apply when a team has no policy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    pub version: u32,
    /// Cap for advisors without their own `cap`.
    pub default_cap: u32,
    /// Keyed by advisor id; keys are checked by [`Policy::parse`].
    pub advisors: BTreeMap<String, AdvisorPolicy>,
    /// Wrap-up after a call; 0 returns the advisor to email as soon as the call ends.
    pub wrap_up_seconds: u32,
    /// How many conversations an advisor may have parked at once.
    pub park_limit: u32,
    /// When a park has no explicit return time, it returns after this long.
    pub park_return_minutes: u32,
    /// Idle time (no input reported by the OS) after which an available advisor is
    /// moved to away; 0 turns idle detection off.
    pub idle_to_away_seconds: u32,
    pub priority: PriorityRules,
    /// How long an offline advisor's conversations stay theirs before others may take them.
    pub grace_seconds: u32,
    /// Advisors allowed to edit the policy and see the supervisor view.
    pub supervisors: Vec<AdvisorId>,
    /// An email whose SLA falls due within this many minutes (or has passed) is at risk;
    /// the team-wide default for queues whose `sla` settings do not set their own.
    pub sla_at_risk_minutes: u32,
    /// Per-queue reply-time targets and business-hours calendars (see [`SlaPolicy`]).
    pub sla: SlaPolicy,
    /// When to suggest a phone call (see [`CallbackSettings`]).
    pub callback: CallbackSettings,
    /// Gap-aware pacing: offer the email that fits the expected time before the
    /// advisor's next call (`pacing::pace`). Off until measured on by default.
    pub gap_pacing: bool,
    /// Hand an unanswered email back to the queue when a long call threatens its
    /// promise (`pacing::should_hand_back`).
    pub hand_back: bool,
    /// Customer satisfaction surveys after resolution (see `automation::survey`).
    pub csat: crate::automation::survey::SurveySettings,
    /// Whether an advisor's "My week" also lists each colleague's figures. Off by
    /// default: an advisor sees their own numbers and the team's median, never a
    /// colleague's (supervisors see everyone's in the analytics page either way).
    pub advisors_see_colleagues: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            version: POLICY_VERSION,
            default_cap: DEFAULT_CAP,
            advisors: BTreeMap::new(),
            wrap_up_seconds: 30,
            park_limit: 3,
            park_return_minutes: 60,
            idle_to_away_seconds: 300,
            priority: PriorityRules::default(),
            grace_seconds: 600,
            supervisors: Vec::new(),
            sla_at_risk_minutes: 30,
            sla: SlaPolicy::default(),
            callback: CallbackSettings::default(),
            gap_pacing: false,
            hand_back: false,
            csat: Default::default(),
            advisors_see_colleagues: false,
        }
    }
}

/// Reads only the version, so a future format is reported as "unsupported version"
/// rather than as whatever field it happened to change.
#[derive(Deserialize)]
struct VersionProbe {
    version: Option<u64>,
}

impl Policy {
    /// Parse a policy document (the body of the policy message).
    pub fn parse(json: &[u8]) -> Result<Self, PolicyError> {
        if json.len() > POLICY_MAX_BYTES {
            return Err(PolicyError::TooLarge { bytes: json.len(), max: POLICY_MAX_BYTES });
        }
        let probe: VersionProbe = serde_json::from_slice(json).map_err(malformed)?;
        match probe.version {
            None => return Err(PolicyError::MissingVersion),
            Some(v) if v != u64::from(POLICY_VERSION) => {
                return Err(PolicyError::UnsupportedVersion { found: v, supported: POLICY_VERSION })
            }
            Some(_) => {}
        }
        let policy: Policy = serde_json::from_slice(json).map_err(malformed)?;
        if let Some(key) = policy.advisors.keys().find(|k| AdvisorId::parse(k).is_err()) {
            return Err(PolicyError::InvalidAdvisorKey { key: key.clone() });
        }
        if let Err((queue, problem)) = policy.sla.validate() {
            return Err(PolicyError::InvalidSla { queue, problem: problem.to_string() });
        }
        if let Err(problem) = policy.callback.validate() {
            return Err(PolicyError::InvalidCallback(problem.to_string()));
        }
        Ok(policy)
    }

    /// The document as pretty JSON, for the supervisor view to store.
    pub fn to_json(&self) -> Result<String, PolicyError> {
        serde_json::to_string_pretty(self).map_err(|e| PolicyError::Serialize(e.to_string()))
    }

    /// This policy with a supervisor's "what if" draft applied: its team-wide settings,
    /// and the cap and skills of each advisor it names (the others keep theirs).
    pub fn with_draft(&self, draft: &PolicyDraft) -> Policy {
        let mut advisors = self.advisors.clone();
        for (id, a) in &draft.advisors {
            advisors.insert(id.clone(), a.clone());
        }
        Policy {
            default_cap: draft.default_cap,
            wrap_up_seconds: draft.wrap_up_seconds,
            gap_pacing: draft.gap_pacing,
            hand_back: draft.hand_back,
            advisors,
            ..self.clone()
        }
    }

    /// The team-wide settings a "what if" draft starts from.
    pub fn draft(&self) -> PolicyDraft {
        PolicyDraft {
            default_cap: self.default_cap,
            wrap_up_seconds: self.wrap_up_seconds,
            gap_pacing: self.gap_pacing,
            hand_back: self.hand_back,
            advisors: self.advisors.clone(),
        }
    }

    /// The advisor's cap: their own if set, else the team default.
    pub fn cap_for(&self, advisor: &AdvisorId) -> u32 {
        self.advisors.get(advisor.as_str()).and_then(|a| a.cap).unwrap_or(self.default_cap)
    }

    /// The advisor's skills: their own if set, else every queue and language.
    pub fn skills_for(&self, advisor: &AdvisorId) -> &Skills {
        self.advisors.get(advisor.as_str()).and_then(|a| a.skills.as_ref()).unwrap_or(&ALL_SKILLS)
    }

    pub fn is_supervisor(&self, advisor: &AdvisorId) -> bool {
        self.supervisors.contains(advisor)
    }

    pub fn wrap_up_ms(&self) -> i64 {
        i64::from(self.wrap_up_seconds) * 1000
    }

    pub fn idle_to_away_ms(&self) -> i64 {
        i64::from(self.idle_to_away_seconds) * 1000
    }

    pub fn park_return_ms(&self) -> i64 {
        i64::from(self.park_return_minutes) * 60_000
    }

    pub fn grace_ms(&self) -> i64 {
        i64::from(self.grace_seconds) * 1000
    }

    pub fn sla_at_risk_ms(&self) -> i64 {
        i64::from(self.sla_at_risk_minutes) * 60_000
    }

    /// The SLA settings `queue` runs on. A parsed policy's settings are valid; should a
    /// hand-built one not be, the built-in defaults apply rather than no clock at all.
    pub fn sla_for(&self, queue: &str) -> QueueSlaSettings {
        self.sla.for_queue(queue, self.sla_at_risk_minutes).unwrap_or_else(|_| {
            SlaPolicy::default()
                .for_queue(queue, self.sla_at_risk_minutes)
                .unwrap_or_else(|_| unreachable!("the built-in SLA defaults are valid"))
        })
    }

    /// Whether an owner offline since `offline_since_ms` has been gone longer than the
    /// grace period, so others may take over their conversations (the `offer_order`
    /// input flag `owner_offline_past_grace`).
    pub fn is_past_grace(&self, offline_since_ms: i64, now_ms: i64) -> bool {
        now_ms.saturating_sub(offline_since_ms) >= self.grace_ms()
    }
}

fn malformed(e: serde_json::Error) -> PolicyError {
    PolicyError::Malformed(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colleagues_figures_are_private_unless_the_policy_shares_them() {
        assert!(!Policy::parse(br#"{"version": 1}"#).unwrap().advisors_see_colleagues);
        assert!(Policy::parse(br#"{"version": 1, "advisors_see_colleagues": true}"#).unwrap().advisors_see_colleagues);
    }

    #[test]
    fn a_draft_sets_the_team_settings_and_the_advisors_it_names() {
        let mut today = Policy::default();
        today.advisors.insert("alice".into(), AdvisorPolicy { cap: Some(5), skills: None });
        let mut draft = today.draft();
        assert_eq!(today.with_draft(&draft), today, "an unchanged draft is today's policy");
        draft.default_cap = 2;
        let zh_only = Skills { queues: None, languages: Some(["zh".to_owned()].into()) };
        draft.advisors.insert("bob".into(), AdvisorPolicy { cap: Some(1), skills: Some(zh_only.clone()) });
        let then = today.with_draft(&draft);
        let id = |s: &str| AdvisorId::parse(s).unwrap();
        assert_eq!((then.cap_for(&id("alice")), then.cap_for(&id("bob")), then.cap_for(&id("carol"))), (5, 1, 2));
        assert_eq!(then.skills_for(&id("bob")), &zh_only);
        assert!(draft.check().is_ok());
        draft.advisors.insert("Bad Id".into(), AdvisorPolicy::default());
        assert!(draft.check().unwrap_err().contains("Bad Id"));
        draft.advisors.clear();
        draft.advisors.insert("bob".into(), AdvisorPolicy { cap: Some(100), skills: None });
        assert!(draft.check().unwrap_err().contains("more than 99"));
    }
    use proptest::prelude::*;

    fn id(s: &str) -> AdvisorId {
        AdvisorId::parse(s).expect("test id")
    }

    const EXAMPLE: &str = r#"{"version":1, "default_cap":3,
        "advisors":{"alice":{"cap":2,"skills":{"queues":["INBOX"],"languages":["en","zh"]}}},
        "wrap_up_seconds":30, "park_limit":3, "park_return_minutes":60,
        "idle_to_away_seconds":300,
        "priority":{"vip_senders":["ceo@acme.com","@bigbank.example"],
                    "urgency_words":["urgent","紧急"]},
        "grace_seconds":600, "supervisors":["sam"], "sla_at_risk_minutes":30}"#;

    #[test]
    fn parses_the_documented_example() {
        let p = Policy::parse(EXAMPLE.as_bytes()).expect("example parses");
        assert_eq!(p.cap_for(&id("alice")), 2);
        assert_eq!(p.cap_for(&id("bob")), 3);
        let alice = p.skills_for(&id("alice"));
        assert!(alice.covers_queue("INBOX"));
        assert!(!alice.covers_queue("Billing"));
        assert!(alice.covers_language(Some("zh")));
        assert!(!alice.covers_language(Some("fr")));
        assert!(p.is_supervisor(&id("sam")));
        assert!(!p.is_supervisor(&id("alice")));
        assert_eq!(p.wrap_up_ms(), 30_000);
        assert_eq!(p.park_return_ms(), 3_600_000);
    }

    #[test]
    fn absent_fields_take_defaults() {
        let p = Policy::parse(br#"{"version":1}"#).expect("minimal policy");
        assert_eq!(p, Policy::default());
        assert_eq!(p.default_cap, DEFAULT_CAP);
        assert_eq!(p.cap_for(&id("anyone")), 3);
        assert_eq!(p.skills_for(&id("anyone")), &ALL_SKILLS);
    }

    #[test]
    fn advisor_without_cap_or_skills_uses_team_defaults() {
        let p = Policy::parse(br#"{"version":1,"default_cap":5,"advisors":{"bob":{}}}"#).expect("parses");
        assert_eq!(p.cap_for(&id("bob")), 5);
        assert!(p.skills_for(&id("bob")).covers_queue("anything"));
    }

    #[test]
    fn skills_absent_list_means_all_and_empty_list_means_none() {
        let p = Policy::parse(br#"{"version":1,"advisors":{"bob":{"skills":{"queues":[]}}}}"#).expect("parses");
        let bob = p.skills_for(&id("bob"));
        assert!(!bob.covers_queue("INBOX"));
        assert!(bob.covers_language(Some("de")), "languages absent = all");
    }

    #[test]
    fn cap_zero_is_kept() {
        let p = Policy::parse(br#"{"version":1,"advisors":{"bob":{"cap":0}}}"#).expect("parses");
        assert_eq!(p.cap_for(&id("bob")), 0);
    }

    #[test]
    fn version_is_required_and_checked() {
        assert_eq!(Policy::parse(b"{}"), Err(PolicyError::MissingVersion));
        assert_eq!(Policy::parse(br#"{"version":2}"#), Err(PolicyError::UnsupportedVersion { found: 2, supported: 1 }));
        let msg = Policy::parse(br#"{"version":2}"#).unwrap_err().to_string();
        assert!(msg.contains("version 2") && msg.contains("update Blendesk"), "{msg}");
    }

    #[test]
    fn malformed_documents_are_errors_with_a_message() {
        for bad in [
            &b""[..],
            b"null",
            b"[]",
            b"{\"version\":1",
            b"{\"version\":\"1\"}",
            b"{\"version\":-1}",
            b"{\"version\":1,\"default_cap\":-3}",
            b"{\"version\":1,\"default_cap\":1.5}",
            b"{\"version\":1,\"default_cap\":99999999999}",
            b"{\"version\":1,\"advisors\":[]}",
            b"{\"version\":1,\"supervisors\":[\"Sam!\"]}",
            b"{\"version\":1} trailing",
            b"\xff\xfe",
        ] {
            match Policy::parse(bad) {
                Err(PolicyError::Malformed(msg)) => assert!(!msg.is_empty()),
                other => panic!("{:?} gave {other:?}", String::from_utf8_lossy(bad)),
            }
        }
    }

    #[test]
    fn invalid_advisor_key_is_named() {
        let err = Policy::parse(br#"{"version":1,"advisors":{"Alice Smith":{"cap":1}}}"#).unwrap_err();
        assert_eq!(err, PolicyError::InvalidAdvisorKey { key: "Alice Smith".into() });
        assert!(err.to_string().contains("\"Alice Smith\""));
    }

    #[test]
    fn oversized_and_deeply_nested_documents_are_refused() {
        let big = vec![b' '; POLICY_MAX_BYTES + 1];
        assert!(matches!(Policy::parse(&big), Err(PolicyError::TooLarge { .. })));
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(Policy::parse(deep.as_bytes()), Err(PolicyError::Malformed(_))));
        let deep_field = format!(r#"{{"version":1,"x":{}1{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
        // Unknown fields are skipped without recursion, so even deep ones are harmless.
        assert!(Policy::parse(deep_field.as_bytes()).is_ok());
        let deep_known = format!(r#"{{"version":1,"supervisors":{}"sam"{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(Policy::parse(deep_known.as_bytes()), Err(PolicyError::Malformed(_))));
    }

    #[test]
    fn round_trips_through_json() {
        let p = Policy::parse(EXAMPLE.as_bytes()).expect("parses");
        let json = p.to_json().expect("serialises");
        assert_eq!(Policy::parse(json.as_bytes()), Ok(p));
    }

    #[test]
    fn vip_senders_match_addresses_and_domains() {
        let rules = PriorityRules {
            vip_senders: vec!["CEO@Acme.com".into(), "@bigbank.example".into(), "gov.example".into()],
            urgency_words: vec![],
        };
        assert!(rules.is_vip("ceo@acme.com"));
        assert!(rules.is_vip("The CEO <CEO@ACME.COM>"));
        assert!(!rules.is_vip("intern@acme.com"));
        assert!(rules.is_vip("a@bigbank.example"));
        assert!(rules.is_vip("a@eu.bigbank.example"), "subdomain");
        assert!(!rules.is_vip("a@notbigbank.example"), "not a subdomain");
        assert!(rules.is_vip("x@gov.example"));
        assert!(!rules.is_vip("no-at-sign"));
        assert!(!PriorityRules { vip_senders: vec!["  ".into()], urgency_words: vec![] }.is_vip("a@b.c"));
    }

    #[test]
    fn urgency_words_match_english_and_chinese_case_insensitively() {
        let rules = PriorityRules { vip_senders: vec![], urgency_words: vec!["URGENT".into(), "紧急".into(), "".into(), "  ".into()] };
        assert!(rules.is_urgent("This is urgent", ""));
        assert!(rules.is_urgent("", "please, Urgent reply"));
        assert!(rules.is_urgent("订单问题，非常紧急", ""));
        assert!(!rules.is_urgent("Hello", "no rush"), "empty words match nothing");
    }

    #[test]
    fn languages_cover_regions() {
        let skills = Skills { queues: None, languages: Some(["en".to_string(), "zh-TW".to_string()].into()) };
        assert!(skills.covers_language(Some("EN")));
        assert!(skills.covers_language(Some("en-GB")));
        assert!(skills.covers_language(Some("zh-tw")));
        assert!(!skills.covers_language(Some("zh-CN")));
        assert!(!skills.covers_language(Some("zh")));
        assert!(skills.covers_language(None), "unknown language goes to everyone");
    }

    #[test]
    fn sla_settings_per_queue_and_old_documents_still_parse() {
        // A version-1 document from before SLA settings existed: the defaults apply.
        let old = Policy::parse(EXAMPLE.as_bytes()).expect("parses");
        let inbox = old.sla_for("INBOX");
        assert_eq!(inbox.targets.first_response_minutes, 240);
        assert_eq!(inbox.targets.at_risk_minutes, 30, "the team-wide sla_at_risk_minutes");
        let p = Policy::parse(
            br#"{"version":1, "sla_at_risk_minutes": 20,
                 "sla": {"queues": {"Billing": {"first_response_minutes": 60, "at_risk_minutes": 10,
                         "calendar": {"time_zone": "America/New_York", "hours": {"mon": ["08:00-20:00"]}}}}}}"#,
        )
        .expect("parses");
        let billing = p.sla_for("Billing");
        assert_eq!((billing.targets.first_response_minutes, billing.targets.at_risk_minutes), (60, 10));
        assert_eq!(billing.calendar.time_zone(), chrono_tz::America::New_York);
        assert_eq!(p.sla_for("INBOX").targets.at_risk_minutes, 20);
        // Written and read back unchanged.
        assert_eq!(Policy::parse(p.to_json().unwrap().as_bytes()), Ok(p));
    }

    #[test]
    fn invalid_sla_settings_are_named_errors() {
        let err = Policy::parse(br#"{"version":1,"sla":{"queues":{"Billing":{"calendar":{"time_zone":"Nowhere/Land"}}}}}"#).unwrap_err();
        assert!(matches!(&err, PolicyError::InvalidSla { queue: Some(q), .. } if q == "Billing"), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("queue \"Billing\"") && msg.contains("Nowhere/Land"), "{msg}");
        let err = Policy::parse(br#"{"version":1,"sla":{"default":{"next_response_minutes":99999999}}}"#).unwrap_err();
        assert!(err.to_string().contains("every queue"), "{err}");
        for bad in [
            &br#"{"version":1,"sla":{"default":{"first_response_minutes":-1}}}"#[..],
            br#"{"version":1,"sla":{"default":{"first_response_minutes":1.5}}}"#,
            br#"{"version":1,"sla":{"default":{"calendar":{"hours":{"mon":"09:00-17:00"}}}}}"#,
            br#"{"version":1,"sla":{"queues":[]}}"#,
            br#"{"version":1,"sla":"fast"}"#,
        ] {
            assert!(matches!(Policy::parse(bad), Err(PolicyError::Malformed(_))), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn callback_settings_parse_and_old_documents_still_parse() {
        let old = Policy::parse(EXAMPLE.as_bytes()).expect("parses");
        assert_eq!(old.callback.rules(), crate::automation::callback::CallbackPolicy::default());
        let p = Policy::parse(
            r#"{"version":1,"callback":{"exchanges":2,"region":"cn",
                "frustration_words":{"zh":["气死了"]},"our_numbers":["+86 400 820 8820", "010 6552 9988"]}}"#
                .as_bytes(),
        )
        .expect("parses");
        let rules = p.callback.rules();
        assert_eq!(rules.exchanges, 2);
        assert!(rules.frustration_words.contains(&"气死了".to_owned()));
        assert_eq!(Policy::parse(p.to_json().unwrap().as_bytes()), Ok(p));
        let err = Policy::parse(br#"{"version":1,"callback":{"our_numbers":["ring us"]}}"#).unwrap_err();
        assert!(matches!(err, PolicyError::InvalidCallback(_)), "{err:?}");
        assert!(err.to_string().contains("callback") && err.to_string().contains("ring us"), "{err}");
        assert!(matches!(Policy::parse(br#"{"version":1,"callback":{"region":"mars"}}"#), Err(PolicyError::Malformed(_))));
    }

    #[test]
    fn grace_period() {
        let p = Policy::default();
        assert!(!p.is_past_grace(1_000, 1_000 + 599_999));
        assert!(p.is_past_grace(1_000, 1_000 + 600_000));
        assert!(!p.is_past_grace(i64::MAX, i64::MIN), "no overflow");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Policy::parse(&bytes);
        }

        #[test]
        fn arbitrary_json_like_text_never_panics(s in r#"[\{\}\[\]":,0-9a-z\-\. ]{0,200}"#) {
            let _ = Policy::parse(format!(r#"{{"version":1,{s}"#).as_bytes());
            let _ = Policy::parse(s.as_bytes());
        }

        #[test]
        fn arbitrary_sla_settings_never_panic(s in r#"[\{\}\[\]":,0-9a-z_/\- ]{0,120}"#, tz in "[A-Za-z_/+0-9-]{0,20}") {
            let _ = Policy::parse(format!(r#"{{"version":1,"sla":{{"default":{s}"#).as_bytes());
            let doc = format!(r#"{{"version":1,"sla":{{"default":{{"calendar":{{"time_zone":"{tz}","hours":{{"sun":["{s}"]}}}}}}}}}}"#);
            if let Ok(p) = Policy::parse(doc.as_bytes()) {
                let _ = p.sla_for("INBOX");
            }
        }

        #[test]
        fn arbitrary_callback_settings_never_panic(s in r#"[\{\}\[\]":,0-9a-z_+ 投诉]{0,120}"#) {
            let _ = Policy::parse(format!(r#"{{"version":1,"callback":{s}"#).as_bytes());
            let _ = Policy::parse(format!(r#"{{"version":1,"callback":{{"our_numbers":["{s}"]}}}}"#).as_bytes());
        }

        #[test]
        fn caps_and_skills_round_trip(cap in any::<u32>(), default_cap in any::<u32>()) {
            let json = format!(
                r#"{{"version":1,"default_cap":{default_cap},"advisors":{{"bob":{{"cap":{cap}}}}}}}"#
            );
            let p = Policy::parse(json.as_bytes()).expect("valid");
            prop_assert_eq!(p.cap_for(&id("bob")), cap);
            prop_assert_eq!(p.cap_for(&id("alice")), default_cap);
        }
    }
}
