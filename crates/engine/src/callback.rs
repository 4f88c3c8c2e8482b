//! "Pick up the phone": the call suggestion for a conversation, and call notes.
//!
//! The suggestion applies the policy in force (`callback`, see
//! `blending::callback_policy`) to the conversation's history, oldest first: the
//! customer's queue messages since their conversation was last resolved (as the SLA
//! clocks see a conversation) and the team's non-automatic replies to them in Sent. The
//! number is looked for in that conversation first, then in the customer's earlier mail
//! (under any of their known addresses, `history.rs`). Work is bounded whatever the
//! customer writes: at most [`MAX_MESSAGES`] messages of [`MAX_TEXT_BYTES`] each.
//!
//! A call note is a small message APPENDed to the team's Sent folder (From the team, To
//! the customer, threaded on the conversation's latest message, `X-Blendesk-Note: call`,
//! a `blendesk-note.` Message-ID, keyword `$bd_note`, `\Seen`), so every advisor's app
//! sees it in the thread after its next sync. It never goes through the outbox, so it is
//! never submitted by SMTP and never flags the customer's message `\Answered`.
//!
//! Decision: a logged call counts as the team's response for the SLA clocks (`sla.rs`
//! counts every non-automatic message in Sent answering a customer message). A call *is*
//! a response to the customer: the clock stops, waiting on the customer, and no
//! "still working on it" note goes out for a conversation someone just phoned. The
//! conversation stays open for the advisor (no `\Answered`) until they reply or resolve
//! it. A call note is not an email exchange, and once a call is logged after the
//! customer's latest message, no call is suggested until the customer writes again.

use crate::engine::{Engine, EngineError, Result};
use blendesk_domain::automation::callback::{customer_phone, suggest_call, Author, CallReason, HistoryMessage};
use blendesk_domain::automation::is_automatic_message_id;
use blendesk_mail::compose::{build_automatic, Original};
use blendesk_mail::imap;
use blendesk_store::QueueHead;
use serde::Serialize;
use std::collections::HashSet;
use std::sync::Arc;

/// Conversation messages considered (the newest).
pub const MAX_MESSAGES: usize = 100;
/// Earlier customer messages searched for a number.
pub const MAX_EARLIER: usize = 30;
/// Text read from one message.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// Characters in one call note.
pub const MAX_NOTE_CHARS: usize = 10_000;
/// The header and keyword that mark a call note; its Message-ID prefix.
pub const NOTE_HEADER: &str = "X-Blendesk-Note";
pub const NOTE_KEYWORD: &str = "$bd_note";
pub const NOTE_ID_PREFIX: &str = "blendesk-note.";

/// Whether a mirrored message is a call note (by Message-ID, or by keyword).
pub fn is_call_note(message_id: Option<&str>, flags: &[String]) -> bool {
    message_id.is_some_and(|m| m.starts_with(NOTE_ID_PREFIX)) || flags.iter().any(|f| f.eq_ignore_ascii_case(NOTE_KEYWORD))
}

/// Why a call is suggested, for the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CallReasonView {
    Exchanges { count: u32 },
    Frustration { word: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct PhoneView {
    /// As the customer wrote it.
    pub written: String,
    pub e164: String,
    /// `tel:+…` for the softphone.
    pub tel: String,
}

/// A call suggestion for one conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CallSuggestionView {
    /// The customer's address.
    pub customer: String,
    pub reasons: Vec<CallReasonView>,
    pub phone: Option<PhoneView>,
}

fn bounded(text: &str) -> &str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn has(flags: &[String], name: &str) -> bool {
    flags.iter().any(|f| f.eq_ignore_ascii_case(name))
}

