//! Full-text search over the mirror (subject, sender, body), Chinese included.

use crate::{Result, Store};
use blendesk_domain::fts::match_query;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub id: i64,
    pub folder: String,
    pub uid: u32,
    pub subject: String,
    pub from_addr: String,
    pub internal_date: i64,
}

impl Store {
    /// Messages matching every word of `query`, best first (BM25).
    pub fn search(&self, query: &str, limit: u32) -> Result<Vec<SearchHit>> {
        let Some(expr) = match_query(query) else { return Ok(Vec::new()) };
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT m.id, f.name, m.uid, m.subject, m.from_addr, m.internal_date
             FROM messages_fts
             JOIN messages m ON m.id = messages_fts.rowid
             JOIN folders f ON f.id = m.folder_id
             WHERE messages_fts MATCH ?1
             ORDER BY bm25(messages_fts, 4.0, 2.0, 1.0)
             LIMIT ?2",
        )?;
        let rows = stmt.query_map(rusqlite::params![expr, limit], |r| {
            Ok(SearchHit {
                id: r.get(0)?,
                folder: r.get(1)?,
                uid: r.get(2)?,
                subject: r.get(3)?,
                from_addr: r.get(4)?,
                internal_date: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}
