//! What the claim loop reads: the heads of every message in the queue folders, with the
//! flags that carry ownership. Lean on purpose (no bodies beyond an excerpt): it is read
//! on every pass of the loop.

use crate::{Result, Store};
use rusqlite::params_from_iter;

#[derive(Debug, Clone)]
pub struct QueueHead {
    pub id: i64,
    pub folder: String,
    pub uidvalidity: u32,
    pub uid: u32,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub subject: String,
    pub from_addr: String,
    pub internal_date: i64,
    pub flags: Vec<String>,
    pub excerpt: String,
    pub ack_decision: String,
    pub from_name: String,
}

impl Store {
    pub fn queue_heads(&self, folders: &[String]) -> Result<Vec<QueueHead>> {
        if folders.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; folders.len()].join(",");
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT m.id, f.name, f.uidvalidity, m.uid, m.message_id, m.in_reply_to, m.refs, m.subject,
                    m.from_addr, m.internal_date, m.flags, substr(m.body_text, 1, 300), m.ack_decision, m.from_name
             FROM messages m JOIN folders f ON f.id = m.folder_id
             WHERE f.name IN ({marks}) ORDER BY m.internal_date, m.id"
        ))?;
        let rows = stmt.query_map(params_from_iter(folders.iter()), |r| {
            let refs: String = r.get(6)?;
            let flags: String = r.get(10)?;
            Ok(QueueHead {
                id: r.get(0)?,
                folder: r.get(1)?,
                uidvalidity: r.get(2)?,
                uid: r.get(3)?,
                message_id: r.get(4)?,
                in_reply_to: r.get(5)?,
                references: serde_json::from_str(&refs).unwrap_or_default(),
                subject: r.get(7)?,
                from_addr: r.get(8)?,
                internal_date: r.get(9)?,
                flags: serde_json::from_str(&flags).unwrap_or_default(),
                excerpt: r.get(11)?,
                ack_decision: r.get(12)?,
                from_name: r.get(13)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Record a keyword we just set on the server, so the next pass sees it before the
    /// watcher's resync does.
    pub fn add_flag(&self, id: i64, flag: &str) -> Result<()> {
        self.replace_flag(id, None, flag)
    }

    /// As `add_flag`, removing `from` in the same write (an ownership move).
    pub fn replace_flag(&self, id: i64, from: Option<&str>, flag: &str) -> Result<()> {
        let conn = self.conn();
        let flags: String = conn.query_row("SELECT flags FROM messages WHERE id = ?1", [id], |r| r.get(0))?;
        let mut list: Vec<String> = serde_json::from_str(&flags).unwrap_or_default();
        if let Some(from) = from {
            list.retain(|f| !f.eq_ignore_ascii_case(from));
        }
        if !list.iter().any(|f| f == flag) {
            list.push(flag.to_owned());
        }
        conn.execute(
            "UPDATE messages SET flags = ?2 WHERE id = ?1",
            rusqlite::params![id, serde_json::to_string(&list).unwrap_or_else(|_| "[]".into())],
        )?;
        Ok(())
    }
}
