//! Parked conversations ("come back later"), keyed by customer address (lowercase).

use crate::{Result, Store};
use rusqlite::params;
use std::collections::BTreeMap;

impl Store {
    /// Park (or re-park) the conversation with `customer` until `return_at_ms`.
    pub fn park(&self, customer: &str, return_at_ms: i64) -> Result<()> {
        self.conn().execute(
            "INSERT INTO parked (customer, return_at_ms) VALUES (?1, ?2)
             ON CONFLICT(customer) DO UPDATE SET return_at_ms = excluded.return_at_ms",
            params![customer.to_lowercase(), return_at_ms],
        )?;
        Ok(())
    }

    pub fn unpark(&self, customer: &str) -> Result<()> {
        self.conn().execute("DELETE FROM parked WHERE customer = ?1", params![customer.to_lowercase()])?;
        Ok(())
    }

    /// Every parked conversation: customer → return time (ms).
    pub fn parked(&self) -> Result<BTreeMap<String, i64>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT customer, return_at_ms FROM parked")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}
