//! Moving a team from the mailbox to PostgreSQL: the owners the mailbox's keywords name
//! become claims. Idempotent: running it again changes nothing, and an email someone
//! claimed in the database meanwhile keeps that owner (reported as a conflict).

use std::collections::BTreeMap;

use blendesk_domain::advisor::AdvisorId;

use crate::error::{check_key, db, CoordError, Result};
use crate::session::{advisor_from_db, AdvisorSession};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Claims created now.
    pub imported: usize,
    /// Already claimed by the same owner (an earlier run).
    pub unchanged: usize,
    /// Claimed by someone else in the database: (email key, database owner, mailbox owner).
    pub conflicts: Vec<(String, AdvisorId, AdvisorId)>,
}

const BATCH: usize = 1000;

impl AdvisorSession {
    /// Imports `owners` (email key → owner). Run by a supervisor (row-level security lets
    /// supervisors claim for anyone). Every owner must be a registered advisor; the same
    /// key with two owners in the input is refused before anything is written.
    pub async fn import_owners(&self, owners: &[(String, AdvisorId)]) -> Result<ImportReport> {
        let mut wanted: BTreeMap<&str, &AdvisorId> = BTreeMap::new();
        for (key, owner) in owners {
            check_key("email key", key)?;
            if let Some(other) = wanted.insert(key, owner) {
                if other != owner {
                    return Err(CoordError::Invalid {
                        what: "owners to import",
                        problem: format!("{key} has two owners, {other} and {owner}"),
                    });
                }
            }
        }
        self.check_registered(wanted.values().map(|a| a.as_str()).collect()).await?;
        let mut report = ImportReport::default();
        let entries: Vec<(&str, &AdvisorId)> = wanted.into_iter().collect();
        for batch in entries.chunks(BATCH) {
            let keys: Vec<&str> = batch.iter().map(|(k, _)| *k).collect();
            let names: Vec<&str> = batch.iter().map(|(_, a)| a.as_str()).collect();
            let inserted = self
                .client
                .query(
                    "INSERT INTO blendesk.claims (email_key, owner)
                     SELECT * FROM unnest($1::text[], $2::text[])
                     ON CONFLICT (email_key) DO NOTHING
                     RETURNING email_key",
                    &[&keys, &names],
                )
                .await
                .map_err(db("importing owners"))?;
            report.imported += inserted.len();
            // The rest were claimed before — by the same owner (an earlier run) or not. A
            // statement of its own, so it sees rows racers committed during the insert.
            let existing = self
                .client
                .query("SELECT email_key, owner FROM blendesk.claims WHERE email_key = ANY($1)", &[&keys])
                .await
                .map_err(db("reading imported owners"))?;
            let new: std::collections::HashSet<String> = inserted.into_iter().map(|r| r.get(0)).collect();
            for row in existing {
                let key: String = row.get(0);
                if new.contains(&key) {
                    continue;
                }
                let db_owner = advisor_from_db(row.get(1))?;
                let Some((_, wanted_owner)) = batch.iter().find(|(k, _)| *k == key) else { continue };
                if &db_owner == *wanted_owner {
                    report.unchanged += 1;
                } else {
                    report.conflicts.push((key, db_owner, (*wanted_owner).clone()));
                }
            }
        }
        Ok(report)
    }

    /// Imports the mailbox's releases (email key, advisor who released it); true per row
    /// new. Run by a supervisor (row-level security lets them record anyone's).
    pub async fn import_declined(&self, declined: &[(String, AdvisorId)]) -> Result<usize> {
        self.check_registered(declined.iter().map(|(_, a)| a.as_str()).collect()).await?;
        let mut added = 0;
        for batch in declined.chunks(BATCH) {
            for (key, _) in batch {
                check_key("email key", key)?;
            }
            let keys: Vec<&str> = batch.iter().map(|(k, _)| k.as_str()).collect();
            let names: Vec<&str> = batch.iter().map(|(_, a)| a.as_str()).collect();
            added += self
                .client
                .execute(
                    "INSERT INTO blendesk.declined (email_key, advisor) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
                    &[&keys, &names],
                )
                .await
                .map_err(db("importing releases"))? as usize;
        }
        Ok(added)
    }

    /// Imports the mailbox's marks (email key, mark) as set by `me`; how many were new.
    /// A thousand per statement: a mailbox with years of resolved email has many.
    pub async fn import_marks(&self, marks: &[(String, String)], me: &AdvisorId) -> Result<usize> {
        let mut added = 0;
        for batch in marks.chunks(BATCH) {
            for (key, mark) in batch {
                check_key("email key", key)?;
                crate::marks::check_mark(mark)?;
            }
            let keys: Vec<&str> = batch.iter().map(|(k, _)| k.as_str()).collect();
            let names: Vec<&str> = batch.iter().map(|(_, m)| m.as_str()).collect();
            added += self
                .client
                .execute(
                    "INSERT INTO blendesk.marks (email_key, mark, set_by)
                     SELECT k, m, $3 FROM unnest($1::text[], $2::text[]) AS i (k, m)
                     ON CONFLICT DO NOTHING",
                    &[&keys, &names, &me.as_str()],
                )
                .await
                .map_err(db("importing marks"))? as usize;
        }
        Ok(added)
    }

    async fn check_registered(&self, mut names: Vec<&str>) -> Result<()> {
        names.sort_unstable();
        names.dedup();
        let rows = self
            .client
            .query("SELECT advisor FROM blendesk.advisors WHERE advisor = ANY($1)", &[&names])
            .await
            .map_err(db("reading the registered advisors"))?;
        let known: Vec<String> = rows.into_iter().map(|r| r.get(0)).collect();
        let unknown: Vec<&str> = names.into_iter().filter(|n| !known.iter().any(|k| k == n)).collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(CoordError::Invalid {
                what: "owners to import",
                problem: format!("not registered as advisors (the administrator adds them first): {}", unknown.join(", ")),
            })
        }
    }
}