/// The conversation `key` (`crate::conversation`; the customer's address unless merged
/// or split) containing the message at `at` (unix seconds, mirror id): its queue
/// messages after the last `$Resolved` one before it, oldest first, with the team's Sent
/// messages that answer them. Returns (customer's, ours).
fn conversation<'a>(
    heads: &'a [QueueHead],
    keys: &[String],
    queues: &[String],
    key: &str,
    at: (i64, i64),
) -> (Vec<&'a QueueHead>, Vec<&'a QueueHead>) {
    let members: HashSet<i64> = heads.iter().zip(keys).filter(|(_, k)| k.as_str() == key).map(|(h, _)| h.id).collect();
    let mine = |h: &&QueueHead| members.contains(&h.id) && !has(&h.flags, "\\Deleted");
    let boundary = heads
        .iter()
        .filter(mine)
        .filter(|h| has(&h.flags, blendesk_domain::keywords::RESOLVED_KEYWORD))
        .map(|h| (h.internal_date, h.id))
        .filter(|k| *k < at)
        .max()
        .unwrap_or((i64::MIN, i64::MIN));
    let mut customer_msgs: Vec<&QueueHead> = heads.iter().filter(mine).filter(|h| (h.internal_date, h.id) > boundary).collect();
    customer_msgs.sort_by_key(|h| (h.internal_date, h.id));
    let ids: HashSet<&str> = customer_msgs.iter().filter_map(|h| h.message_id.as_deref()).collect();
    let mut ours: Vec<&QueueHead> = heads
        .iter()
        .filter(|h| !queues.contains(&h.folder) && !has(&h.flags, "\\Deleted"))
        .filter(|h| h.in_reply_to.as_deref().is_some_and(|r| ids.contains(r)) || h.references.iter().any(|r| ids.contains(r.as_str())))
        .collect();
    ours.sort_by_key(|h| (h.internal_date, h.id));
    (customer_msgs, ours)
}

impl Engine {
    /// The customer a message is about: its sender, or for the team's own message its
    /// first recipient.
    fn customer_of(&self, m: &blendesk_store::StoredMessage) -> String {
        let domain = self.team_domain().to_lowercase();
        let ours = m.folder == self.config.imap.sent || (!domain.is_empty() && m.from_addr.to_lowercase().ends_with(&format!("@{domain}")));
        if ours {
            m.to.first().cloned().unwrap_or_default().to_lowercase()
        } else {
            m.from_addr.to_lowercase()
        }
    }

    /// The conversation key of message `id` (a queue message), else `customer`'s.
    fn key_of_message(heads: &[QueueHead], keys: &[String], id: i64, customer: &str) -> String {
        heads.iter().zip(keys).find(|(h, k)| h.id == id && !k.is_empty()).map_or_else(|| customer.to_owned(), |(_, k)| k.clone())
    }

    fn text_of(&self, id: i64) -> Result<String> {
        Ok(self.store.message(id)?.map(|m| bounded(&m.body_text).to_owned()).unwrap_or_default())
    }

