//! The durable outbox. A reply's final bytes and Message-ID are committed with
//! synchronous=FULL before the first SMTP attempt, and every state change after that is
//! committed the same way: a reply survives a crash or a power cut at any moment.

use crate::{Result, Store, StoreError};
use blendesk_domain::outbox::OutboxState;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct NewOutboxItem {
    pub message_id: String,
    pub sender: String,
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
    /// The message answered: (folder, uidvalidity, uid), to flag it \Answered after sending.
    pub answers: Option<(String, u32, u32)>,
    /// The answered message's Message-ID, to find it again if its folder's UIDVALIDITY changed.
    pub answers_message_id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutboxItem {
    pub id: i64,
    pub message_id: String,
    pub sender: String,
    pub recipients: Vec<String>,
    #[serde(skip)]
    pub raw: Vec<u8>,
    pub state: OutboxState,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub answers: Option<(String, u32, u32)>,
    pub answers_message_id: Option<String>,
    pub appended_to_sent: bool,
    pub flagged_answered: bool,
}

/// Run `f` in a transaction committed with synchronous=FULL.
fn durably<T>(conn: &mut Connection, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>) -> Result<T> {
    conn.pragma_update(None, "synchronous", "FULL")?;
    let result = (|| {
        let tx = conn.transaction()?;
        let v = f(&tx)?;
        tx.commit()?;
        Ok(v)
    })();
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    result
}

const SELECT_ITEM: &str = "SELECT id, message_id, sender, recipients, raw, state, attempts, next_attempt_at,
    last_error, answers_folder, answers_uidvalidity, answers_uid, appended_to_sent, flagged_answered, answers_message_id FROM outbox";

fn row_to_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<OutboxItem>> {
    let recipients: String = r.get(3)?;
    let state: String = r.get(5)?;
    let folder: Option<String> = r.get(9)?;
    let uidvalidity: Option<u32> = r.get(10)?;
    let uid: Option<u32> = r.get(11)?;
    let item = (|| {
        Ok(OutboxItem {
            id: r.get(0)?,
            message_id: r.get(1)?,
            sender: r.get(2)?,
            recipients: serde_json::from_str(&recipients).map_err(|e| StoreError::Corrupt(format!("outbox recipients: {e}")))?,
            raw: r.get(4)?,
            state: OutboxState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("outbox state {state:?}")))?,
            attempts: r.get(6)?,
            next_attempt_at: r.get(7)?,
            last_error: r.get(8)?,
            answers: match (folder, uidvalidity, uid) {
                (Some(f), Some(v), Some(u)) => Some((f, v, u)),
                _ => None,
            },
            answers_message_id: r.get(14)?,
            appended_to_sent: r.get(12)?,
            flagged_answered: r.get(13)?,
        })
    })();
    Ok(item)
}

