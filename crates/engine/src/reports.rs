//! The team's figures from the mirror (`domain::metrics`): each conversation's customer
//! messages, our replies in Sent (threaded by In-Reply-To; automatic mail skipped) and
//! the queue's SLA settings, summarised. Resolution times need the time a conversation
//! was resolved, which the mirror does not keep (only that `$Resolved` is set): a
//! conversation counts as resolved by its last reply until the event log records it.
//! First-contact resolution joins the channels: each email conversation and each inbound
//! call from the team's event log is a contact, and numbers the event log links to an
//! address are that customer's.

use crate::engine::{Engine, Result};
use blendesk_domain::activity::{ActivityKind, Disposition};
use blendesk_domain::automation::is_automatic_message_id;
use blendesk_domain::metrics::{
    conversation_metrics, customer_keys, first_contact_resolution, period_of, report, Contact, ConversationMetrics, Event, EventKind,
    Period, Report, Targets,
};
use blendesk_domain::tags::normalise_tag;
use std::collections::{BTreeMap, HashMap};

/// A customer message after a resolution reopens it within this long.
const REOPEN_WINDOW_MS: i64 = 7 * 24 * 3_600_000;
/// A new contact from the same customer within this long fails the first one's FCR.
const FCR_WINDOW_MS: i64 = 7 * 24 * 3_600_000;

/// One conversation of the report: when and where it opened, and its figures.
pub(crate) struct Opened {
    pub(crate) at_ms: i64,
    pub(crate) queue: String,
    /// The advisor whose owner keyword its emails carry (the first found).
    pub(crate) owner: Option<String>,
    /// The first customer message's subject and sender, and its language ("en", "zh").
    pub(crate) subject: String,
    pub(crate) customer: String,
    pub(crate) language: &'static str,
    /// Its tags (`tags.rs`): with the queue, its email type.
    pub(crate) tags: Vec<String>,
    pub(crate) metrics: ConversationMetrics,
}