    /// Whether to suggest a call for `message`'s conversation, why, and the number.
    pub fn call_suggestion(&self, message: i64) -> Result<Option<CallSuggestionView>> {
        let m = self.store.message(message)?.ok_or(EngineError::NoSuchMessage(message))?;
        let customer = self.customer_of(&m);
        if customer.is_empty() {
            return Ok(None);
        }
        let heads = self.heads_with_sent()?;
        let keys = self.conversation_keys_for(&heads);
        let queues = &self.config.imap.queues;
        let key = Self::key_of_message(&heads, &keys, m.id, &customer);
        let (customer_msgs, ours) = conversation(&heads, &keys, queues, &key, (m.internal_date, m.id));
        let Some(latest) = customer_msgs.last() else { return Ok(None) };
        // Called since the customer last wrote: nothing to suggest.
        if ours.iter().any(|h| is_call_note(h.message_id.as_deref(), &h.flags) && h.internal_date >= latest.internal_date) {
            return Ok(None);
        }
        // Oldest first; our automatic mail and call notes are not email exchanges.
        let mut timeline: Vec<(i64, i64, Author)> = customer_msgs.iter().map(|h| (h.internal_date, h.id, Author::Customer)).collect();
        timeline.extend(
            ours.iter()
                .filter(|h| {
                    !h.message_id.as_deref().is_some_and(is_automatic_message_id) && !is_call_note(h.message_id.as_deref(), &h.flags)
                })
                .map(|h| (h.internal_date, h.id, Author::Us)),
        );
        timeline.sort_by_key(|(at, id, _)| (*at, *id));
        let skip = timeline.len().saturating_sub(MAX_MESSAGES);
        let mut texts = Vec::new();
        for (_, id, author) in &timeline[skip..] {
            texts.push((*author, if *author == Author::Customer { self.text_of(*id)? } else { String::new() }));
        }
        let history: Vec<HistoryMessage> = texts.iter().map(|(author, text)| HistoryMessage { author: *author, text }).collect();
        let policy = self.policy().callback.rules();
        let Some(suggestion) = suggest_call(&history, &policy) else { return Ok(None) };
        let phone = match suggestion.phone {
            Some(p) => Some(p),
            None => {
                // The customer's earlier mail, newest first, under any known address.
                let in_conversation: HashSet<i64> = customer_msgs.iter().map(|h| h.id).collect();
                let addresses = self.customer_addresses(&customer)?;
                let domain = format!("@{}", self.team_domain().to_lowercase());
                let rows = self.store.history_rows(&addresses, 500)?;
                let mut earlier = Vec::new();
                for r in rows
                    .iter()
                    .filter(|r| {
                        !in_conversation.contains(&r.id)
                            && r.folder != self.config.imap.sent
                            && !r.from_addr.to_lowercase().ends_with(&domain)
                    })
                    .take(MAX_EARLIER)
                {
                    earlier.push(self.text_of(r.id)?);
                }
                earlier.reverse();
                let history: Vec<HistoryMessage> = earlier.iter().map(|text| HistoryMessage { author: Author::Customer, text }).collect();
                customer_phone(&history, &policy)
            }
        };
        Ok(Some(CallSuggestionView {
            customer,
            reasons: suggestion
                .reasons
                .into_iter()
                .map(|r| match r {
                    CallReason::Exchanges(count) => CallReasonView::Exchanges { count },
                    CallReason::Frustration(word) => CallReasonView::Frustration { word },
                })
                .collect(),
            phone: phone.map(|p| PhoneView { tel: p.tel_uri(), written: p.written, e164: p.e164 }),
        }))
    }