impl Store {
    /// Store a reply, fully rendered, before any attempt to send it.
    pub fn outbox_enqueue(&self, item: &NewOutboxItem, now: i64) -> Result<i64> {
        let mut conn = self.conn();
        durably(&mut conn, |tx| {
            let (folder, uidvalidity, uid) = match &item.answers {
                Some((f, v, u)) => (Some(f.as_str()), Some(*v), Some(*u)),
                None => (None, None, None),
            };
            tx.execute(
                "INSERT INTO outbox (message_id, sender, recipients, raw, state, created_at, next_attempt_at,
                    answers_folder, answers_uidvalidity, answers_uid, answers_message_id)
                 VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?5, ?6, ?7, ?8, ?9)",
                params![
                    item.message_id,
                    item.sender,
                    serde_json::to_string(&item.recipients).unwrap_or_else(|_| "[]".into()),
                    item.raw,
                    now,
                    folder,
                    uidvalidity,
                    uid,
                    item.answers_message_id
                ],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    pub fn outbox_item(&self, id: i64) -> Result<Option<OutboxItem>> {
        let conn = self.conn();
        let item = conn.query_row(&format!("{SELECT_ITEM} WHERE id = ?1"), [id], row_to_item).optional()?;
        item.transpose()
    }

    /// Items to attempt now: queued ones that are due, and ones left in `sending` by a
    /// process that died mid-attempt (the attempt may or may not have reached the server;
    /// resending the same bytes keeps any duplicate recognisable by its Message-ID).
    pub fn outbox_due(&self, now: i64) -> Result<Vec<OutboxItem>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_ITEM} WHERE state IN ('queued', 'sending') AND next_attempt_at <= ?1 ORDER BY next_attempt_at, id"
        ))?;
        let rows = stmt.query_map([now], row_to_item)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }

    /// The earliest time a queued item becomes due, if any is waiting.
    pub fn outbox_next_due(&self) -> Result<Option<i64>> {
        Ok(self.conn().query_row("SELECT min(next_attempt_at) FROM outbox WHERE state IN ('queued', 'sending')", [], |r| r.get(0))?)
    }

    /// Record an attempt before making it (a crash mid-attempt still counts it).
    pub fn outbox_begin_attempt(&self, id: i64) -> Result<u32> {
        let mut conn = self.conn();
        durably(&mut conn, |tx| {
            Ok(tx.query_row(
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id = ?1 RETURNING attempts",
                [id],
                |r| r.get(0),
            )?)
        })
    }

    pub fn outbox_mark_sent(&self, id: i64, now: i64) -> Result<()> {
        self.outbox_update(id, "UPDATE outbox SET state = 'sent', sent_at = ?2, last_error = NULL WHERE id = ?1", params![id, now])
    }

    pub fn outbox_retry_later(&self, id: i64, next_attempt_at: i64, error: &str) -> Result<()> {
        self.outbox_update(
            id,
            "UPDATE outbox SET state = 'queued', next_attempt_at = ?2, last_error = ?3 WHERE id = ?1",
            params![id, next_attempt_at, error],
        )
    }

    pub fn outbox_mark_failed(&self, id: i64, reason: &str) -> Result<()> {
        self.outbox_update(id, "UPDATE outbox SET state = 'failed', last_error = ?2 WHERE id = ?1", params![id, reason])
    }

    pub fn outbox_mark_appended(&self, id: i64) -> Result<()> {
        self.outbox_update(id, "UPDATE outbox SET appended_to_sent = 1 WHERE id = ?1", params![id])
    }

    pub fn outbox_mark_flagged(&self, id: i64) -> Result<()> {
        self.outbox_update(id, "UPDATE outbox SET flagged_answered = 1 WHERE id = ?1", params![id])
    }

    fn outbox_update(&self, _id: i64, sql: &str, p: impl rusqlite::Params) -> Result<()> {
        let mut conn = self.conn();
        durably(&mut conn, |tx| {
            tx.execute(sql, p)?;
            Ok(())
        })
    }

    /// Sent items whose copy in Sent or \Answered flag is still to be done.
    pub fn outbox_follow_ups(&self) -> Result<Vec<OutboxItem>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "{SELECT_ITEM} WHERE state = 'sent' AND (appended_to_sent = 0 OR (flagged_answered = 0 AND answers_uid IS NOT NULL)) ORDER BY id"
        ))?;
        let rows = stmt.query_map([], row_to_item)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }

    /// Message-IDs of the emails a reply in the outbox answers that the mailbox does not
    /// show as answered yet: queued, being sent, or sent without its `\Answered` flag.
    /// Such an email is never handed back (`pacing::should_hand_back`).
    pub fn outbox_answering(&self) -> Result<std::collections::HashSet<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT answers_message_id FROM outbox WHERE answers_message_id IS NOT NULL
             AND (state IN ('queued', 'sending') OR (state = 'sent' AND flagged_answered = 0))",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Items per state, every state present.
    pub fn outbox_counts(&self) -> Result<BTreeMap<&'static str, u64>> {
        let mut counts: BTreeMap<&'static str, u64> = OutboxState::ALL.iter().map(|s| (s.as_str(), 0)).collect();
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT state, count(*) FROM outbox GROUP BY state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (state, n) = row?;
            if let Some(s) = OutboxState::parse(&state) {
                counts.insert(s.as_str(), n as u64);
            }
        }
        Ok(counts)
    }

    pub fn outbox_list(&self, limit: u32) -> Result<Vec<OutboxItem>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!("{SELECT_ITEM} ORDER BY id DESC LIMIT ?1"))?;
        let rows = stmt.query_map([limit], row_to_item)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::NewOutboxItem;
    use crate::Store;

    #[test]
    fn a_reply_answers_its_email_until_the_mailbox_shows_it_answered() {
        let store = Store::open_in_memory().unwrap();
        let item = |n: u32| NewOutboxItem {
            message_id: format!("<r{n}@shop.test>"),
            sender: "support@shop.test".into(),
            recipients: vec!["ana@example.com".into()],
            raw: b"x".to_vec(),
            answers: Some(("INBOX".into(), 1, n)),
            answers_message_id: Some(format!("<q{n}@example.com>")),
        };
        let (a, b, c) = (
            store.outbox_enqueue(&item(1), 0).unwrap(),
            store.outbox_enqueue(&item(2), 0).unwrap(),
            store.outbox_enqueue(&item(3), 0).unwrap(),
        );
        store.outbox_mark_sent(b, 1).unwrap();
        store.outbox_mark_sent(c, 1).unwrap();
        store.outbox_mark_flagged(c).unwrap();
        let answering = store.outbox_answering().unwrap();
        assert!(answering.contains("<q1@example.com>"), "queued");
        assert!(answering.contains("<q2@example.com>"), "sent, not flagged yet");
        assert!(!answering.contains("<q3@example.com>"), "the mailbox shows it answered");
        store.outbox_mark_failed(a, "550 no such user").unwrap();
        assert!(!store.outbox_answering().unwrap().contains("<q1@example.com>"), "a failed reply answers nothing");
    }
}
