//! What the advisor's workspace shows: my conversations (open customer mail in the
//! queues, grouped by conversation key: `crate::conversation`), the queue summary, one
//! conversation's thread, and a customer's history. Read-only views over the mirror.
//!
//! "My conversations" are the open ones carrying this advisor's owner keyword
//! (`owned_conversations`); the queue summary counts every open conversation.

use crate::engine::{Engine, Result};
use blendesk_domain::automation::is_automatic_message_id;
use blendesk_store::MessageHead;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The IMAP keyword that closes a conversation without a reply (spam, "thanks!", a
/// duplicate). A later message from the customer is open again: it lacks the keyword.
pub use blendesk_domain::keywords::RESOLVED_KEYWORD;

/// Open customer messages considered at once.
const OPEN_LIMIT: u32 = 2000;

/// On time, at risk or breached: the business-hours SLA clock's level (`crate::sla`).
pub use blendesk_domain::automation::SlaLevel;

/// A conversation's running SLA clock as the workspace shows it: due time (unix
/// seconds) and level. Conversations without one are waiting on the customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaDue {
    pub due_at: i64,
    pub level: SlaLevel,
}

/// One open conversation. Times are unix seconds.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Conversation {
    /// Its key: the customer's address, or a `$bd_conv_` token once merged or split.
    pub key: String,
    /// The customer of its newest open message.
    pub customer: String,
    /// Every customer with an open message in it (two or more after a merge).
    pub customers: Vec<String>,
    pub customer_name: String,
    pub subject: String,
    /// The newest open message: the one a reply answers.
    pub latest_id: i64,
    pub queue: String,
    pub open_messages: u32,
    pub waiting_since: i64,
    /// When the reply is due (unix seconds; business hours of the queue's calendar).
    /// Meaningful only while `sla_running`.
    pub sla_due_at: i64,
    pub sla: SlaLevel,
    /// False while the clock is stopped (our reply is the newest: waiting on the
    /// customer) or the calendar never opens.
    pub sla_running: bool,
    /// Its tags (`tags.rs`): with its queue, its email type.
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct QueueSummary {
    pub queue: String,
    pub waiting: u32,
    pub oldest_waiting_since: Option<i64>,
    /// At risk or breached.
    pub at_risk: u32,
    /// Breached (past due, or marked `$bd_breached` by the team).
    pub breached: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkspaceView {
    pub conversations: Vec<Conversation>,
    pub queues: Vec<QueueSummary>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ThreadMessage {
    pub id: i64,
    pub folder: String,
    pub from_addr: String,
    pub from_name: String,
    pub subject: String,
    pub date: i64,
    /// Sent by the team (our Sent folder or our domain).
    pub outgoing: bool,
    pub answered: bool,
    /// A call note logged by an advisor (`crate::callback`), never sent to the customer.
    pub note: bool,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct HistoryItem {
    pub id: i64,
    pub folder: String,
    pub subject: String,
    pub date: i64,
    pub outgoing: bool,
    /// `sent` (ours), `answered`, `resolved` (closed without a reply), or `open`.
    pub status: &'static str,
}

fn is_answered(flags: &[String]) -> bool {
    flags.iter().any(|f| f.eq_ignore_ascii_case("\\Answered"))
}

/// Group open messages (newest first) into conversations by key (`keys`: mirror id →
/// key; a message without one is its customer's); `clocks` holds the running SLA clocks
/// by key.
pub fn group_conversations(open: &[MessageHead], keys: &HashMap<i64, String>, clocks: &HashMap<String, SlaDue>) -> WorkspaceView {
    let mut by_key: BTreeMap<&str, Conversation> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for m in open {
        let key = keys.get(&m.id).map_or(m.from_addr.as_str(), String::as_str);
        match by_key.get_mut(key) {
            Some(c) => {
                c.open_messages += 1;
                c.waiting_since = c.waiting_since.min(m.internal_date);
                if !c.customers.contains(&m.from_addr) {
                    c.customers.push(m.from_addr.clone());
                }
            }
            None => {
                order.push(key);
                by_key.insert(
                    key,
                    Conversation {
                        key: key.to_owned(),
                        customer: m.from_addr.clone(),
                        customers: vec![m.from_addr.clone()],
                        customer_name: m.from_name.clone(),
                        subject: m.subject.clone(),
                        latest_id: m.id,
                        queue: m.folder.clone(),
                        open_messages: 1,
                        waiting_since: m.internal_date,
                        sla_due_at: 0,
                        sla: SlaLevel::Ok,
                        sla_running: false,
                        tags: Vec::new(),
                    },
                );
            }
        }
    }
    let mut conversations: Vec<Conversation> = order
        .into_iter()
        .filter_map(|k| by_key.remove(k))
        .map(|mut c| {
            if let Some(clock) = clocks.get(&c.key) {
                c.sla_due_at = clock.due_at;
                c.sla = clock.level;
                c.sla_running = true;
            }
            c
        })
        .collect();
    // SLA risk first (earliest due), then age: the same order the offer uses. Stopped
    // clocks come last.
    conversations.sort_by_key(|c| (!c.sla_running, c.sla_due_at, c.latest_id));

    let mut queues: BTreeMap<String, QueueSummary> = BTreeMap::new();
    for c in &conversations {
        let q = queues.entry(c.queue.clone()).or_insert_with(|| QueueSummary {
            queue: c.queue.clone(),
            waiting: 0,
            oldest_waiting_since: None,
            at_risk: 0,
            breached: 0,
        });
        q.waiting += 1;
        q.oldest_waiting_since = Some(q.oldest_waiting_since.map_or(c.waiting_since, |o| o.min(c.waiting_since)));
        if c.sla != SlaLevel::Ok {
            q.at_risk += 1;
        }
        if c.sla == SlaLevel::Breached {
            q.breached += 1;
        }
    }
    WorkspaceView { conversations, queues: queues.into_values().collect() }
}

/// A knowledge snippet: an earlier message (the team's own replies first) that matches
/// the words of the current conversation, with a short excerpt to insert.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Snippet {
    pub id: i64,
    pub subject: String,
    pub from_addr: String,
    pub date: i64,
    pub from_team: bool,
    pub excerpt: String,
}

/// Words worth searching for in `text` (at most eight): the knowledge search's terms
/// (`domain::knowledge::search_terms`), the one tokeniser.
pub fn keywords(text: &str) -> Vec<String> {
    blendesk_domain::knowledge::search_terms("", text, 8)
}

/// The reply's own words, without quoted lines or the attribution above them.
pub fn excerpt(body: &str, max_chars: usize) -> String {
    let own: Vec<&str> = blendesk_domain::reply::own_lines(body).collect();
    let text = own.join("\n").trim().to_owned();
    if text.chars().count() <= max_chars {
        text
    } else {
        let mut t: String = text.chars().take(max_chars).collect();
        t.push('…');
        t
    }
}

impl Engine {
    fn internal_domain(&self) -> String {
        self.config.from_address().and_then(|a| a.split_once('@').map(|(_, d)| d.to_owned())).unwrap_or_default()
    }

    fn is_outgoing(&self, folder: &str, from_addr: &str) -> bool {
        let domain = self.internal_domain();
        folder == self.config.imap.sent || (!domain.is_empty() && from_addr.to_lowercase().ends_with(&format!("@{domain}")))
    }

    /// The running SLA clocks by conversation key at `now` (unix seconds), for the views. A
    /// conversation another app marked `$bd_breached` shows as breached here too.
    fn sla_dues(&self, now: i64) -> Result<HashMap<String, SlaDue>> {
        Ok(self
            .sla_clocks(now.saturating_mul(1000))?
            .into_iter()
            .filter_map(|c| {
                let level = if c.marked_breached { SlaLevel::Breached } else { c.level };
                Some((c.key, SlaDue { due_at: c.due_ms? / 1000, level }))
            })
            .collect())
    }

    /// Each conversation's tags, from the event log's index.
    fn add_tags(&self, conversations: &mut [Conversation]) -> Result<()> {
        let mut tags = self.all_tags()?;
        for c in conversations {
            c.tags = tags.remove(&c.key).unwrap_or_default();
        }
        Ok(())
    }

    /// The queues' open customer messages, survey answers left out (they wait to be
    /// filed, `surveys.rs`, and never open a conversation).
    fn open_customer_messages(&self) -> Result<Vec<MessageHead>> {
        let mut open = self.store.open_customer_messages(&self.config.imap.queues, &self.internal_domain(), OPEN_LIMIT)?;
        open.retain(|h| !blendesk_domain::automation::survey::is_answer(&h.subject));
        Ok(open)
    }

    /// My conversations and the queue summary at `now` (unix seconds), with each
    /// queue's business-hours SLA from the policy.
    pub fn workspace(&self, now: i64) -> Result<WorkspaceView> {
        let open = self.open_customer_messages()?;
        let mut view = group_conversations(&open, &self.conversation_keys()?, &self.sla_dues(now)?);
        self.add_tags(&mut view.conversations)?;
        // Every configured queue appears, even when empty.
        for q in &self.config.imap.queues {
            if !view.queues.iter().any(|s| &s.queue == q) {
                view.queues.push(QueueSummary { queue: q.clone(), waiting: 0, oldest_waiting_since: None, at_risk: 0, breached: 0 });
            }
        }
        Ok(view)
    }

    /// This advisor's conversations: those with an open message in the queues that
    /// carries their owner keyword (`$bd_owner_<id>`, set by the claim loop), grouped by
    /// key in SLA order, each with how many of its open emails are owned (the load;
    /// a chaser not yet claimed, e.g. one that came during a call, shows but does not count).
    pub fn owned_conversations(&self, now: i64) -> Result<Vec<(Conversation, u32)>> {
        let mine = blendesk_domain::claim::owner_keyword(&self.config.advisor.id);
        let open = self.open_customer_messages()?;
        let keys = self.conversation_keys()?;
        let key_of = |h: &MessageHead| keys.get(&h.id).cloned().unwrap_or_else(|| h.from_addr.clone());
        let mut owned: BTreeMap<String, u32> = BTreeMap::new();
        for h in open.iter().filter(|h| h.flags.iter().any(|f| f.eq_ignore_ascii_case(&mine))) {
            *owned.entry(key_of(h)).or_default() += 1;
        }
        let mut view = group_conversations(&open, &keys, &self.sla_dues(now)?);
        self.add_tags(&mut view.conversations)?;
        Ok(view.conversations.into_iter().filter_map(|c| owned.get(c.key.as_str()).copied().map(|n| (c, n))).collect())
    }

    /// The conversation `message` belongs to, oldest first: linked by Message-ID,
    /// In-Reply-To and References (two hops, enough for reply chains), plus the other
    /// open messages with its key; queue messages with another key (split off, or
    /// another conversation) are left out.
    pub fn thread(&self, message: i64) -> Result<Vec<ThreadMessage>> {
        let m = self.store.message(message)?.ok_or(crate::engine::EngineError::NoSuchMessage(message))?;
        let mut ids: Vec<String> = m.references.clone();
        ids.extend(m.in_reply_to.clone());
        ids.extend(m.message_id.clone());
        let mut heads = self.store.thread_messages(&ids, 200)?;
        // Second hop: messages that answer messages found in the first.
        let more: Vec<String> = heads.iter().filter_map(|h| h.message_id.clone()).filter(|x| !ids.contains(x)).collect();
        if !more.is_empty() {
            ids.extend(more);
            heads = self.store.thread_messages(&ids, 200)?;
        }
        let open = self.open_customer_messages()?;
        let keys = self.conversation_keys()?;
        let key = keys.get(&m.id).cloned().unwrap_or_else(|| m.from_addr.to_lowercase());
        // Split-off or other open conversations' emails go; closed earlier ones linked by
        // References stay as context, as do our replies (they have no key).
        let closed = |h: &MessageHead| blendesk_domain::keywords::is_closed(&h.flags);
        heads.retain(|h| closed(h) || keys.get(&h.id).is_none_or(|k| *k == key));
        for h in open.into_iter().filter(|h| keys.get(&h.id) == Some(&key)) {
            if !heads.iter().any(|x| x.id == h.id) {
                heads.push(h);
            }
        }
        if !heads.iter().any(|h| h.id == m.id) {
            heads.push(MessageHead {
                id: m.id,
                folder: m.folder.clone(),
                message_id: m.message_id.clone(),
                in_reply_to: m.in_reply_to.clone(),
                references: m.references.clone(),
                subject: m.subject.clone(),
                from_addr: m.from_addr.to_lowercase(),
                from_name: m.from_name.clone(),
                internal_date: m.internal_date,
                flags: m.flags.clone(),
            });
        }
        heads.sort_by_key(|h| (h.internal_date, h.id));
        Ok(heads
            .into_iter()
            .map(|h| ThreadMessage {
                outgoing: self.is_outgoing(&h.folder, &h.from_addr),
                answered: is_answered(&h.flags),
                note: crate::callback::is_call_note(h.message_id.as_deref(), &h.flags),
                id: h.id,
                folder: h.folder,
                from_addr: h.from_addr,
                from_name: h.from_name,
                subject: h.subject,
                date: h.internal_date,
            })
            .collect())
    }

    /// Knowledge snippets for `query`: messages matching any of its keywords, ranked by
    /// how many they match, the team's replies first. The open customer's own mail and
    /// our replies to them are left out (under every address known to be theirs: it is
    /// on screen already), and so is automatic mail (acknowledgements, "still working"
    /// notes: never an answer worth inserting).
    pub fn knowledge_snippets(&self, query: &str, exclude_customer: &str, limit: usize) -> Result<Vec<Snippet>> {
        let mut score: BTreeMap<i64, (u32, blendesk_store::SearchHit)> = BTreeMap::new();
        for word in keywords(query) {
            for hit in self.store.search(&word, 50)? {
                score.entry(hit.id).or_insert((0, hit)).0 += 1;
            }
        }
        let exclude: HashSet<String> = if exclude_customer.trim().is_empty() {
            HashSet::new()
        } else {
            self.customer_addresses(exclude_customer)?.into_iter().collect()
        };
        let mut ranked: Vec<(u32, bool, blendesk_store::SearchHit)> = score
            .into_values()
            .filter(|(_, h)| !exclude.contains(&h.from_addr.to_lowercase()))
            .map(|(n, h)| (n, self.is_outgoing(&h.folder, &h.from_addr), h))
            .collect();
        ranked.sort_by_key(|(n, team, h)| std::cmp::Reverse((*n, *team, h.internal_date)));
        let mut out = Vec::new();
        for (_, from_team, h) in ranked.into_iter() {
            if out.len() >= limit {
                break;
            }
            let Some(m) = self.store.message(h.id)? else { continue };
            // A call note is about one customer; it is never text to insert for another.
            if crate::callback::is_call_note(m.message_id.as_deref(), &m.flags)
                || m.message_id.as_deref().is_some_and(is_automatic_message_id)
                || (from_team && m.to.iter().any(|t| exclude.contains(&t.to_lowercase())))
            {
                continue;
            }
            let body = m.body_text;
            out.push(Snippet {
                id: h.id,
                subject: h.subject,
                from_addr: h.from_addr,
                date: h.internal_date,
                from_team,
                excerpt: excerpt(&body, 400),
            });
        }
        Ok(out)
    }

    /// Close `message`'s conversation without replying: every open message with its key
    /// in the queues gets the `$Resolved` keyword on the server (UIDVALIDITY
    /// re-checked first), so every app sees it closed. Returns how many were flagged.
    pub async fn resolve_conversation(&self, message: i64) -> Result<u32> {
        self.refuse_while_paused()?;
        self.coordination_fresh().await?;
        let m = self.store.message(message)?.ok_or(crate::engine::EngineError::NoSuchMessage(message))?;
        let keys = self.conversation_keys()?;
        let key = keys.get(&m.id).cloned().unwrap_or_else(|| m.from_addr.to_lowercase());
        let open = self.open_customer_messages()?;
        let mut by_folder: BTreeMap<String, Vec<(u32, u32)>> = BTreeMap::new();
        for h in open.into_iter().filter(|h| keys.get(&h.id) == Some(&key)) {
            if let Some(full) = self.store.message(h.id)? {
                by_folder.entry(full.folder).or_default().push((full.uidvalidity, full.uid));
            }
        }
        if by_folder.is_empty() {
            return Ok(0);
        }
        if self.coordinated_by_database() {
            let mut flagged = 0;
            for (folder, uids) in &by_folder {
                for (uidvalidity, uid) in uids {
                    self.db_mark(folder, *uidvalidity, *uid, RESOLVED_KEYWORD).await?;
                    flagged += 1;
                }
            }
            self.record(blendesk_domain::activity::ActivityKind::Resolved { message_id: m.message_id.clone() });
            return Ok(flagged);
        }
        self.with_session(async |c| {
            let condstore = c.has("CONDSTORE");
            let mut flagged = 0;
            for (folder, uids) in by_folder {
                let selected = blendesk_mail::imap::select(&mut c.session, &folder, condstore).await?;
                for (uidvalidity, uid) in uids {
                    // A rebuilt folder renumbers UIDs: never flag by a stale UID.
                    if uidvalidity != selected.uidvalidity {
                        tracing::warn!(folder, uid, "UIDVALIDITY changed; not resolving by a stale UID");
                        continue;
                    }
                    blendesk_mail::imap::store(&mut c.session, uid, &format!("+FLAGS.SILENT ({RESOLVED_KEYWORD})")).await?;
                    flagged += 1;
                }
            }
            Ok(flagged)
        })
        .await
        .inspect(|_| self.record(blendesk_domain::activity::ActivityKind::Resolved { message_id: m.message_id.clone() }))
    }

    /// Everything from or to `customer`, newest first.
    pub fn customer_history(&self, customer: &str, limit: u32) -> Result<Vec<HistoryItem>> {
        Ok(self
            .store
            .customer_messages(customer, limit)?
            .into_iter()
            .map(|h| {
                let outgoing = self.is_outgoing(&h.folder, &h.from_addr);
                HistoryItem {
                    status: if outgoing {
                        "sent"
                    } else if is_answered(&h.flags) {
                        "answered"
                    } else if h.flags.iter().any(|f| f == RESOLVED_KEYWORD) {
                        "resolved"
                    } else {
                        "open"
                    },
                    outgoing,
                    id: h.id,
                    folder: h.folder,
                    subject: h.subject,
                    date: h.internal_date,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(id: i64, from: &str, folder: &str, date: i64) -> MessageHead {
        MessageHead {
            id,
            folder: folder.into(),
            message_id: None,
            in_reply_to: None,
            references: vec![],
            subject: format!("s{id}"),
            from_addr: from.into(),
            from_name: String::new(),
            internal_date: date,
            flags: vec![],
        }
    }

    #[test]
    fn keywords_drop_short_and_common_words_and_keep_chinese() {
        assert_eq!(keywords("Where is my parcel ord-f6e985c3?"), ["parcel", "ord", "f6e985c3"]);
        assert_eq!(keywords("退款在哪 refund"), ["退款", "款在", "在哪", "refund"]);
        assert_eq!(keywords("发票"), ["发票"]);
        assert_eq!(keywords("a b c").len(), 0);
    }

    #[test]
    fn excerpt_keeps_own_words_only() {
        let body = "Your refund is on its way.\n\nOn Mon, 1 Jan 2026, Ann wrote:\n> where is it";
        assert_eq!(excerpt(body, 100), "Your refund is on its way.");
        assert_eq!(excerpt("abcdef", 3), "abc…");
    }

    #[test]
    fn one_conversation_per_customer_ordered_by_sla_due() {
        // Newest first, as the store returns them.
        let open =
            [head(5, "b@x", "Billing", 500), head(4, "a@x", "INBOX", 400), head(3, "b@x", "Billing", 100), head(2, "c@x", "INBOX", 300)];
        let due = |due_at, level| SlaDue { due_at, level };
        let clocks: HashMap<String, SlaDue> = [
            ("b@x".to_owned(), due(1100, SlaLevel::AtRisk)),
            ("c@x".to_owned(), due(1300, SlaLevel::Ok)),
            ("d@x".to_owned(), due(900, SlaLevel::Breached)),
        ]
        .into();
        let v = group_conversations(&open, &HashMap::new(), &clocks);
        // a@x has no running clock (waiting on the customer): last.
        let order: Vec<_> = v.conversations.iter().map(|c| c.customer.as_str()).collect();
        assert_eq!(order, ["b@x", "c@x", "a@x"]);
        let b = &v.conversations[0];
        assert_eq!((b.latest_id, b.open_messages, b.waiting_since, b.sla_due_at), (5, 2, 100, 1100));
        assert_eq!((b.sla, b.sla_running), (SlaLevel::AtRisk, true));
        assert_eq!((v.conversations[2].sla, v.conversations[2].sla_running), (SlaLevel::Ok, false));
        let inbox = v.queues.iter().find(|q| q.queue == "INBOX").unwrap();
        assert_eq!((inbox.waiting, inbox.oldest_waiting_since, inbox.at_risk, inbox.breached), (2, Some(300), 0, 0));
        let billing = v.queues.iter().find(|q| q.queue == "Billing").unwrap();
        assert_eq!((billing.waiting, billing.at_risk, billing.breached), (1, 1, 0));
        let open = [head(7, "d@x", "Returns", 50)];
        let returns = group_conversations(&open, &HashMap::new(), &clocks).queues;
        assert_eq!((returns[0].at_risk, returns[0].breached), (1, 1));
    }

    #[test]
    fn a_merged_key_is_one_conversation_of_several_customers_and_a_split_one_is_two() {
        let open = [head(3, "b@x", "INBOX", 300), head(2, "a@x", "INBOX", 200), head(1, "a@x", "INBOX", 100)];
        let merged: HashMap<i64, String> = [(1, "tok1".to_owned()), (2, "tok1".to_owned()), (3, "tok1".to_owned())].into();
        let clocks: HashMap<String, SlaDue> = [("tok1".to_owned(), SlaDue { due_at: 900, level: SlaLevel::Ok })].into();
        let v = group_conversations(&open, &merged, &clocks);
        assert_eq!(v.conversations.len(), 1);
        let c = &v.conversations[0];
        assert_eq!(
            (c.key.as_str(), c.customer.as_str(), c.customers.clone(), c.open_messages),
            ("tok1", "b@x", vec!["b@x".to_owned(), "a@x".to_owned()], 3)
        );
        assert!(c.sla_running && c.sla_due_at == 900, "the clock is the key's");
        assert_eq!(v.queues[0].waiting, 1, "the queue counts one conversation");
        // Split: a@x's newest email has its own key; the customer now has two conversations.
        let split: HashMap<i64, String> = [(1, "tok1".to_owned()), (2, "tok2".to_owned()), (3, "tok1".to_owned())].into();
        let keys: Vec<String> = group_conversations(&open, &split, &clocks).conversations.into_iter().map(|c| c.key).collect();
        assert_eq!(keys, ["tok1", "tok2"]);
    }
}