    /// Record a call note in `message`'s conversation for the whole team (never sent to
    /// the customer; see the module documentation). Returns the note's Message-ID.
    pub async fn log_call_note(self: &Arc<Self>, message: i64, text: &str) -> Result<String> {
        let text = text.trim();
        if text.is_empty() {
            return Err(EngineError::Conversation("a call note needs some text".into()));
        }
        if text.chars().count() > MAX_NOTE_CHARS {
            return Err(EngineError::Conversation(format!("a call note is at most {MAX_NOTE_CHARS} characters")));
        }
        let m = self.store.message(message)?.ok_or(EngineError::NoSuchMessage(message))?;
        let customer = self.customer_of(&m);
        // Threaded on the conversation's latest message, so every app's thread shows it.
        let heads = self.heads_with_sent()?;
        let keys = self.conversation_keys_for(&heads);
        let key = Self::key_of_message(&heads, &keys, m.id, &customer);
        let (customer_msgs, ours) = conversation(&heads, &keys, &self.config.imap.queues, &key, (m.internal_date, m.id));
        let latest = customer_msgs.iter().chain(ours.iter()).max_by_key(|h| (h.internal_date, h.id));
        let (parent_id, parent_irt, parent_refs, subject) = match latest {
            Some(h) => (h.message_id.clone(), h.in_reply_to.clone(), h.references.clone(), h.subject.clone()),
            None => (m.message_id.clone(), m.in_reply_to.clone(), m.references.clone(), m.subject.clone()),
        };
        let refs = blendesk_domain::reply::reply_references(&parent_refs, parent_irt.as_deref(), parent_id.as_deref());
        let mut headers: Vec<(&'static str, String)> = vec![(NOTE_HEADER, "call".into())];
        if let Some(id) = &parent_id {
            headers.push(("In-Reply-To", format!("<{id}>")));
        }
        if !refs.is_empty() {
            headers.push(("References", refs.iter().map(|r| format!("<{r}>")).collect::<Vec<_>>().join(" ")));
        }
        headers.push(("X-Blendesk-Author", self.config.advisor.id.to_string()));
        let message_id = self.mint_message_id(NOTE_ID_PREFIX);
        let original = Original { from_addr: customer.clone(), subject, ..Original::default() };
        let body = format!("Call note by {}:\n\n{text}\n", self.config.advisor.id.as_str());
        let built = build_automatic(&self.config.smtp.from, &original, &body, &message_id, &headers, std::time::SystemTime::now())?;
        let sent = self.config.imap.sent.clone();
        self.with_session(async |c| {
            let condstore = c.has("CONDSTORE");
            imap::create_folder(&mut c.session, &sent).await?;
            // A team on its database writes no keyword (its server may keep none): the
            // note's Message-ID says what it is.
            let flags = if self.coordinated_by_database() { "(\\Seen)".to_owned() } else { format!("(\\Seen {NOTE_KEYWORD})") };
            imap::append(&mut c.session, &sent, &flags, &built.raw).await?;
            self.sync_folder(&mut c.session, &sent, condstore).await?;
            Ok(())
        })
        .await?;
        Ok(message_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(id: i64, folder: &str, from: &str, at: i64, flags: &[&str]) -> QueueHead {
        QueueHead {
            id,
            folder: folder.into(),
            uidvalidity: 1,
            uid: id as u32,
            message_id: Some(format!("m{id}@x")),
            in_reply_to: None,
            references: vec![],
            subject: String::new(),
            from_addr: from.into(),
            internal_date: at,
            flags: flags.iter().map(|f| f.to_string()).collect(),
            excerpt: String::new(),
            ack_decision: String::new(),
            from_name: String::new(),
        }
    }

    #[test]
    fn a_conversation_starts_after_the_last_resolved_message_and_takes_our_replies() {
        let mut reply = head(4, "Sent", "support@shop.test", 40, &[]);
        reply.in_reply_to = Some("m3@x".into());
        let mut old_reply = head(5, "Sent", "support@shop.test", 15, &[]);
        old_reply.in_reply_to = Some("m1@x".into());
        let heads = vec![
            head(1, "INBOX", "a@x", 10, &["$Resolved"]),
            old_reply,
            head(2, "INBOX", "A@X", 20, &[]),
            head(3, "INBOX", "a@x", 30, &[]),
            reply,
            head(6, "INBOX", "b@x", 30, &[]),
            head(7, "INBOX", "a@x", 35, &["\\Deleted"]),
        ];
        let queues = ["INBOX".to_owned()];
        let keys = crate::conversation::keys_of(&heads, &queues);
        let (c, ours) = conversation(&heads, &keys, &queues, "a@x", (30, 3));
        assert_eq!(c.iter().map(|h| h.id).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(ours.iter().map(|h| h.id).collect::<Vec<_>>(), [4]);
    }

    #[test]
    fn text_is_bounded_on_a_char_boundary() {
        let long = "投".repeat(MAX_TEXT_BYTES);
        let b = bounded(&long);
        assert!(b.len() <= MAX_TEXT_BYTES && b.len() > MAX_TEXT_BYTES - 4);
        assert!(is_call_note(Some("blendesk-note.1@x"), &[]));
        assert!(is_call_note(None, &["$BD_NOTE".into()]));
        assert!(!is_call_note(Some("blendesk-auto.1@x"), &[]));
    }
}
