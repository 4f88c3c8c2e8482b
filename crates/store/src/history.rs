//! The customer history: every message naming one of a customer's addresses, found
//! through the `message_addresses` index (From, To, Cc, Reply-To), and the addresses
//! known to be the same customer (learned from Reply-To, or linked by hand).

use crate::error::{json_column, parse_json};
use crate::{NewMessage, Result, Store};
use rusqlite::{params, params_from_iter, Transaction};

/// A message of a customer's history, with a short excerpt of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub id: i64,
    pub folder: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub subject: String,
    pub from_addr: String,
    pub internal_date: i64,
    pub flags: Vec<String>,
    pub excerpt: String,
}

/// Record the addresses a newly mirrored message names (inside its insert transaction).
pub(crate) fn index_addresses(tx: &Transaction<'_>, id: i64, m: &NewMessage) -> Result<()> {
    let mut stmt = tx.prepare_cached("INSERT OR IGNORE INTO message_addresses (address, message_ref) VALUES (?1, ?2)")?;
    let all = std::iter::once(&m.from_addr).chain(&m.to).chain(&m.cc).chain(std::iter::once(&m.reply_to));
    for a in all.take(300) {
        let a = a.trim().to_lowercase();
        if !a.is_empty() {
            stmt.execute(params![a, id])?;
        }
    }
    Ok(())
}

/// The history query: newest first. Exposed so the benchmark can show its plan.
pub const HISTORY_SQL_HEAD: &str = "SELECT m.id, f.name, m.message_id, m.in_reply_to, m.refs, m.subject, m.from_addr,
        m.internal_date, m.flags, substr(m.body_text, 1, 240)
    FROM messages m JOIN folders f ON f.id = m.folder_id
    WHERE m.id IN (SELECT message_ref FROM message_addresses WHERE address IN";

impl Store {
    /// Messages naming any of `addresses` (lowercase), newest first, at most `limit`.
    pub fn history_rows(&self, addresses: &[String], limit: u32) -> Result<Vec<HistoryRow>> {
        if addresses.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; addresses.len()].join(", ");
        let sql = format!("{HISTORY_SQL_HEAD} ({marks})) ORDER BY m.internal_date DESC, m.id DESC LIMIT {limit}");
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(addresses.iter()), |r| {
            Ok(HistoryRow {
                id: r.get(0)?,
                folder: r.get(1)?,
                message_id: r.get(2)?,
                in_reply_to: r.get(3)?,
                references: json_column(r, 4, "messages.refs")?,
                subject: r.get(5)?,
                from_addr: r.get(6)?,
                internal_date: r.get(7)?,
                flags: json_column(r, 8, "messages.flags")?,
                excerpt: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// `EXPLAIN QUERY PLAN` of the history query for `n` addresses (for the benchmark
    /// and the test that keeps it on the indexes).
    pub fn history_plan(&self, n: usize) -> Result<Vec<String>> {
        let marks = vec!["'x@y'"; n.max(1)].join(", ");
        let sql = format!("EXPLAIN QUERY PLAN {HISTORY_SQL_HEAD} ({marks})) ORDER BY m.internal_date DESC, m.id DESC LIMIT 50");
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(3))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Addresses that appeared as Reply-To of `address`'s mail, and senders whose mail
    /// named `address` as Reply-To: the same person writing from another address.
    /// (`reply_to != ''` lets SQLite use the partial index on Reply-To.)
    pub fn reply_to_links(&self, address: &str) -> Result<Vec<String>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT reply_to FROM messages WHERE from_addr = ?1 AND reply_to != '' AND reply_to != ?1
             UNION
             SELECT from_addr FROM messages WHERE reply_to = ?1 AND reply_to != '' AND from_addr != ?1 AND from_addr != ''
             LIMIT 50",
        )?;
        let rows = stmt.query_map([address], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Flag lists of `address`'s messages that carry a flag containing `fragment` (at
    /// most 50), e.g. the conversation keyword prefix.
    pub fn sender_flags_with(&self, address: &str, fragment: &str) -> Result<Vec<Vec<String>>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT flags FROM messages WHERE from_addr = ?1 AND instr(flags, ?2) > 0 LIMIT 50")?;
        let rows = stmt.query_map(params![address, fragment], |r| r.get::<_, String>(0))?;
        let flags: Vec<String> = rows.collect::<std::result::Result<_, _>>()?;
        flags.iter().map(|f| parse_json(f, "messages.flags")).collect()
    }

    /// Senders and flags (at most 500 messages) of messages carrying any of `keywords`
    /// exactly. A scan of the flags: the history asks only for a customer whose
    /// conversations were merged; the caller decides which of them count.
    pub fn senders_and_flags_with(&self, keywords: &[String]) -> Result<Vec<(String, Vec<String>)>> {
        if keywords.is_empty() {
            return Ok(Vec::new());
        }
        let quoted: Vec<String> = keywords.iter().map(|k| serde_json::to_string(k).unwrap_or_default()).collect();
        let any = vec!["instr(flags, ?) > 0"; quoted.len()].join(" OR ");
        let sql = format!("SELECT from_addr, flags FROM messages WHERE from_addr != '' AND ({any}) LIMIT 500");
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(quoted.iter()), |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let rows: Vec<(String, String)> = rows.collect::<std::result::Result<_, _>>()?;
        rows.into_iter().map(|(from, flags)| Ok((from, parse_json(&flags, "messages.flags")?))).collect()
    }

    /// Say that `a` and `b` are the same customer (both directions).
    pub fn link_customers(&self, a: &str, b: &str, now: i64) -> Result<()> {
        let (a, b) = (a.trim().to_lowercase(), b.trim().to_lowercase());
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for (x, y) in [(&a, &b), (&b, &a)] {
            tx.execute("INSERT OR IGNORE INTO customer_links (address, alias, created_at) VALUES (?1, ?2, ?3)", params![x, y, now])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Undo `link_customers`; returns whether a link existed.
    pub fn unlink_customers(&self, a: &str, b: &str) -> Result<bool> {
        let (a, b) = (a.trim().to_lowercase(), b.trim().to_lowercase());
        let n = self
            .conn()
            .execute("DELETE FROM customer_links WHERE (address = ?1 AND alias = ?2) OR (address = ?2 AND alias = ?1)", params![a, b])?;
        Ok(n > 0)
    }

    /// Addresses linked by hand to `address`.
    pub fn customer_links(&self, address: &str) -> Result<Vec<String>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached("SELECT alias FROM customer_links WHERE address = ?1 ORDER BY alias")?;
        let rows = stmt.query_map([address.trim().to_lowercase()], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}
