//! The team's event log: append-only, and idempotent by event id, so an app that retries
//! after a lost answer records its event once.

use blendesk_domain::advisor::AdvisorId;

use crate::error::{check_key, db, CoordError, Result};
use crate::session::AdvisorSession;

impl AdvisorSession {
    /// Records event `event_id` (1–100 characters, unique per event, e.g. a UUID) of
    /// `kind` by `me`, which happened at `occurred_at_ms` (unix ms). True when it is new,
    /// false when this id was recorded before (the first body stays).
    pub async fn record_event(
        &self,
        event_id: &str,
        kind: &str,
        me: &AdvisorId,
        occurred_at_ms: i64,
        body: &serde_json::Value,
    ) -> Result<bool> {
        check_key("event id", event_id)?;
        if event_id.chars().count() > 100 {
            return Err(CoordError::Invalid { what: "event id", problem: "it is longer than 100 characters".into() });
        }
        if kind.is_empty() || kind.len() > 32 || !kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(CoordError::Invalid { what: "event kind", problem: format!("{kind:?}: use 1 to 32 characters from a-z and _") });
        }
        let seconds = occurred_at_ms as f64 / 1000.0;
        let inserted = self
            .client
            .execute(
                "INSERT INTO blendesk.events (event_id, kind, advisor, occurred_at, body)
                 VALUES ($1, $2, $3, to_timestamp($4), $5)
                 ON CONFLICT (event_id) DO NOTHING",
                &[&event_id, &kind, &me.as_str(), &seconds, body],
            )
            .await
            .map_err(db("recording an event"))?;
        Ok(inserted == 1)
    }

    /// Events recorded after number `after` (0: from the start), in recording order, at
    /// most `limit`: (number, advisor, body). A number is taken at insert, so an event
    /// committed late can have a smaller one than events already read: callers look back
    /// a margin and rely on event ids to keep each once.
    pub async fn events_since(&self, after: i64, limit: u32) -> Result<Vec<(i64, AdvisorId, serde_json::Value)>> {
        let rows = self
            .client
            .query("SELECT seq, advisor, body FROM blendesk.events WHERE seq > $1 ORDER BY seq LIMIT $2", &[&after, &i64::from(limit)])
            .await
            .map_err(db("reading events"))?;
        rows.into_iter().map(|r| Ok((r.get(0), crate::session::advisor_from_db(r.get(1))?, r.get(2)))).collect()
    }

    /// How many events the log holds (for tests and reports).
    pub async fn event_count(&self) -> Result<i64> {
        let row = self.client.query_one("SELECT count(*) FROM blendesk.events", &[]).await.map_err(db("counting events"))?;
        Ok(row.get(0))
    }
}
