//! Hand back on long calls (policy switch `hand_back`): an email its owner claimed and
//! has not answered goes back to the queue once their call has lasted so long that the
//! promise would break (`blending::pacing::should_hand_back`). The owner's unfinished
//! reply travels with it through the mailbox (`Blendesk/Drafts`, `domain::draft`), and
//! the owner is told why after the call (`notices`, held while on the call).
//!
//! Drafts live here too: the advisor's unfinished reply per conversation is kept in the
//! store (it lived only in the window before), so it survives a restart and can travel.

use crate::claims::swap_owner;
use crate::conversation::{is_open, open_conversations_of};
use crate::engine::{Engine, Result};
use crate::events::{Event, Notice};
use blendesk_domain::blending::pacing::should_hand_back;
use blendesk_domain::blending::AdvisorState;
use blendesk_domain::claim::{owner_keyword, ClaimOutcome};
use blendesk_domain::draft::{check_text, draft_headers};
use blendesk_mail::imap::ImapSession;
use blendesk_store::QueueHead;
use serde::Serialize;

/// The drafts folder's leaf under `imap.team_folders` (`Blendesk/Drafts`).
pub const DRAFTS_FOLDER: &str = "Drafts";

/// The draft the composer starts from for a conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Draft {
    pub text: String,
    /// Set when the text is a colleague's, handed over with the email (their id).
    pub handed_by: Option<String>,
}

/// One of my conversations due to go back to the queue.
#[derive(Debug, Clone)]
pub struct HandBack {
    pub key: String,
    pub customer: String,
    pub subject: String,
    pub due_ms: i64,
    /// Its open emails that carry my owner keyword.
    pub emails: Vec<QueueHead>,
}

/// `<id>` whichever way the mirror spelled it.
fn bracketed(message_id: &str) -> String {
    format!("<{}>", message_id.trim().trim_start_matches('<').trim_end_matches('>'))
}

impl Engine {
    /// The advisor's draft for conversation `key`: their own if they kept one, else one
    /// a colleague handed over with any of its open emails, else empty.
    pub fn draft_for(&self, key: &str) -> Result<Draft> {
        if let Some(text) = self.store.draft(key)? {
            return Ok(Draft { text, handed_by: None });
        }
        let heads = self.store.queue_heads(&self.config.imap.queues)?;
        let keys = self.conversation_keys_for(&heads);
        let ids: Vec<String> = heads
            .iter()
            .zip(keys.iter())
            .filter(|(h, k)| is_open(h) && (k.as_str() == key || h.from_addr.eq_ignore_ascii_case(key)))
            .filter_map(|(h, _)| h.message_id.as_deref().map(bracketed))
            .collect();
        Ok(match self.store.handed_draft(DRAFTS_FOLDER, &ids)? {
            Some(d) => Draft { text: d.text, handed_by: Some(d.author) },
            None => Draft::default(),
        })
    }

    /// Keep the advisor's draft for conversation `key` (blank text removes it).
    pub fn save_draft(&self, key: &str, text: &str) -> Result<()> {
        Ok(self.store.save_draft(key, text, self.now_ms())?)
    }

    /// My conversations that should go back to the queue now: the policy's switch is on,
    /// I am on a call, and by `should_hand_back` waiting out the call would miss the
    /// reply's due time. Never one with a reply in the outbox.
    pub fn hand_back_due(&self, now_ms: i64) -> Result<Vec<HandBack>> {
        let policy = self.policy();
        let presence = self.team.presence.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if !policy.hand_back || presence.state() != AdvisorState::OnCall {
            return Ok(Vec::new());
        }
        let on_call_ms = now_ms.saturating_sub(presence.since_ms()).max(0);
        let heads = self.heads_with_sent()?;
        let keys = self.conversation_keys_for(&heads);
        let mine = owner_keyword(&self.config.advisor.id);
        let my_open = open_conversations_of(&heads, &keys, &mine);
        if my_open.is_empty() {
            return Ok(Vec::new());
        }
        let answering = self.store.outbox_answering()?;
        let clocks = crate::sla::conversation_clocks(&heads, &keys, &self.config.imap.queues, &self.team_domain(), &policy, now_ms);
        let mut due = Vec::new();
        for clock in clocks.into_iter().filter(|c| my_open.contains(&c.key)) {
            let emails: Vec<QueueHead> = heads
                .iter()
                .zip(keys.iter())
                .filter(|(h, k)| **k == clock.key && is_open(h) && h.flags.iter().any(|f| f.eq_ignore_ascii_case(&mine)))
                .map(|(h, _)| h.clone())
                .collect();
            let reply_queued =
                emails.iter().any(|h| h.message_id.as_deref().is_some_and(|m| answering.contains(m) || answering.contains(&bracketed(m))));
            let remaining_ms = policy.sla_for(&clock.queue).handle_minutes * 60_000;
            if !should_hand_back(now_ms, on_call_ms, policy.wrap_up_ms(), remaining_ms, clock.due_ms, reply_queued) {
                continue;
            }
            let (Some(due_ms), Some(newest)) = (clock.due_ms, emails.iter().max_by_key(|h| (h.internal_date, h.id))) else { continue };
            due.push(HandBack {
                key: clock.key.clone(),
                customer: newest.from_addr.clone(),
                subject: newest.subject.clone(),
                due_ms,
                emails: emails.clone(),
            });
        }
        Ok(due)
    }

