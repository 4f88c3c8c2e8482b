//! SLA clocks per conversation, read from the mirror: which clock runs (first or next
//! response, or none while waiting on the customer), its due time on the queue's
//! business-hours calendar and its level. The rules are the domain's
//! (`automation::conversation_sla`, `blending::sla_policy`); this module turns queue
//! messages and our Sent replies into each conversation's timeline.
//!
//! A conversation is the queue messages of one key (`crate::conversation::keys_of`: by
//! default one customer's, merged or split by hand with a `$bd_conv_` token).
//! Our reply is a non-automatic message in Sent answering one of them (In-Reply-To),
//! at its Sent time; a customer message flagged `\Answered` whose reply is not (yet) in
//! the mirror counts as answered at its own time. `$Resolved` closes the conversation.

use crate::engine::{Engine, Result};
use blendesk_domain::automation::conversation_sla::{conversation_sla, pending_clock, ClockKind, PendingClock, Step, TimelineStep};
use blendesk_domain::automation::is_automatic_message_id;
use blendesk_domain::automation::late::{is_breached_flag, is_late_flag};
use blendesk_domain::automation::SlaLevel;
use blendesk_domain::blending::{Policy, QueueSlaSettings};
use blendesk_store::QueueHead;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One conversation whose clock runs (a reply is owed).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ConversationClock {
    /// The conversation's key (`crate::conversation`).
    pub key: String,
    /// The address (lower-cased) of the customer whose message started the clock.
    pub customer: String,
    /// The queue of the message that started the clock (whose SLA settings apply).
    pub queue: String,
    /// That message (mirror id): the one a "still working on it" note answers and the
    /// breach keyword marks.
    pub message: i64,
    pub first_response: bool,
    /// When the clock started and when the reply is due, unix milliseconds (`None`: the
    /// calendar never opens).
    pub since_ms: i64,
    pub due_ms: Option<i64>,
    pub level: SlaLevel,
    /// A message of this clock (since it started) carries `$bd_breached`, set by
    /// whichever app saw the breach first.
    pub marked_breached: bool,
    /// Some message of the conversation carries a `$bd_late_` duty keyword: its note is
    /// taken care of.
    pub noted: bool,
    /// Nobody owns the conversation's open messages yet.
    pub unowned: bool,
}

