//! Queueing replies and the worker that sends them.
//!
//! Order of events for one reply: built once → stored with its final bytes and
//! Message-ID (synchronous=FULL) → attempt counted → SMTP → sent / retry later / failed
//! → copy APPENDed to Sent unless one with that Message-ID is already there → the
//! original flagged \Answered, after re-checking UIDVALIDITY.

use crate::engine::{now_ms, Engine, EngineError, Result};
use crate::events::Event;
use blendesk_domain::backoff::outbox_retry_delay;
use blendesk_domain::outbox::{after_attempt, AfterAttempt};
use blendesk_mail::compose::{build_reply, Original};
use blendesk_mail::imap;
use blendesk_store::{NewOutboxItem, OutboxItem};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Default, Clone, Serialize)]
pub struct OutboxReport {
    pub attempted: u64,
    pub sent: u64,
    pub retrying: u64,
    pub failed: u64,
    pub filed_in_sent: u64,
    pub flagged_answered: u64,
}

impl Engine {
    /// Build a reply to mirrored message `message` and store it in the outbox.
    /// Returns the outbox id. Nothing is sent here; the worker picks it up.
    /// Refused while email is paused (a call, wrap-up) and for an empty reply.
    pub fn queue_reply(&self, message: i64, body: &str) -> Result<i64> {
        self.queue_timed_reply(message, body, None)
    }

    /// `queue_reply`, with the time the advisor spent on it (the window measures it: the
    /// conversation open in front of them, calls and breaks left out), for the team's
    /// handle-time figures.
    pub fn queue_timed_reply(&self, message: i64, body: &str, handle_ms: Option<i64>) -> Result<i64> {
        self.queue_window_reply(message, body, handle_ms, None)
    }

    /// `queue_timed_reply`, and whether the advisor started from a template, an article
    /// or a similar email (`assisted`), for the reviewers' automatic checks.
    pub fn queue_window_reply(&self, message: i64, body: &str, handle_ms: Option<i64>, assisted: Option<bool>) -> Result<i64> {
        self.refuse_while_paused()?;
        if body.trim().is_empty() {
            return Err(EngineError::EmptyReply);
        }
        // A template's placeholder left unfilled blocks sending, with every name listed.
        let body = &crate::templates::final_reply_body(body)?;
        let m = self.store.message(message)?.ok_or(EngineError::NoSuchMessage(message))?;
        let original = Original {
            message_id: m.message_id.clone(),
            in_reply_to: m.in_reply_to.clone(),
            references: m.references.clone(),
            subject: m.subject.clone(),
            from_addr: m.from_addr.clone(),
            from_name: m.from_name.clone(),
            text: m.body_text.clone(),
            date_label: date_label(m.sent_at.unwrap_or(m.internal_date)),
        };
        let message_id = self.mint_message_id("");
        let built = build_reply(&self.config.smtp.from, &original, body, &message_id, std::time::SystemTime::now())?;
        let id = self.store.outbox_enqueue(
            &NewOutboxItem {
                message_id: built.message_id,
                sender: built.envelope_from,
                recipients: built.recipients,
                raw: built.raw,
                answers: Some((m.folder.clone(), m.uidvalidity, m.uid)),
                answers_message_id: m.message_id.clone(),
            },
            now_ms(),
        )?;
        self.emit(Event::Outbox { id, state: "queued".into(), error: None });
        let conversation = self.conversation_keys().ok().and_then(|k| k.get(&m.id).cloned()).unwrap_or_else(|| m.from_addr.to_lowercase());
        self.record(blendesk_domain::activity::ActivityKind::Replied {
            message_id: m.message_id.clone(),
            conversation,
            handle_ms,
            assisted,
        });
        self.outbox_wake.notify_one();
        Ok(id)
    }

    /// One pass: attempt every due reply, then file sent ones in Sent and flag originals.
    pub async fn process_outbox(self: &Arc<Self>) -> Result<OutboxReport> {
        let mut report = OutboxReport::default();
        let due = self.store.outbox_due(now_ms())?;
        if !due.is_empty() {
            let submitter = self.smtp_submitter().await?;
            for item in due {
                if self.is_stopping() {
                    break;
                }
                report.attempted += 1;
                let attempts = self.store.outbox_begin_attempt(item.id)?;
                let outcome = submitter.send(&item.sender, &item.recipients, &item.raw).await;
                match after_attempt(&outcome, attempts) {
                    AfterAttempt::MarkSent => {
                        self.store.outbox_mark_sent(item.id, now_ms())?;
                        report.sent += 1;
                        self.emit(Event::Outbox { id: item.id, state: "sent".into(), error: None });
                    }
                    AfterAttempt::RetryLater => {
                        let reason = match &outcome {
                            blendesk_domain::transport::SmtpOutcome::Temporary { reason } => reason.clone(),
                            _ => String::new(),
                        };
                        let delay = outbox_retry_delay(attempts, rand::random::<f64>());
                        self.store.outbox_retry_later(item.id, now_ms() + delay.as_millis() as i64, &reason)?;
                        report.retrying += 1;
                        self.emit(Event::Outbox { id: item.id, state: "queued".into(), error: Some(reason) });
                    }
                    AfterAttempt::MarkFailed { reason } => {
                        self.store.outbox_mark_failed(item.id, &reason)?;
                        report.failed += 1;
                        self.emit(Event::Outbox { id: item.id, state: "failed".into(), error: Some(reason) });
                    }
                }
            }
        }
        let follow_ups = self.store.outbox_follow_ups()?;
        if !follow_ups.is_empty() {
            self.file_and_flag(&follow_ups, &mut report).await?;
        }
        Ok(report)
    }

