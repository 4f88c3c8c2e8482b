//! Claims: who owns each queue email. A claim is decided by one conditional statement —
//! the primary key lets exactly one INSERT of an email key through — so two apps can
//! never both be told they own an email.

use blendesk_domain::advisor::AdvisorId;

use crate::error::{check_key, db, CoordError, Result};
use crate::session::{advisor_from_db, AdvisorSession};

/// The claim: insert, or, when the email is taken, read its owner in the same statement.
/// The read sees the statement's snapshot, so a racer's row committed after the snapshot
/// returns no row at all; `claim` then reads the owner again.
pub(crate) const CLAIM_SQL: &str = "
    WITH claimed AS (
        INSERT INTO blendesk.claims (email_key, owner) VALUES ($1, $2)
        ON CONFLICT (email_key) DO NOTHING
        RETURNING owner, version
    )
    SELECT owner, version, true FROM claimed
    UNION ALL
    SELECT owner, version, false FROM blendesk.claims
    WHERE email_key = $1 AND NOT EXISTS (SELECT 1 FROM claimed)";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This call took the email; `version` is higher than any earlier owner's.
    Claimed { version: i64 },
    /// Someone already owns it (possibly `me`, from an earlier claim).
    Taken { owner: AdvisorId, version: i64 },
}

/// A released email that another app claims between our two reads is retried, a few times.
const CLAIM_ATTEMPTS: usize = 5;

impl AdvisorSession {
    /// Claims `email_key` for `me`. Row-level security refuses a claim under another
    /// advisor's name (`NotPermitted`).
    pub async fn claim(&self, email_key: &str, me: &AdvisorId) -> Result<Claim> {
        check_key("email key", email_key)?;
        for _ in 0..CLAIM_ATTEMPTS {
            let row = self.client.query_opt(&self.claim_stmt, &[&email_key, &me.as_str()]).await.map_err(db("claiming an email"))?;
            if let Some(row) = row {
                let version: i64 = row.get(1);
                return Ok(if row.get::<_, bool>(2) {
                    Claim::Claimed { version }
                } else {
                    Claim::Taken { owner: advisor_from_db(row.get(0))?, version }
                });
            }
            if let Some((owner, version)) = self.owner_of(email_key).await? {
                return Ok(Claim::Taken { owner, version });
            }
        }
        Err(CoordError::Contended { email_key: email_key.to_owned(), attempts: CLAIM_ATTEMPTS })
    }

    /// The owner of `email_key` and their claim's version, if anyone owns it.
    pub async fn owner_of(&self, email_key: &str) -> Result<Option<(AdvisorId, i64)>> {
        check_key("email key", email_key)?;
        let row = self
            .client
            .query_opt("SELECT owner, version FROM blendesk.claims WHERE email_key = $1", &[&email_key])
            .await
            .map_err(db("reading an email's owner"))?;
        row.map(|r| Ok((advisor_from_db(r.get(0))?, r.get(1)))).transpose()
    }

    /// Every claimed email key and its owner.
    pub async fn owners(&self) -> Result<Vec<(String, AdvisorId)>> {
        let rows = self
            .client
            .query("SELECT email_key, owner FROM blendesk.claims ORDER BY email_key", &[])
            .await
            .map_err(db("reading the owners"))?;
        rows.into_iter().map(|r| Ok((r.get(0), advisor_from_db(r.get(1))?))).collect()
    }

    /// Gives up `owner`'s claim on `email_key` and records that `owner` declined it, so
    /// their app does not take it back — one statement, so never one without the other.
    /// False when `owner` did not own it. Only the owner or a supervisor may (row-level
    /// security hides everyone else's rows).
    pub async fn release(&self, email_key: &str, owner: &AdvisorId) -> Result<bool> {
        check_key("email key", email_key)?;
        let row = self
            .client
            .query_one(
                "WITH released AS (
                     DELETE FROM blendesk.claims WHERE email_key = $1 AND owner = $2 RETURNING email_key, owner
                 ), declined AS (
                     INSERT INTO blendesk.declined (email_key, advisor) SELECT email_key, owner FROM released
                     ON CONFLICT DO NOTHING
                 )
                 SELECT count(*) FROM released",
                &[&email_key, &owner.as_str()],
            )
            .await
            .map_err(db("releasing an email"))?;
        Ok(row.get::<_, i64>(0) == 1)
    }

    /// Gives up `owner`'s claim without recording a release (a hand-back during a long
    /// call: the email may come back to them later). False when `owner` did not own it.
    pub async fn give_back(&self, email_key: &str, owner: &AdvisorId) -> Result<bool> {
        check_key("email key", email_key)?;
        let n = self
            .client
            .execute("DELETE FROM blendesk.claims WHERE email_key = $1 AND owner = $2", &[&email_key, &owner.as_str()])
            .await
            .map_err(db("giving an email back"))?;
        Ok(n == 1)
    }

    /// Takes `email_key` over from `gone` for this session's advisor, if `gone`'s app has
    /// been silent 15 s by the database's clock (`blendesk.take_over`). The new claim's
    /// version, or None when `gone` no longer owns it or is not silent.
    pub async fn take_over(&self, email_key: &str, gone: &AdvisorId) -> Result<Option<i64>> {
        check_key("email key", email_key)?;
        let row = self
            .client
            .query_one("SELECT blendesk.take_over($1, $2)", &[&email_key, &gone.as_str()])
            .await
            .map_err(db("taking over an email"))?;
        Ok(row.get(0))
    }

    /// Whether `advisor` released `email_key` earlier.
    pub async fn declined(&self, email_key: &str, advisor: &AdvisorId) -> Result<bool> {
        let row = self
            .client
            .query_opt("SELECT 1 FROM blendesk.declined WHERE email_key = $1 AND advisor = $2", &[&email_key, &advisor.as_str()])
            .await
            .map_err(db("reading releases"))?;
        Ok(row.is_some())
    }

    /// Moves `email_key` from `from` to `to` if `from` still owns it: one conditional
    /// UPDATE (a trigger stamps the new version). Returns the new claim's version, or None when `from` no longer owned it.
    /// The owner or a supervisor may; `to` must be a registered advisor.
    pub async fn transfer(&self, email_key: &str, from: &AdvisorId, to: &AdvisorId) -> Result<Option<i64>> {
        check_key("email key", email_key)?;
        let row = self
            .client
            .query_opt(
                "UPDATE blendesk.claims
                 SET owner = $3
                 WHERE email_key = $1 AND owner = $2
                 RETURNING version",
                &[&email_key, &from.as_str(), &to.as_str()],
            )
            .await
            .map_err(|e| db("transferring an email")(e).naming(to.as_str()))?;
        Ok(row.map(|r| r.get(0)))
    }
}
