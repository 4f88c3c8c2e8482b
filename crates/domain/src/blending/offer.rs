//! The offer order: which waiting emails an advisor may claim, best first.
//!
//! The app claims from the top of this list, and the advisor does not choose: that is
//! what stops cherry-picking.
//!
//! 1. Follow-ups in the advisor's own conversations come first (sticky ownership), and
//!    are offered whatever the advisor's current skills: the conversation is theirs.
//! 2. Emails owned by another advisor are never offered, unless that owner has been
//!    offline past the grace period (then they are taken over like any other email).
//! 3. Other emails only from the advisor's queues and languages.
//! 4. Then SLA risk (due within the policy threshold, or breached), then priority (VIP
//!    sender, then urgency words), then age (oldest first). Ties keep the input order.

use std::cmp::Reverse;

use crate::advisor::AdvisorId;

use super::policy::{Policy, Skills};

/// A waiting email as the offer rules see it. `Id` is whatever the caller uses to find
/// the email again (a UID, a row id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateEmail<Id> {
    pub id: Id,
    pub queue: String,
    /// Detected language tag ("en", "zh-CN"); `None` when unknown.
    pub language: Option<String>,
    /// Sender address, bare or "Name <address>"; checked against the VIP rules.
    pub sender: String,
    pub subject: String,
    /// The start of the body, checked for urgency words.
    pub body_excerpt: String,
    pub received_at_ms: i64,
    pub sla_due_at_ms: Option<i64>,
    /// The owner of the conversation this email follows up, if any.
    pub owner: Option<AdvisorId>,
    /// The owner has been offline past the grace period (see [`Policy::is_past_grace`]).
    pub owner_offline_past_grace: bool,
}

/// Whether an email's SLA is at risk at `now_ms`: due within `at_risk_ms`, or breached.
pub fn sla_at_risk(sla_due_at_ms: Option<i64>, now_ms: i64, at_risk_ms: i64) -> bool {
    sla_due_at_ms.is_some_and(|due| due.saturating_sub(now_ms) <= at_risk_ms)
}

