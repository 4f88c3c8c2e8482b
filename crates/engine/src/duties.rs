//! Team-wide duties: the one acknowledgement per new conversation, and the one "still
//! working on it" note per conversation whose SLA breached. Every app looks; the
//! compare-and-swap on the app's own `$bd_ack_<id>` / `$bd_late_<id>`, judged by reading
//! back (no other holder's keyword), makes exactly one of them send. The rules (RFC 3834 headers, age, known conversation, per-sender window,
//! breaker, the promise, when a note is due) are the domain's; this module reads the
//! mirror, takes the duty and queues the message.

use crate::conversation::is_open;
use crate::duty_bids::take_duty;
use crate::engine::{now_ms, Engine, EngineError, Result};
use crate::events::Event;
use crate::sla::{conversation_clocks, ConversationClock};
use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::automation::ack::{
    expected_reply_by, is_ack_flag, should_acknowledge, AckCandidate, ShiftCapacity, ACK_KEYWORD, BREAKER_MAX, BREAKER_WINDOW_MS,
};
use blendesk_domain::automation::duty::{Duty, DutyKind};
use blendesk_domain::automation::late::{should_send_still_working, LateCandidate, BREACHED_KEYWORD, LATE_KEYWORD};
use blendesk_domain::automation::template::{
    DEFAULT_ACKNOWLEDGEMENT_EN, DEFAULT_ACKNOWLEDGEMENT_ZH, DEFAULT_STILL_WORKING_EN, DEFAULT_STILL_WORKING_ZH,
};
use blendesk_domain::automation::{automatic_headers, automatic_message_id, is_automatic_message_id, render, SlaLevel};
use blendesk_domain::blending::{AdvisorState, Policy};
use blendesk_domain::claim::{owners, ClaimOutcome};
use blendesk_mail::compose::{build_automatic, Original};
use blendesk_mail::imap::{self, ImapSession};
use blendesk_store::{NewOutboxItem, QueueHead};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// At most one acknowledgement per sender within this window.
const PER_SENDER_WINDOW_MS: i64 = 24 * 3600 * 1000;
/// How long the other apps leave an acknowledgement to the app whose turn it is.
const DUTY_TURN_MS: i64 = 3_000;

/// What supervisors are shown about automatic mail and broken promises.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct AutomationAlerts {
    /// Set while the breaker holds automatic mail back (a loop or a flood).
    pub breaker: Option<BreakerAlert>,
    /// Open conversations past their SLA (or marked `$bd_breached` by the team),
    /// earliest due first.
    pub breached: Vec<ConversationClock>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct BreakerAlert {
    /// Automatic messages the team sent within the window.
    pub recent: u64,
    pub limit: u64,
    pub window_minutes: u64,
}

/// Automatic messages the team sent within the breaker window, as the mirror knows
/// them: acknowledged messages that arrived within it, or our automatic messages filed
/// in Sent within it, whichever shows more.
pub(crate) fn recent_automatic(heads: &[QueueHead], sent: &str, now: i64) -> usize {
    let within = |h: &QueueHead| now - h.internal_date * 1000 < BREAKER_WINDOW_MS;
    let acknowledged = heads.iter().filter(|h| within(h) && h.flags.iter().any(|f| is_ack_flag(f))).count();
    let filed =
        heads.iter().filter(|h| h.folder == sent && within(h) && h.message_id.as_deref().is_some_and(is_automatic_message_id)).count();
    acknowledged.max(filed)
}

