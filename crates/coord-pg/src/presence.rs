//! Presence: each advisor's state and load, with a heartbeat stamped by the server's
//! clock, so advisors' clocks never need to agree.

use blendesk_domain::advisor::AdvisorId;

use crate::error::{db, CoordError, Result};
use crate::session::{advisor_from_db, AdvisorSession};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceRow {
    pub advisor: AdvisorId,
    pub state: String,
    pub load: u32,
    /// Milliseconds since the last heartbeat, by the server's clock.
    pub age_ms: i64,
    /// The app's whole note (`heartbeat_note`), if it sent one.
    pub note: Option<serde_json::Value>,
}

impl AdvisorSession {
    /// Records `me`'s state (`[a-z_]{1,32}`, e.g. `available`, `on_call`) and load now
    /// (a trigger stamps the server's time). Row-level security refuses another
    /// advisor's row.
    pub async fn heartbeat(&self, me: &AdvisorId, state: &str, load: u32) -> Result<()> {
        self.heartbeat_note(me, state, load, None).await
    }

    /// As `heartbeat`, with the app's whole presence note (a JSON object) beside it.
    pub async fn heartbeat_note(&self, me: &AdvisorId, state: &str, load: u32, note: Option<&serde_json::Value>) -> Result<()> {
        if state.is_empty() || state.len() > 32 || !state.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(CoordError::Invalid {
                what: "presence state",
                problem: format!("{state:?}: use 1 to 32 characters from a-z and _"),
            });
        }
        let load = i32::try_from(load).map_err(|_| CoordError::Invalid { what: "load", problem: format!("{load} is too large") })?;
        self.client
            .execute(
                "INSERT INTO blendesk.presence (advisor, state, load, note) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (advisor) DO UPDATE SET state = EXCLUDED.state, load = EXCLUDED.load, note = EXCLUDED.note",
                &[&me.as_str(), &state, &load, &note],
            )
            .await
            .map_err(db("recording a heartbeat"))?;
        Ok(())
    }

    /// The presence board: every advisor who ever sent a heartbeat.
    pub async fn presence(&self) -> Result<Vec<PresenceRow>> {
        let rows = self
            .client
            .query(
                "SELECT advisor, state, load, (extract(epoch FROM now() - heartbeat) * 1000)::bigint, note
                 FROM blendesk.presence ORDER BY advisor",
                &[],
            )
            .await
            .map_err(db("reading the presence board"))?;
        rows.into_iter()
            .map(|r| {
                let load: i32 = r.get(2);
                Ok(PresenceRow {
                    advisor: advisor_from_db(r.get(0))?,
                    state: r.get(1),
                    load: u32::try_from(load).map_err(|_| CoordError::Corrupt(format!("negative load {load}")))?,
                    age_ms: r.get(3),
                    note: r.get(4),
                })
            })
            .collect()
    }
}