/// The emails `advisor` (with `skills`) may claim, in the order to claim them.
pub fn offer_order<'a, Id>(
    candidates: &'a [CandidateEmail<Id>],
    advisor: &AdvisorId,
    skills: &Skills,
    policy: &Policy,
    now_ms: i64,
) -> Vec<&'a CandidateEmail<Id>> {
    let at_risk_ms = policy.sla_at_risk_ms();
    let mut offered: Vec<_> = candidates
        .iter()
        .enumerate()
        .filter_map(|(position, email)| {
            let own_follow_up = email.owner.as_ref() == Some(advisor);
            let claimable = own_follow_up
                || ((email.owner.is_none() || email.owner_offline_past_grace)
                    && skills.covers_queue(&email.queue)
                    && skills.covers_language(email.language.as_deref()));
            if !claimable {
                return None;
            }
            // Sort key: smaller first, so "true" ranks are reversed.
            let key = (
                Reverse(own_follow_up),
                Reverse(sla_at_risk(email.sla_due_at_ms, now_ms, at_risk_ms)),
                Reverse(policy.priority.is_vip(&email.sender)),
                Reverse(policy.priority.is_urgent(&email.subject, &email.body_excerpt)),
                email.received_at_ms,
                position,
            );
            Some((key, email))
        })
        .collect();
    offered.sort_by_key(|(key, _)| *key);
    offered.into_iter().map(|(_, email)| email).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blending::policy::PriorityRules;

    fn id(s: &str) -> AdvisorId {
        AdvisorId::parse(s).expect("test id")
    }

    fn email(n: u32, received_at_ms: i64) -> CandidateEmail<u32> {
        CandidateEmail {
            id: n,
            queue: "INBOX".into(),
            language: Some("en".into()),
            sender: format!("customer{n}@example.com"),
            subject: "Question".into(),
            body_excerpt: "Hello".into(),
            received_at_ms,
            sla_due_at_ms: None,
            owner: None,
            owner_offline_past_grace: false,
        }
    }

    fn policy() -> Policy {
        Policy {
            sla_at_risk_minutes: 30,
            priority: PriorityRules { vip_senders: vec!["vip.example".into()], urgency_words: vec!["urgent".into(), "紧急".into()] },
            ..Policy::default()
        }
    }

    /// The ids alice is offered, in order.
    fn order(emails: &[CandidateEmail<u32>], skills: &Skills) -> Vec<u32> {
        offer_order(emails, &id("alice"), skills, &policy(), NOW).iter().map(|e| e.id).collect()
    }

    const NOW: i64 = 10_000_000;
    const MIN: i64 = 60_000;

    #[test]
    fn oldest_first_when_nothing_else_differs() {
        let emails = [email(1, 300), email(2, 100), email(3, 200)];
        assert_eq!(order(&emails, &Skills::default()), [2, 3, 1]);
    }

    #[test]
    fn ties_keep_input_order() {
        let emails = [email(1, 100), email(2, 100), email(3, 100)];
        assert_eq!(order(&emails, &Skills::default()), [1, 2, 3]);
    }

    #[test]
    fn sla_risk_beats_priority_which_beats_age() {
        let mut at_risk = email(1, 500);
        at_risk.sla_due_at_ms = Some(NOW + 29 * MIN);
        let mut breached = email(2, 600);
        breached.sla_due_at_ms = Some(NOW - MIN);
        let mut safe_vip = email(3, 400);
        safe_vip.sender = "boss@vip.example".into();
        safe_vip.sla_due_at_ms = Some(NOW + 31 * MIN);
        let mut urgent = email(4, 300);
        urgent.subject = "URGENT: refund".into();
        let old_plain = email(5, 100);
        let mut vip_and_urgent_at_risk = email(6, 700);
        vip_and_urgent_at_risk.sender = "x@eu.vip.example".into();
        vip_and_urgent_at_risk.body_excerpt = "请尽快处理，紧急".into();
        vip_and_urgent_at_risk.sla_due_at_ms = Some(NOW);

        let emails = [at_risk, breached, safe_vip, urgent, old_plain, vip_and_urgent_at_risk];
        // At risk: 6 (VIP + urgent), then 1 and 2 by age. Then VIP 3, urgent 4, plain 5.
        assert_eq!(order(&emails, &Skills::default()), [6, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn vip_ranks_above_urgency() {
        let mut vip = email(1, 200);
        vip.sender = "a@vip.example".into();
        let mut urgent = email(2, 100);
        urgent.subject = "urgent".into();
        assert_eq!(order(&[vip, urgent], &Skills::default()), [1, 2]);
    }

    #[test]
    fn own_follow_ups_come_first_even_outside_skills() {
        let mut follow_up = email(1, 900);
        follow_up.owner = Some(id("alice"));
        follow_up.queue = "Billing".into();
        let mut at_risk = email(2, 100);
        at_risk.sla_due_at_ms = Some(NOW - MIN);
        let skills = Skills { queues: Some(["INBOX".to_string()].into()), languages: None };
        assert_eq!(order(&[at_risk, follow_up], &skills), [1, 2]);
    }

    #[test]
    fn others_follow_ups_are_excluded_until_owner_is_offline_past_grace() {
        let mut bobs = email(1, 100);
        bobs.owner = Some(id("bob"));
        assert!(order(&[bobs.clone()], &Skills::default()).is_empty());

        bobs.owner_offline_past_grace = true;
        assert_eq!(order(&[bobs.clone()], &Skills::default()), [1]);
    }

    #[test]
    fn taken_over_emails_are_not_sticky_and_still_need_skills() {
        let mut bobs = email(1, 900);
        bobs.owner = Some(id("bob"));
        bobs.owner_offline_past_grace = true;
        bobs.queue = "Billing".into();
        let plain = email(2, 100);
        let all = Skills::default();
        assert_eq!(order(&[bobs.clone(), plain.clone()], &all), [2, 1], "ordered by age, not first");
        let inbox_only = Skills { queues: Some(["INBOX".to_string()].into()), languages: None };
        assert_eq!(order(&[bobs, plain], &inbox_only), [2]);
    }

    #[test]
    fn only_queues_and_languages_in_skills() {
        let mut billing = email(1, 100);
        billing.queue = "Billing".into();
        let mut french = email(2, 100);
        french.language = Some("fr".into());
        let mut chinese = email(3, 100);
        chinese.language = Some("zh-CN".into());
        let mut unknown = email(4, 100);
        unknown.language = None;
        let english = email(5, 100);
        let skills = Skills { queues: Some(["INBOX".to_string()].into()), languages: Some(["en".to_string(), "zh".to_string()].into()) };
        let emails = [billing, french, chinese, unknown, english];
        assert_eq!(order(&emails, &skills), [3, 4, 5]);
    }

    #[test]
    fn sla_at_risk_boundaries() {
        let risk = 30 * MIN;
        assert!(!sla_at_risk(None, NOW, risk));
        assert!(sla_at_risk(Some(NOW + risk), NOW, risk));
        assert!(!sla_at_risk(Some(NOW + risk + 1), NOW, risk));
        assert!(sla_at_risk(Some(i64::MIN), i64::MAX, risk), "no overflow");
        assert!(!sla_at_risk(Some(i64::MAX), i64::MIN, risk), "no overflow");
    }
}