impl Engine {
    /// The whole report (with first-contact resolution), and each conversation's figures.
    pub(crate) fn conversations_report(&self, now_ms: i64) -> Result<(Report, Vec<Opened>)> {
        let heads = self.heads_with_sent()?;
        let keys = self.conversation_keys_for(&heads);
        let queues = &self.config.imap.queues;
        let internal = format!("@{}", self.team_domain().to_lowercase());
        // Our replies by the message they answer: (when, automatic).
        let mut replies: HashMap<&str, Vec<(i64, bool)>> = HashMap::new();
        for h in heads.iter().filter(|h| !queues.contains(&h.folder)) {
            if let Some(parent) = h.in_reply_to.as_deref() {
                let automatic = h.message_id.as_deref().is_some_and(is_automatic_message_id);
                replies.entry(parent).or_default().push((h.internal_date * 1000, automatic));
            }
        }
        // When emails were resolved, from the team's event log.
        let resolved_at = self.resolutions_since(i64::MIN)?;
        let mut by_key: BTreeMap<&str, Vec<Event>> = BTreeMap::new();
        let mut queue_of: HashMap<&str, &str> = HashMap::new();
        // Who started each conversation, and when: its contact.
        let mut opened_by: HashMap<&str, (i64, String)> = HashMap::new();
        let mut first_of: HashMap<&str, (String, &'static str)> = HashMap::new();
        let mut owner_of: HashMap<&str, String> = HashMap::new();
        for (h, key) in heads.iter().zip(keys.iter()) {
            let customer = queues.contains(&h.folder)
                && !h.flags.iter().any(|f| f.eq_ignore_ascii_case("\\Deleted"))
                && (internal == "@" || !h.from_addr.to_lowercase().ends_with(&internal))
                && !blendesk_domain::automation::survey::is_answer(&h.subject);
            if !customer {
                continue;
            }
            queue_of.entry(key).or_insert(&h.folder);
            opened_by.entry(key).or_insert_with(|| (h.internal_date * 1000, h.from_addr.to_lowercase()));
            first_of.entry(key).or_insert_with(|| (h.subject.clone(), crate::team::language_of(&h.subject, &h.excerpt)));
            if let Some(owner) = blendesk_domain::claim::owners(&h.flags).next() {
                owner_of.entry(key).or_insert_with(|| owner.to_owned());
            }
            let events = by_key.entry(key).or_default();
            events.push(Event { at_ms: h.internal_date * 1000, kind: EventKind::Customer });
            for at_ms in h.message_id.as_deref().and_then(|id| resolved_at.get(id)).into_iter().flatten() {
                events.push(Event { at_ms: *at_ms, kind: EventKind::Resolved });
            }
            for (at_ms, automatic) in h.message_id.as_deref().and_then(|id| replies.get(id)).into_iter().flatten() {
                let kind = if *automatic { EventKind::Automatic } else { EventKind::Reply };
                events.push(Event { at_ms: *at_ms, kind });
            }
        }
        let policy = self.policy();
        let metrics: Vec<ConversationMetrics> = by_key
            .iter()
            .map(|(key, events)| {
                let sla = policy.sla_for(queue_of.get(key).copied().unwrap_or_default());
                let targets = Targets {
                    first_response_minutes: sla.targets.first_response_minutes,
                    next_response_minutes: sla.targets.next_response_minutes,
                };
                conversation_metrics(events, &sla.calendar, targets, REOPEN_WINDOW_MS, now_ms)
            })
            .collect();
        let mut out = report(&metrics);
        let contacts: Vec<Contact> = by_key
            .keys()
            .zip(&metrics)
            .filter_map(|(key, m)| {
                let (at_ms, customer) = opened_by.get(key)?.clone();
                Some(Contact { customer, at_ms, resolved: m.resolution.is_some() })
            })
            .collect();
        self.add_first_contact_resolution(&mut out, contacts.clone(), now_ms)?;
        let mut tags = self.all_tags()?;
        let groups = by_key
            .keys()
            .zip(metrics)
            .filter_map(|(key, m)| {
                let (at_ms, customer) = opened_by.get(key)?;
                let (subject, language) = first_of.get(key).cloned().unwrap_or_default();
                Some(Opened {
                    at_ms: *at_ms,
                    queue: queue_of.get(key).copied().unwrap_or_default().to_owned(),
                    owner: owner_of.get(key).cloned(),
                    subject,
                    customer: customer.clone(),
                    language: if language.is_empty() { "en" } else { language },
                    tags: tags.remove(*key).unwrap_or_default(),
                    metrics: m,
                })
            })
            .collect();
        Ok((out, groups))
    }

    /// The figures over every conversation in the mirror's queues, as of `now_ms`.
    pub fn team_report(&self, now_ms: i64) -> Result<Report> {
        Ok(self.conversations_report(now_ms)?.0)
    }

    /// The figures of the conversations opened in `[from_ms, to_ms)` (only those tagged
    /// `tag`, when given), one report per period (by the day the conversation was opened,
    /// UTC), per queue, or per owner. First-contact resolution is in the whole report only
    /// (a call has no queue).
    pub fn team_report_by(&self, now_ms: i64, from_ms: i64, to_ms: i64, by: Period, tag: Option<&str>) -> Result<Vec<(String, Report)>> {
        let tag = tag.map(normalise_tag).transpose().map_err(|e| crate::engine::EngineError::Conversation(e.to_string()))?;
        let (_, opened) = self.conversations_report(now_ms)?;
        let mut groups: BTreeMap<String, Vec<ConversationMetrics>> = BTreeMap::new();
        for o in opened.into_iter().filter(|o| o.at_ms >= from_ms && o.at_ms < to_ms && tag.as_ref().is_none_or(|t| o.tags.contains(t))) {
            let group = match by {
                Period::Queue => o.queue,
                // Conversations nobody took are a group of their own ("").
                Period::Advisor => o.owner.unwrap_or_default(),
                period => period_of(o.at_ms, period),
            };
            groups.entry(group).or_default().push(o.metrics);
        }
        Ok(groups.into_iter().map(|(g, m)| (g, report(&m))).collect())
    }

    /// Inbound calls from the event log join the email contacts; numbers linked to an
    /// address are that customer's; the share resolved on first contact goes in `out`.
    fn add_first_contact_resolution(&self, out: &mut Report, mut contacts: Vec<Contact>, now_ms: i64) -> Result<()> {
        // Only the calls and links: read by kind, not the whole log.
        let events: Vec<blendesk_domain::activity::Activity> =
            self.store.team_activity_of(&["call", "linked"], 0, i64::MAX)?.iter().filter_map(|j| serde_json::from_str(j).ok()).collect();
        let mut links = Vec::new();
        for e in &events {
            match &e.kind {
                ActivityKind::Linked { address, number } => links.push((address.to_lowercase(), number.clone())),
                ActivityKind::Call { number: Some(number), direction, started_ms, disposition, .. }
                    if direction.as_deref() != Some("outbound") =>
                {
                    contacts.push(Contact {
                        customer: number.clone(),
                        at_ms: *started_ms,
                        resolved: *disposition == Some(Disposition::Resolved),
                    });
                }
                _ => {}
            }
        }
        let keys = customer_keys(&links);
        for c in &mut contacts {
            if let Some(k) = keys.get(&c.customer) {
                c.customer = k.clone();
            }
        }
        let fcr: Vec<bool> = first_contact_resolution(&contacts, FCR_WINDOW_MS, now_ms).into_iter().flatten().collect();
        out.fcr_contacts = fcr.len();
        out.fcr_pct = (!fcr.is_empty()).then(|| fcr.iter().filter(|ok| **ok).count() as f64 * 100.0 / fcr.len() as f64);
        Ok(())
    }

    /// Say `number` is `address`'s phone, for the whole team (the event log).
    pub fn link_phone(&self, address: &str, number: &str) -> Result<()> {
        let number = blendesk_control::normalise_number(number).map_err(crate::engine::EngineError::Conversation)?;
        if !address.contains('@') {
            return Err(crate::engine::EngineError::Conversation(format!("{address:?} is not an email address")));
        }
        self.record(ActivityKind::Linked { address: address.trim().to_lowercase(), number });
        Ok(())
    }
}