    /// Hand back what is due (the claim loop calls this on every pass during a call).
    /// The draft goes first, so whoever takes the email finds it; then each email loses
    /// my owner keyword by the claim's compare-and-swap (no `$bd_declined_` mark: if
    /// nobody else takes it, it may come back to me after the call). Returns true when
    /// something went back.
    /// `session`: the mailbox's, None when the team's database coordinates.
    pub(crate) async fn hand_back_pass(&self, mut session: Option<&mut ImapSession>) -> Result<bool> {
        let now = self.now_ms();
        let due = self.hand_back_due(now)?;
        let mine = owner_keyword(&self.config.advisor.id);
        let mut any = false;
        for back in due {
            let draft_sent = self.hand_over_draft(&back).await;
            let mut moved = 0;
            for h in &back.emails {
                let outcome = match session.as_deref_mut() {
                    Some(session) => swap_owner(session, &h.folder, h.uidvalidity, h.uid, &mine, None).await?,
                    None => self.db_move(h, &mine, None, false).await?,
                };
                if let ClaimOutcome::Won = outcome {
                    self.store.remove_flag(h.id, &mine)?;
                    moved += 1;
                }
            }
            if moved == 0 {
                continue;
            }
            any = true;
            if draft_sent {
                // The mailbox has it now; a stale local copy would shadow a colleague's reply.
                self.store.save_draft(&back.key, "", now)?;
            }
            tracing::info!(key = %back.key, moved, draft_sent, "handed back during a long call");
            self.record(blendesk_domain::activity::ActivityKind::HandedBack { conversation: back.key.clone() });
            let notice = {
                let mut notices = self.team.notices.lock().unwrap_or_else(|p| p.into_inner());
                let id = notices.iter().map(|n| n.id).max().unwrap_or(0) + 1;
                let n = Notice {
                    id,
                    kind: "handed_back".into(),
                    key: back.key.clone(),
                    customer: back.customer.clone(),
                    subject: back.subject.clone(),
                    due_at_ms: back.due_ms,
                    draft_sent,
                    at_ms: now,
                };
                notices.push(n.clone());
                n
            };
            self.emit(Event::HandedBack { notice });
        }
        Ok(any)
    }

    /// Append my draft of `back` to `Blendesk/Drafts`; false when there is none or it
    /// could not be written (then it stays here, and the email goes back without it).
    async fn hand_over_draft(&self, back: &HandBack) -> bool {
        let Ok(Some(text)) = self.store.draft(&back.key) else { return false };
        let Some(newest) = back.emails.iter().filter(|h| h.message_id.is_some()).max_by_key(|h| (h.internal_date, h.id)) else {
            return false;
        };
        let for_id = bracketed(newest.message_id.as_deref().unwrap_or_default());
        let headers = match check_text(&text).and_then(|()| draft_headers(&for_id)) {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(key = %back.key, error = %e, "draft not handed over");
                return false;
            }
        };
        let subject = format!("Draft: {}", back.subject);
        match self.append_doc(DRAFTS_FOLDER, &subject, &headers, &text).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(key = %back.key, error = %e, "draft not handed over; the email goes back without it");
                false
            }
        }
    }

    /// What the advisor should know from while they could not look; held while they are
    /// on a call (shown in wrap-up and after).
    pub fn notices(&self) -> Vec<Notice> {
        if self.advisor_state() == AdvisorState::OnCall {
            return Vec::new();
        }
        self.team.notices.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn dismiss_notice(&self, id: u32) {
        self.team.notices.lock().unwrap_or_else(|p| p.into_inner()).retain(|n| n.id != id);
    }
}
