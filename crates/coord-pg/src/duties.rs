//! Team-wide duties (one acknowledgement per new conversation, one still-working note
//! per breach): the first INSERT of a (kind, key) holds it, like a claim.

use blendesk_domain::advisor::AdvisorId;

use crate::error::{check_key, db, CoordError, Result};
use crate::session::{advisor_from_db, AdvisorSession};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Duty {
    /// This call took the duty: do it.
    Taken,
    /// Someone holds it already (possibly `me`, from an earlier call).
    HeldBy(AdvisorId),
}

impl AdvisorSession {
    /// Takes duty `kind` (`[a-z_]{1,32}`, e.g. `ack`, `late`) for `key` as `me`.
    pub async fn take_duty(&self, kind: &str, key: &str, me: &AdvisorId) -> Result<Duty> {
        if kind.is_empty() || kind.len() > 32 || !kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(CoordError::Invalid { what: "duty kind", problem: format!("{kind:?}: use 1 to 32 characters from a-z and _") });
        }
        check_key("duty key", key)?;
        let row = self
            .client
            .query_opt(
                "WITH taken AS (
                     INSERT INTO blendesk.duties (kind, duty_key, holder) VALUES ($1, $2, $3)
                     ON CONFLICT (kind, duty_key) DO NOTHING
                     RETURNING holder
                 )
                 SELECT holder, true FROM taken
                 UNION ALL
                 SELECT holder, false FROM blendesk.duties
                 WHERE kind = $1 AND duty_key = $2 AND NOT EXISTS (SELECT 1 FROM taken)",
                &[&kind, &key, &me.as_str()],
            )
            .await
            .map_err(db("taking a duty"))?;
        match row {
            Some(row) if row.get::<_, bool>(1) => Ok(Duty::Taken),
            Some(row) => Ok(Duty::HeldBy(advisor_from_db(row.get(0))?)),
            // A racer's row committed after this statement's snapshot; duties are never
            // deleted, so reading again finds it.
            None => {
                let row = self
                    .client
                    .query_one("SELECT holder FROM blendesk.duties WHERE kind = $1 AND duty_key = $2", &[&kind, &key])
                    .await
                    .map_err(db("reading a duty's holder"))?;
                Ok(Duty::HeldBy(advisor_from_db(row.get(0))?))
            }
        }
    }
}