impl Engine {
    /// One pass over the mirror: acknowledge every new conversation that qualifies and
    /// whose duty this app wins. Returns how many acknowledgements this app queued.
    pub async fn acknowledge_new_mail(&self, session: &mut ImapSession) -> Result<u32> {
        let all = self.heads_with_sent()?;
        let known: HashSet<&str> = all.iter().filter_map(|h| h.message_id.as_deref()).collect();
        let queue_heads: Vec<&QueueHead> = all.iter().filter(|h| self.config.imap.queues.contains(&h.folder)).collect();
        let now = self.now_ms();
        let policy = self.policy();
        let mut last_ack: HashMap<String, i64> = HashMap::new();
        for h in &queue_heads {
            if h.flags.iter().any(|f| is_ack_flag(f)) {
                let at = h.internal_date * 1000;
                let e = last_ack.entry(h.from_addr.clone()).or_insert(at);
                *e = (*e).max(at);
            }
        }
        // Which emails join a conversation already open before them (a chaser, or an
        // email merged into one): oldest first, so "before" is the mirror's order.
        let keys = self.conversation_keys_for(&all);
        let mut open_keys: HashSet<&str> = HashSet::new();
        let mut joins_open: HashSet<i64> = HashSet::new();
        for (h, key) in all.iter().zip(keys.iter()).filter(|(_, k)| !k.is_empty()) {
            if open_keys.contains(key.as_str()) {
                joins_open.insert(h.id);
            }
            if !crate::conversation::is_closed(h) {
                open_keys.insert(key);
            }
        }
        let mut recent = recent_automatic(&all, &self.config.imap.sent, now);
        let mut queued = 0;
        for h in queue_heads.iter().copied() {
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
                joins_open_conversation: joins_open.contains(&h.id),
                already_acknowledged: h.flags.iter().any(|f| is_ack_flag(f)),
                resolved: crate::conversation::is_closed(h),
            };
            if should_acknowledge(&candidate, now, last_ack.get(&h.from_addr).copied(), PER_SENDER_WINDOW_MS).is_err() {
                continue;
            }
            if recent >= BREAKER_MAX {
                self.report_breaker(recent);
                return Ok(queued);
            }
            if !self.my_turn_for_duty(h, now) {
                continue;
            }
            match self.take_duty(session, DutyKind::Ack, h).await? {
                ClaimOutcome::Won => {
                    self.store.add_flag(h.id, ACK_KEYWORD)?;
                    let capacity = self.shift_capacity(&policy, h, &queue_heads);
                    self.queue_acknowledgement(h, &policy, &capacity, now)?;
                    last_ack.insert(h.from_addr.clone(), h.internal_date * 1000);
                    recent += 1;
                    queued += 1;
                }
                ClaimOutcome::Lost { .. } => {
                    // Another app has it: remember, so this sender's window starts now too.
                    self.store.add_flag(h.id, ACK_KEYWORD)?;
                    last_ack.insert(h.from_addr.clone(), h.internal_date * 1000);
                    recent += 1;
                }
                _ => {}
            }
        }
        Ok(queued)
    }

    /// Who can answer `h` and how much is ahead of it: advisors on shift whose skills
    /// cover its queue (this app's advisor from its own state, the others from the
    /// presence board), and the unowned conversations waiting in that queue before it.
    fn shift_capacity(&self, policy: &Policy, h: &QueueHead, queue_heads: &[&QueueHead]) -> ShiftCapacity {
        let mut capacity = ShiftCapacity::default();
        let on_shift =
            |state: &str| matches!(AdvisorState::parse(state), Some(AdvisorState::Available | AdvisorState::OnCall | AdvisorState::WrapUp));
        let me = &self.config.advisor.id;
        let mut count = |id: &AdvisorId, load: u32, cap: u32| {
            if policy.skills_for(id).covers_queue(&h.folder) {
                capacity.advisors_on_shift += 1;
                capacity.free_slots += cap.saturating_sub(load);
                capacity.team_cap += cap;
            }
        };
        if on_shift(self.advisor_state().as_str()) {
            count(me, self.load().unwrap_or(0), policy.cap_for(me));
        }
        for p in self.presence_board() {
            if p.offline || p.note.advisor == me.as_str() || !on_shift(&p.note.state) {
                continue;
            }
            if let Ok(id) = AdvisorId::parse(&p.note.advisor) {
                count(&id, p.note.load, policy.cap_for(&id));
            }
        }
        let domain = format!("@{}", self.team_domain().to_lowercase());
        let customer = h.from_addr.to_lowercase();
        let waiting: HashSet<String> = queue_heads
            .iter()
            .filter(|o| o.folder == h.folder && o.internal_date <= h.internal_date && o.id != h.id)
            .filter(|o| is_open(o) && owners(&o.flags).next().is_none())
            .map(|o| o.from_addr.to_lowercase())
            .filter(|from| *from != customer && !from.ends_with(&domain))
            .collect();
        capacity.waiting_ahead = waiting.len() as u32;
        capacity
    }

    fn queue_acknowledgement(&self, h: &QueueHead, policy: &Policy, capacity: &ShiftCapacity, now: i64) -> Result<()> {
        let chinese = crate::team::language_of(&h.subject, &h.excerpt) == "zh";
        let settings = policy.sla_for(&h.folder);
        let due = expected_reply_by(
            h.internal_date * 1000,
            now,
            settings.targets.first_response_minutes,
            settings.handle_minutes,
            &settings.calendar,
            capacity,
        )
        .map(|d| {
            let local = d.with_timezone(&settings.calendar.time_zone());
            if chinese {
                local.format("%Y-%m-%d %H:%M (%Z)").to_string()
            } else {
                local.format("%a %-d %b %Y, %H:%M %Z").to_string()
            }
        })
        .unwrap_or_else(|| if chinese { "尽快".to_owned() } else { "soon".to_owned() });
        let template = if chinese { DEFAULT_ACKNOWLEDGEMENT_ZH } else { DEFAULT_ACKNOWLEDGEMENT_EN };
        let values = [("conversation.ref".to_owned(), reference(h)), ("sla.due".to_owned(), due)].into_iter().collect();
        let body = render(template, &values).map_err(|e| EngineError::Internal(e.to_string()))?;
        let id = self.queue_automatic(h, &body)?;
        self.emit(Event::Acknowledged { folder: h.folder.clone(), uid: h.uid, to: h.from_addr.clone(), outbox_id: id });
        Ok(())
    }

    /// One pass: mark every breached conversation `$bd_breached` on the server and send
    /// its one "still working on it" note if this app wins the duty. Returns how many
    /// notes this app queued.
    pub async fn note_breaches(&self, session: &mut ImapSession) -> Result<u32> {
        let heads = self.heads_with_sent()?;
        let now = self.now_ms();
        let policy = self.policy();
        let keys = self.conversation_keys_for(&heads);
        let clocks = conversation_clocks(&heads, &keys, &self.config.imap.queues, &self.team_domain(), &policy, now);
        let by_id: HashMap<i64, &QueueHead> = heads.iter().map(|h| (h.id, h)).collect();
        let mut recent = recent_automatic(&heads, &self.config.imap.sent, now);
        let mut queued = 0;
        for clock in clocks.iter().filter(|c| c.level == SlaLevel::Breached) {
            let Some(h) = by_id.get(&clock.message).copied() else { continue };
            if !clock.marked_breached && self.mark_breached(session, h).await? {
                self.emit(Event::SlaBreached {
                    folder: h.folder.clone(),
                    uid: h.uid,
                    customer: clock.customer.clone(),
                    due_ms: clock.due_ms.unwrap_or(0),
                });
            }
            let candidate =
                LateCandidate { level: clock.level, due_ms: clock.due_ms, verdict: &h.ack_decision, already_noted: clock.noted };
            if should_send_still_working(&candidate, now).is_err() {
                continue;
            }
            if recent >= BREAKER_MAX {
                self.report_breaker(recent);
                return Ok(queued);
            }
            match self.take_duty(session, DutyKind::Late, h).await? {
                ClaimOutcome::Won => {
                    self.store.add_flag(h.id, LATE_KEYWORD)?;
                    let chinese = crate::team::language_of(&h.subject, &h.excerpt) == "zh";
                    let template = if chinese { DEFAULT_STILL_WORKING_ZH } else { DEFAULT_STILL_WORKING_EN };
                    let values = [("conversation.ref".to_owned(), reference(h))].into_iter().collect();
                    let body = render(template, &values).map_err(|e| EngineError::Internal(e.to_string()))?;
                    let id = self.queue_automatic(h, &body)?;
                    self.emit(Event::StillWorkingSent { folder: h.folder.clone(), uid: h.uid, to: h.from_addr.clone(), outbox_id: id });
                    recent += 1;
                    queued += 1;
                }
                ClaimOutcome::Lost { .. } => {
                    self.store.add_flag(h.id, LATE_KEYWORD)?;
                    recent += 1;
                }
                _ => {}
            }
        }
        Ok(queued)
    }

    /// Bid for `kind` of duty on `h` in the team's duties folder (`duty_bids.rs`).
    pub(crate) async fn take_duty(&self, session: &mut ImapSession, kind: DutyKind, h: &QueueHead) -> Result<ClaimOutcome> {
        if self.coordinated_by_database() {
            return self.db_duty(kind, h).await;
        }
        let duty = Duty { kind, folder: &h.folder, uidvalidity: h.uidvalidity, uid: h.uid };
        let folder = self.config.team_folder(blendesk_domain::automation::duty::DUTIES_FOLDER);
        match take_duty(session, &folder, &duty, &self.config.advisor.id, &self.config.from_address().unwrap_or_default()).await {
            // A refusal (no rights on the folder) is not worth a reconnect: the duties are
            // left to the apps that may bid, and presence and Sent go on.
            Err(EngineError::Imap(e)) if e.is_refused() => {
                if !self.team.duties_refused.swap(true, std::sync::atomic::Ordering::Relaxed) {
                    tracing::warn!(error = %e, folder, "the server refuses this login's duty bids; acknowledgements and still-working notes are left to the other apps (grant lrsite on the folder)");
                }
                Ok(ClaimOutcome::Changed)
            }
            other => other,
        }
    }

    /// `$bd_breached` on the message whose clock breached (idempotent: a plain `+FLAGS`,
    /// any number of apps may set it). False if its folder was rebuilt (stale UID).
    async fn mark_breached(&self, session: &mut ImapSession, h: &QueueHead) -> Result<bool> {
        if self.coordinated_by_database() {
            self.db_mark(&h.folder, h.uidvalidity, h.uid, BREACHED_KEYWORD).await?;
            return Ok(true);
        }
        let selected = imap::select(session, &h.folder, true).await?;
        if selected.uidvalidity != h.uidvalidity {
            return Ok(false);
        }
        imap::store(session, h.uid, &format!("+FLAGS.SILENT ({BREACHED_KEYWORD})")).await?;
        self.store.add_flag(h.id, BREACHED_KEYWORD)?;
        Ok(true)
    }

    /// The team's duties for one pass (the surveys' are `run_surveys`).
    pub async fn run_duties(&self, session: &mut ImapSession) -> Result<()> {
        self.acknowledge_new_mail(session).await?;
        self.note_breaches(session).await?;
        Ok(())
    }

    /// Whether this app tries `h`'s acknowledgement now. Every app trying every new email
    /// at once would cost the server a losing compare-and-swap per app per email; so the
    /// online advisors take turns by UID (every app computes the same turn from the
    /// presence board), and the others step in only when the turn's app has not done it
    /// within `DUTY_TURN_MS` of this app first seeing the email (it may have just died).
    fn my_turn_for_duty(&self, h: &QueueHead, now: i64) -> bool {
        let mut online = self.online_on_board();
        let me = self.config.advisor.id.as_str();
        if !online.iter().any(|a| a == me) {
            return true; // no board yet (or not on it): nobody to share with
        }
        online.sort();
        if online[h.uid as usize % online.len()] == me {
            return true;
        }
        let mut seen = self.team.duty_seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 10_000 {
            seen.retain(|_, at| now - *at < 10 * DUTY_TURN_MS);
        }
        now - *seen.entry(h.id).or_insert(now) >= DUTY_TURN_MS
    }

    /// What supervisors must see: the breaker holding automatic mail back, and every
    /// breached conversation. From the mirror, so every app shows the same.
    pub fn automation_alerts(&self, now: i64) -> Result<AutomationAlerts> {
        let heads = self.heads_with_sent()?;
        let recent = recent_automatic(&heads, &self.config.imap.sent, now);
        let keys = self.conversation_keys_for(&heads);
        let mut breached: Vec<ConversationClock> =
            conversation_clocks(&heads, &keys, &self.config.imap.queues, &self.team_domain(), &self.policy(), now)
                .into_iter()
                .filter(|c| c.level == SlaLevel::Breached || c.marked_breached)
                .collect();
        breached.sort_by_key(|c| (c.due_ms, c.message));
        let breaker = (recent >= BREAKER_MAX).then_some(BreakerAlert {
            recent: recent as u64,
            limit: BREAKER_MAX as u64,
            window_minutes: (BREAKER_WINDOW_MS / 60_000) as u64,
        });
        Ok(AutomationAlerts { breaker, breached })
    }

    /// Build and queue one automatic message answering `h` (RFC 3834 headers, a
    /// recognisable Message-ID); it does not mark `h` answered.
    fn queue_automatic(&self, h: &QueueHead, body: &str) -> Result<i64> {
        let from_address = self.config.from_address().unwrap_or_default();
        let message_id = automatic_message_id(&format!("{:032x}", rand::random::<u128>()), &from_address);
        self.queue_automatic_as(h, body, &message_id)
    }

    /// `queue_automatic` under a Message-ID of the caller's (a survey's carries its
    /// reference).
    pub(crate) fn queue_automatic_as(&self, h: &QueueHead, body: &str, message_id: &str) -> Result<i64> {
        let from_address = self.config.from_address().unwrap_or_default();
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
        let built = build_automatic(&self.config.smtp.from, &original, body, message_id, &headers, std::time::SystemTime::now())?;
        let id = self.store.outbox_enqueue(
            &NewOutboxItem {
                message_id: built.message_id,
                sender: built.envelope_from,
                recipients: built.recipients,
                raw: built.raw,
                // Automatic mail is not an answer: the original stays unanswered.
                answers: None,
                answers_message_id: None,
            },
            now_ms(),
        )?;
        self.outbox_wake.notify_one();
        Ok(id)
    }

    /// Report the breaker once per process (the event tells supervisors).
    pub(crate) fn report_breaker(&self, recent: usize) {
        if !self.breaker_reported.swap(true, std::sync::atomic::Ordering::SeqCst) {
            self.emit(Event::BreakerTripped { acknowledgements: recent as u64, window_minutes: (BREAKER_WINDOW_MS / 60_000) as u64 });
        }
    }
}

/// The conversation's reference in our automatic mail.
fn reference(h: &QueueHead) -> String {
    format!("#{}-{}", h.uidvalidity % 10_000, h.uid)
}
