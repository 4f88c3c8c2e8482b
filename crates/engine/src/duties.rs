//! Team-wide duties: the one acknowledgement per new conversation. Every app looks; the
//! compare-and-swap on `$bd_ack_<advisor>` makes exactly one of them send it. The rules
//! (RFC 3834 headers, age, known conversation, per-sender window, breaker) are the
//! domain's; this module reads the mirror, takes the duty and queues the message.

use crate::claims::take_keyword;
use crate::engine::{now_ms, Engine, Result};
use crate::events::Event;
use blendesk_domain::automation::ack::{
    ack_keyword, default_calendar, is_ack_flag, promised_by, should_acknowledge, AckCandidate, ACK_PREFIX, BREAKER_MAX,
    BREAKER_WINDOW_MS,
};
use blendesk_domain::automation::{automatic_headers, automatic_message_id, render};
use blendesk_domain::automation::template::{DEFAULT_ACKNOWLEDGEMENT_EN, DEFAULT_ACKNOWLEDGEMENT_ZH};
use blendesk_domain::claim::ClaimOutcome;
use blendesk_mail::compose::{build_automatic, Original};
use blendesk_mail::imap::ImapSession;
use blendesk_store::{NewOutboxItem, QueueHead};
use std::collections::{HashMap, HashSet};

/// First-response target promised in acknowledgements (business minutes).
const FIRST_RESPONSE_MINUTES: i64 = 240;
/// At most one acknowledgement per sender within this window.
const PER_SENDER_WINDOW_MS: i64 = 24 * 3600 * 1000;

impl Engine {
    /// One pass over the mirror: acknowledge every new conversation that qualifies and
    /// whose duty this app wins. Returns how many acknowledgements this app queued.
    pub async fn acknowledge_new_mail(&self, session: &mut ImapSession) -> Result<u32> {
        let mut folders = self.config.imap.queues.clone();
        folders.push(self.config.imap.sent.clone());
        let all = self.store.queue_heads(&folders)?;
        let known: HashSet<&str> = all.iter().filter_map(|h| h.message_id.as_deref()).collect();
        let queue_heads: Vec<&QueueHead> = all.iter().filter(|h| self.config.imap.queues.contains(&h.folder)).collect();
        let now = now_ms();
        let mine = ack_keyword(&self.config.advisor.id);
        let mut last_ack: HashMap<String, i64> = HashMap::new();
        let mut recent_acks = 0usize;
        for h in &queue_heads {
            if h.flags.iter().any(|f| is_ack_flag(f)) {
                let at = h.internal_date * 1000;
                let e = last_ack.entry(h.from_addr.clone()).or_insert(at);
                *e = (*e).max(at);
                if now - at < BREAKER_WINDOW_MS {
                    recent_acks += 1;
                }
            }
        }
        let mut queued = 0;
        for h in queue_heads {
            let threads_to_known = h
                .references
                .iter()
                .map(String::as_str)
                .chain(h.in_reply_to.as_deref())
                .any(|r| known.contains(r) && Some(r) != h.message_id.as_deref());
            let candidate = AckCandidate {
                sender: &h.from_addr,
                received_ms: h.internal_date * 1000,
                verdict: &h.ack_decision,
                threads_to_known,
                already_acknowledged: h.flags.iter().any(|f| is_ack_flag(f)),
            };
            if should_acknowledge(&candidate, now, last_ack.get(&h.from_addr).copied(), PER_SENDER_WINDOW_MS).is_err() {
                continue;
            }
            if recent_acks >= BREAKER_MAX {
                if !self.team_breaker_reported() {
                    self.emit(Event::BreakerTripped { acknowledgements: recent_acks as u64, window_minutes: (BREAKER_WINDOW_MS / 60_000) as u64 });
                }
                return Ok(queued);
            }
            match take_keyword(session, &h.folder, h.uidvalidity, h.uid, &mine, ACK_PREFIX).await? {
                ClaimOutcome::Won => {
                    self.store.add_flag(h.id, &mine)?;
                    self.queue_acknowledgement(h)?;
                    last_ack.insert(h.from_addr.clone(), h.internal_date * 1000);
                    recent_acks += 1;
                    queued += 1;
                }
                ClaimOutcome::Lost { holder } => {
                    // Another app has it: remember, so this sender's window starts now too.
                    self.store.add_flag(h.id, &format!("{ACK_PREFIX}{holder}"))?;
                    last_ack.insert(h.from_addr.clone(), h.internal_date * 1000);
                    recent_acks += 1;
                }
                _ => {}
            }
        }
        Ok(queued)
    }

    fn queue_acknowledgement(&self, h: &QueueHead) -> Result<()> {
        let chinese = crate::team::language_of(&h.subject, &h.excerpt) == "zh";
        let due = promised_by(h.internal_date * 1000, FIRST_RESPONSE_MINUTES, &default_calendar())
            .map(|d| d.format("%a %-d %b %Y, %H:%M UTC").to_string())
            .unwrap_or_else(|| "soon".to_owned());
        let reference = format!("#{}-{}", h.uidvalidity % 10_000, h.uid);
        let values: HashMap<String, String> =
            [("conversation.ref".to_owned(), reference), ("sla.due".to_owned(), due)].into_iter().collect();
        let template = if chinese { DEFAULT_ACKNOWLEDGEMENT_ZH } else { DEFAULT_ACKNOWLEDGEMENT_EN };
        let body = render(template, &values).map_err(|e| crate::engine::EngineError::Internal(e.to_string()))?;
        let from_address = self.config.from_address().unwrap_or_default();
        let domain = from_address.rsplit('@').next().unwrap_or("blendesk.invalid").to_owned();
        let message_id = automatic_message_id(&format!("{:032x}", rand::random::<u128>()), &domain);
        let headers = automatic_headers(&from_address, h.message_id.as_deref(), h.in_reply_to.as_deref(), &h.references);
        let original = Original {
            message_id: h.message_id.clone(),
            in_reply_to: h.in_reply_to.clone(),
            references: h.references.clone(),
            subject: h.subject.clone(),
            from_addr: h.from_addr.clone(),
            from_name: h.from_name.clone(),
            text: String::new(),
            date_label: String::new(),
        };
        let built = build_automatic(&self.config.smtp.from, &original, &body, &message_id, &headers, std::time::SystemTime::now())?;
        let id = self.store.outbox_enqueue(
            &NewOutboxItem {
                message_id: built.message_id,
                sender: built.envelope_from,
                recipients: built.recipients,
                raw: built.raw,
                // An acknowledgement is not an answer: the original stays unanswered.
                answers: None,
                answers_message_id: None,
            },
            now_ms(),
        )?;
        self.emit(Event::Acknowledged { folder: h.folder.clone(), uid: h.uid, to: h.from_addr.clone(), outbox_id: id });
        self.outbox_wake.notify_one();
        Ok(())
    }

    /// Report the breaker once per process (the event tells supervisors).
    fn team_breaker_reported(&self) -> bool {
        self.breaker_reported.swap(true, std::sync::atomic::Ordering::SeqCst)
    }
}