    async fn file_and_flag(self: &Arc<Self>, items: &[OutboxItem], report: &mut OutboxReport) -> Result<()> {
        let sent = self.config.imap.sent.clone();
        let condstore = self
            .with_session(async |c| {
                let condstore = c.has("CONDSTORE");
                imap::create_folder(&mut c.session, &sent).await?;
                imap::select(&mut c.session, &sent, condstore).await?;
                for item in items.iter().filter(|i| !i.appended_to_sent) {
                    // Idempotent: a crash between APPEND and recording it must not file twice,
                    // and some providers file submitted mail themselves.
                    if imap::search_message_id(&mut c.session, &item.message_id).await?.is_empty() {
                        imap::append(&mut c.session, &sent, "(\\Seen)", &item.raw).await?;
                    }
                    self.store.outbox_mark_appended(item.id)?;
                    report.filed_in_sent += 1;
                }
                for item in items.iter().filter(|i| !i.flagged_answered) {
                    let Some((folder, uidvalidity, uid)) = &item.answers else { continue };
                    let selected = imap::select(&mut c.session, folder, condstore).await?;
                    // Never act on a stale UID: if the folder was recreated, find the original
                    // again by its Message-ID, or leave it unflagged.
                    let target = if selected.uidvalidity == *uidvalidity {
                        Some(*uid)
                    } else if let Some(mid) = &item.answers_message_id {
                        imap::search_message_id(&mut c.session, mid).await?.into_iter().min()
                    } else {
                        None
                    };
                    if let Some(uid) = target {
                        match imap::store(&mut c.session, uid, "+FLAGS.SILENT (\\Answered)").await {
                            Ok(()) => report.flagged_answered += 1,
                            // The reply went; a login that may not write flags there
                            // leaves the original unflagged (asking again would not help).
                            Err(e) if e.is_refused() => {
                                tracing::warn!(error = %e, folder, uid, "the server refused \\Answered on the answered email")
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                    self.store.outbox_mark_flagged(item.id)?;
                }
                Ok(condstore)
            })
            .await?;
        // Mirror the filed copies now rather than at the next sync.
        self.with_session(async |c| self.sync_folder(&mut c.session, &sent, condstore).await).await?;
        Ok(())
    }

    /// Process until nothing is queued or sending (waiting for retries), or `max_wait`.
    pub async fn flush_outbox(self: &Arc<Self>, max_wait: Duration) -> Result<OutboxReport> {
        let deadline = tokio::time::Instant::now() + max_wait;
        let mut total = OutboxReport::default();
        loop {
            let r = self.process_outbox().await?;
            total.attempted += r.attempted;
            total.sent += r.sent;
            total.failed += r.failed;
            total.filed_in_sent += r.filed_in_sent;
            total.flagged_answered += r.flagged_answered;
            let Some(next) = self.store.outbox_next_due()? else {
                total.retrying = 0;
                return Ok(total);
            };
            total.retrying = r.retrying;
            let wait = Duration::from_millis((next - now_ms()).max(0) as u64);
            if tokio::time::Instant::now() + wait > deadline {
                return Ok(total);
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// The outbox worker: runs until shutdown, woken by new replies and due retries.
    pub async fn run_outbox(self: &Arc<Self>) {
        let mut failures = 0u32;
        while !self.is_stopping() {
            let wait = match self.process_outbox().await {
                Ok(_) => {
                    failures = 0;
                    match self.store.outbox_next_due() {
                        Ok(Some(next)) => Duration::from_millis((next - now_ms()).clamp(0, 60_000) as u64),
                        _ => Duration::from_secs(60),
                    }
                }
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %e, "outbox pass failed");
                    blendesk_domain::backoff::reconnect_delay(failures, rand::random::<f64>())
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.outbox_wake.notified() => {}
                _ = self.stopped() => return,
            }
        }
    }
}

fn date_label(unix_seconds_or_ms: i64) -> String {
    // internal_date and sent_at are unix seconds.
    time::OffsetDateTime::from_unix_timestamp(unix_seconds_or_ms)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc2822).ok())
        .unwrap_or_else(|| "an earlier date".to_owned())
}