fn has(flags: &[String], name: &str) -> bool {
    flags.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// The clocks of every conversation with a reply owed at `now_ms`. `heads` are the
/// queue folders' and the Sent folder's messages (`Store::queue_heads`).
pub fn conversation_clocks(
    heads: &[QueueHead],
    keys: &[String],
    queues: &[String],
    internal_domain: &str,
    policy: &Policy,
    now_ms: i64,
) -> Vec<ConversationClock> {
    let internal = format!("@{}", internal_domain.to_lowercase());
    let is_customer = |h: &QueueHead| {
        queues.contains(&h.folder)
            && !has(&h.flags, "\\Deleted")
            && (internal_domain.is_empty() || !h.from_addr.to_lowercase().ends_with(&internal))
    };
    // When each customer message was answered: the earliest human reply in Sent. A
    // logged call note (`crate::callback`) counts: a call is a response to the customer.
    let mut replied_at: HashMap<&str, i64> = HashMap::new();
    for h in heads.iter().filter(|h| !queues.contains(&h.folder)) {
        let automatic = h.message_id.as_deref().is_some_and(is_automatic_message_id);
        if let (false, Some(parent)) = (automatic, h.in_reply_to.as_deref()) {
            let at = h.internal_date * 1000;
            replied_at.entry(parent).and_modify(|t| *t = (*t).min(at)).or_insert(at);
        }
    }
    let mut by_key: BTreeMap<&str, Vec<&QueueHead>> = BTreeMap::new();
    for (h, key) in heads.iter().zip(keys.iter()).filter(|(h, _)| is_customer(h)) {
        by_key.entry(key).or_default().push(h);
    }
    let mut settings: HashMap<&str, QueueSlaSettings> = HashMap::new();
    let mut clocks = Vec::new();
    for (key, messages) in by_key {
        let mut steps = Vec::with_capacity(messages.len() * 2);
        let mut closed_at = i64::MIN;
        for m in &messages {
            let at = m.internal_date * 1000;
            steps.push(TimelineStep { at_ms: at, step: Step::CustomerWrote });
            let reply = m.message_id.as_deref().and_then(|id| replied_at.get(id).copied());
            match reply {
                Some(t) => steps.push(TimelineStep { at_ms: t.max(at), step: Step::TeamReplied }),
                None if has(&m.flags, "\\Answered") => steps.push(TimelineStep { at_ms: at, step: Step::TeamReplied }),
                None => {}
            }
            if has(&m.flags, blendesk_domain::keywords::RESOLVED_KEYWORD) {
                steps.push(TimelineStep { at_ms: at, step: Step::Resolved });
                closed_at = closed_at.max(at);
            }
        }
        // The message that started the clock decides the queue, hence the settings.
        let PendingClock::Running { since_ms: start, .. } = pending_clock(&steps) else { continue };
        // Of the customer's messages in that second, an unanswered one started it.
        let Some(first) = messages.iter().filter(|m| m.internal_date * 1000 == start).min_by_key(|m| has(&m.flags, "\\Answered")) else {
            continue;
        };
        let queue_settings = settings.entry(first.folder.as_str()).or_insert_with(|| policy.sla_for(&first.folder));
        let Some(sla) = conversation_sla(&steps, now_ms, &queue_settings.targets, &queue_settings.calendar) else { continue };
        let current: Vec<&&QueueHead> = messages.iter().filter(|m| m.internal_date * 1000 > closed_at).collect();
        clocks.push(ConversationClock {
            key: key.to_owned(),
            customer: first.from_addr.to_lowercase(),
            queue: first.folder.clone(),
            message: first.id,
            first_response: sla.kind == ClockKind::FirstResponse,
            since_ms: sla.since_ms,
            due_ms: sla.due_ms,
            level: sla.level,
            marked_breached: current.iter().any(|m| m.internal_date * 1000 >= sla.since_ms && m.flags.iter().any(|f| is_breached_flag(f))),
            noted: current.iter().any(|m| m.flags.iter().any(|f| is_late_flag(f))),
            unowned: !current.iter().any(|m| blendesk_domain::claim::owners(&m.flags).next().is_some()),
        });
    }
    clocks
}

impl Engine {
    pub(crate) fn team_domain(&self) -> String {
        self.config.from_address().and_then(|a| a.split_once('@').map(|(_, d)| d.to_owned())).unwrap_or_default()
    }

    /// The queue and Sent heads the clocks are computed from.
    pub(crate) fn heads_with_sent(&self) -> Result<std::sync::Arc<Vec<QueueHead>>> {
        let mut folders = self.config.imap.queues.clone();
        folders.push(self.config.imap.sent.clone());
        Ok(self.store.queue_heads(&folders)?)
    }

    /// When the reply in conversation `key` is due (unix milliseconds), for `{{sla.due}}`
    /// in a reply: its running clock's due time, or, when none runs (waiting on the
    /// customer), a first response to a message received at `received_ms` in `queue`.
    pub fn reply_due_ms(&self, key: &str, queue: &str, received_ms: i64) -> Result<Option<i64>> {
        let key = key.to_lowercase();
        if let Some(clock) = self.sla_clocks(self.now_ms())?.into_iter().find(|c| c.key == key) {
            return Ok(clock.due_ms);
        }
        let settings = self.policy().sla_for(queue);
        Ok(blendesk_domain::automation::ack::promised_by(received_ms, settings.targets.first_response_minutes, &settings.calendar)
            .map(|d| d.timestamp_millis()))
    }

    /// Every conversation with a reply owed, with its clock, at `now_ms`.
    pub fn sla_clocks(&self, now_ms: i64) -> Result<Vec<ConversationClock>> {
        let heads = self.heads_with_sent()?;
        let keys = self.conversation_keys_for(&heads);
        Ok(conversation_clocks(&heads, &keys, &self.config.imap.queues, &self.team_domain(), &self.policy(), now_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3600;

    fn head(id: i64, folder: &str, from: &str, at: i64, flags: &[&str]) -> QueueHead {
        QueueHead {
            id,
            folder: folder.into(),
            uidvalidity: 1,
            uid: id as u32,
            message_id: Some(format!("m{id}@x")),
            in_reply_to: None,
            references: vec![],
            subject: format!("s{id}"),
            from_addr: from.into(),
            internal_date: at,
            flags: flags.iter().map(|f| f.to_string()).collect(),
            excerpt: String::new(),
            ack_decision: "acknowledge".into(),
            from_name: String::new(),
        }
    }

    fn reply(id: i64, to: i64, at: i64, automatic: bool) -> QueueHead {
        let mut h = head(id, "Sent", "support@shop.test", at, &[]);
        h.in_reply_to = Some(format!("m{to}@x"));
        if automatic {
            h.message_id = Some(format!("blendesk-auto.{id}@shop.test"));
        }
        h
    }

    /// Always open, so due times are plain arithmetic: first response 4 h, next 2 h.
    fn policy() -> Policy {
        let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map(|d| format!(r#""{d}":["00:00-24:00"]"#)).join(",");
        let json = format!(
            r#"{{"version":1,"sla":{{"default":{{"first_response_minutes":240,"next_response_minutes":120,"at_risk_minutes":30,
               "calendar":{{"time_zone":"UTC","hours":{{{days}}}}}}}}}}}"#
        );
        Policy::parse(json.as_bytes()).expect("valid")
    }

    fn clocks(heads: &[QueueHead], now: i64) -> BTreeMap<String, ConversationClock> {
        let queues = vec!["INBOX".to_owned()];
        let keys = crate::conversation::keys_of(heads, &queues);
        conversation_clocks(heads, &keys, &queues, "shop.test", &policy(), now * 1000).into_iter().map(|c| (c.key.clone(), c)).collect()
    }

    #[test]
    fn clocks_from_queue_messages_and_sent_replies() {
        let t0 = 1_790_000_000; // a Wednesday in 2026; the calendar is always open anyway
        let heads = vec![
            // a: two messages, no reply → first response from the first.
            head(1, "INBOX", "A@x", t0, &[]),
            head(2, "INBOX", "a@x", t0 + H, &[]),
            // b: answered at t0+1h (Sent), wrote again at t0+5h → next response (2 h);
            // the first clock's breach mark is not this clock's.
            head(3, "INBOX", "b@x", t0, &["\\Answered", "$bd_breached"]),
            reply(4, 3, t0 + H, false),
            head(5, "INBOX", "b@x", t0 + 5 * H, &["$bd_late_bob"]),
            // c: answered (flag only, reply not mirrored yet) → waiting on the customer.
            head(6, "INBOX", "c@x", t0, &["\\Answered"]),
            // d: only an automatic message went out → still a first response.
            head(7, "INBOX", "d@x", t0, &["$bd_ack_alice", "$bd_breached"]),
            reply(8, 7, t0 + 60, true),
            // e: resolved, then a new message → a new conversation; the old note and
            // breach marks do not carry over.
            head(9, "INBOX", "e@x", t0, &["$Resolved", "$bd_late_dan", "$bd_breached"]),
            head(10, "INBOX", "e@x", t0 + 2 * H, &["$bd_owner_carol"]),
            // our own team's mail and other folders are not customers.
            head(11, "INBOX", "colleague@shop.test", t0, &[]),
            head(12, "Archive", "f@x", t0, &[]),
        ];
        let c = clocks(&heads, t0 + 4 * H);
        assert_eq!(c.keys().collect::<Vec<_>>(), ["a@x", "b@x", "d@x", "e@x"]);
        let a = &c["a@x"];
        assert_eq!((a.message, a.first_response, a.due_ms, a.level), (1, true, Some((t0 + 4 * H) * 1000), SlaLevel::Breached));
        assert!(a.unowned && !a.noted && !a.marked_breached);
        let b = &c["b@x"];
        assert!(!b.first_response && b.noted && !b.marked_breached);
        assert_eq!((b.message, b.since_ms, b.due_ms), (5, (t0 + 5 * H) * 1000, Some((t0 + 7 * H) * 1000)));
        let d = &c["d@x"];
        assert!(d.first_response && d.marked_breached);
        let e = &c["e@x"];
        assert_eq!((e.message, e.first_response, e.noted, e.marked_breached, e.unowned), (10, true, false, false, false));
        assert_eq!(e.level, SlaLevel::Ok, "2 of 4 hours used");
        assert_eq!(clocks(&heads, t0 + 5 * H + 30 * 60)["e@x"].level, SlaLevel::AtRisk);
    }

    #[test]
    fn a_merged_conversation_has_one_clock_and_a_split_one_two() {
        let t0 = 1_790_000_000;
        // a@x and b@x merged (one token); a chaser from b@x without a token joins it.
        let merged = vec![
            head(1, "INBOX", "a@x", t0, &["$bd_conv_tok00001"]),
            head(2, "INBOX", "b@x", t0 + H, &["$bd_conv_tok00001"]),
            head(3, "INBOX", "b@x", t0 + 2 * H, &[]),
        ];
        let c = clocks(&merged, t0 + 3 * H);
        assert_eq!(c.keys().collect::<Vec<_>>(), ["tok00001"]);
        let one = &c["tok00001"];
        assert_eq!(
            (one.message, one.customer.as_str(), one.due_ms),
            (1, "a@x", Some((t0 + 4 * H) * 1000)),
            "from the first message of either customer"
        );
        // Split: b@x's emails have their own token, so their own clock.
        let mut split = merged.clone();
        split[1].flags = vec!["$bd_conv_tok00002".into()];
        let c = clocks(&split, t0 + 3 * H);
        assert_eq!(c.keys().collect::<Vec<_>>(), ["tok00001", "tok00002"]);
        assert_eq!((c["tok00002"].message, c["tok00002"].customer.as_str()), (2, "b@x"));
    }
}
