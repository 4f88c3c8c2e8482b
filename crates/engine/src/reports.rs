//! The team's figures from the mirror (`domain::metrics`): each conversation's customer
//! messages, our replies in Sent (threaded by In-Reply-To; automatic mail skipped) and
//! the queue's SLA settings, summarised. Resolution times need the time a conversation
//! was resolved, which the mirror does not keep (only that `$Resolved` is set): a
//! conversation counts as resolved by its last reply until the event log records it.

use crate::engine::{Engine, Result};
use blendesk_domain::automation::is_automatic_message_id;
use blendesk_domain::metrics::{conversation_metrics, report, ConversationMetrics, Event, EventKind, Report};
use std::collections::{BTreeMap, HashMap};

/// A customer message after a resolution reopens it within this long.
const REOPEN_WINDOW_MS: i64 = 7 * 24 * 3_600_000;

impl Engine {
    /// The figures over every conversation in the mirror's queues, as of `now_ms`.
    pub fn team_report(&self, now_ms: i64) -> Result<Report> {
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
        let mut by_key: BTreeMap<&str, Vec<Event>> = BTreeMap::new();
        let mut queue_of: HashMap<&str, &str> = HashMap::new();
        for (h, key) in heads.iter().zip(keys.iter()) {
            let customer = queues.contains(&h.folder)
                && !h.flags.iter().any(|f| f.eq_ignore_ascii_case("\\Deleted"))
                && (internal == "@" || !h.from_addr.to_lowercase().ends_with(&internal));
            if !customer {
                continue;
            }
            queue_of.entry(key).or_insert(&h.folder);
            let events = by_key.entry(key).or_default();
            events.push(Event { at_ms: h.internal_date * 1000, kind: EventKind::Customer });
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
                conversation_metrics(events, &sla.calendar, sla.targets.first_response_minutes, REOPEN_WINDOW_MS, now_ms)
            })
            .collect();
        Ok(report(&metrics))
    }
}
