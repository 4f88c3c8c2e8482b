//! Marks: the fixed names the mailbox backend writes as keywords on a queue email
//! (`$Resolved`, `$bd_breached`, `$bd_ack`, `$bd_late`, token bits) are rows here, so a
//! team on PostgreSQL never writes a keyword to its mailbox. And what an app needs to
//! show every email's coordination: its owner, who declined it and its marks, for all
//! emails at start and after a lost feed, or for one email when the feed says it changed.

use std::collections::BTreeMap;

use blendesk_domain::advisor::AdvisorId;

use crate::error::{check_key, db, CoordError, Result};
use crate::session::{advisor_from_db, AdvisorSession};

/// One email's coordination as the database holds it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EmailState {
    pub owner: Option<AdvisorId>,
    pub declined: Vec<AdvisorId>,
    pub marks: Vec<String>,
}

pub(crate) fn check_mark(mark: &str) -> Result<()> {
    let body = mark.strip_prefix('$').unwrap_or("");
    if body.is_empty() || body.len() > 48 || !body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(CoordError::Invalid {
            what: "mark",
            problem: format!("{mark:?}: use $ and 1 to 48 characters from A-Z, a-z, 0-9 and _"),
        });
    }
    Ok(())
}

impl AdvisorSession {
    /// Sets `mark` on `email_key` as `me`; true when it was not set before.
    pub async fn set_mark(&self, email_key: &str, mark: &str, me: &AdvisorId) -> Result<bool> {
        check_key("email key", email_key)?;
        check_mark(mark)?;
        let n = self
            .client
            .execute(
                "INSERT INTO blendesk.marks (email_key, mark, set_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&email_key, &mark, &me.as_str()],
            )
            .await
            .map_err(db("setting a mark"))?;
        Ok(n == 1)
    }

    /// Replaces the marks of `email_key` that `owned` says are this kind (token bits, say)
    /// with `wanted`: the new ones inserted first, the stale ones deleted after, so a
    /// reader never sees the email with fewer marks than either list.
    pub async fn replace_marks(
        &self,
        email_key: &str,
        owned: &(dyn Fn(&str) -> bool + Sync),
        wanted: &[String],
        me: &AdvisorId,
    ) -> Result<()> {
        check_key("email key", email_key)?;
        for m in wanted {
            check_mark(m)?;
        }
        for m in wanted {
            self.set_mark(email_key, m, me).await?;
        }
        let current = self.email_state(email_key).await?.marks;
        let stale: Vec<&str> = current.iter().map(String::as_str).filter(|m| owned(m) && !wanted.iter().any(|w| w == m)).collect();
        if !stale.is_empty() {
            self.client
                .execute("DELETE FROM blendesk.marks WHERE email_key = $1 AND mark = ANY($2)", &[&email_key, &stale])
                .await
                .map_err(db("clearing marks"))?;
        }
        Ok(())
    }

    /// The owner, releases and marks of one email.
    pub async fn email_state(&self, email_key: &str) -> Result<EmailState> {
        check_key("email key", email_key)?;
        let mut all = self.states_where("WHERE email_key = $1", &[&email_key]).await?;
        Ok(all.remove(email_key).unwrap_or_default())
    }

    /// The owner, releases and marks of each of `email_keys` (an email the database
    /// knows nothing of is absent).
    pub async fn email_states_of(&self, email_keys: &[&str]) -> Result<BTreeMap<String, EmailState>> {
        for key in email_keys {
            check_key("email key", key)?;
        }
        self.states_where("WHERE email_key = ANY($1)", &[&email_keys]).await
    }

    /// Every email the database knows anything about, by key.
    pub async fn email_states(&self) -> Result<BTreeMap<String, EmailState>> {
        self.states_where("", &[]).await
    }

    async fn states_where(
        &self,
        filter: &str,
        args: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<BTreeMap<String, EmailState>> {
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT email_key, 'owner', owner FROM blendesk.claims {filter}
                     UNION ALL SELECT email_key, 'declined', advisor FROM blendesk.declined {filter}
                     UNION ALL SELECT email_key, 'mark', mark FROM blendesk.marks {filter}"
                ),
                args,
            )
            .await
            .map_err(db("reading the emails' owners and marks"))?;
        let mut out: BTreeMap<String, EmailState> = BTreeMap::new();
        for row in rows {
            let key: String = row.get(0);
            let kind: &str = row.get(1);
            let value: String = row.get(2);
            let state = out.entry(key).or_default();
            match kind {
                "owner" => state.owner = Some(advisor_from_db(value)?),
                "declined" => state.declined.push(advisor_from_db(value)?),
                _ => state.marks.push(value),
            }
        }
        for state in out.values_mut() {
            state.declined.sort_by(|a, b| a.as_str().cmp(b.as_str()));
            state.marks.sort();
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_checked_before_the_database_sees_them() {
        for ok in ["$Resolved", "$bd_ack", "$bd_t3"] {
            assert!(check_mark(ok).is_ok(), "{ok}");
        }
        for bad in ["", "$", "Resolved", "$bd ack", "$bd-ack", "$日本", &format!("${}", "a".repeat(49))] {
            assert!(matches!(check_mark(bad), Err(CoordError::Invalid { .. })), "{bad}");
        }
    }
}
