//! The numbered SQL migrations of schema `blendesk`, each applied in one transaction
//! with its version, under an advisory lock so two apps migrating at once take turns.

use crate::error::{db, CoordError, Result};

/// (version, name, SQL), in order; a new migration is a new file and a new line here.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "roles_and_advisors", include_str!("../migrations/0001_roles_and_advisors.sql")),
    (2, "claims_and_duties", include_str!("../migrations/0002_claims_and_duties.sql")),
    (3, "presence_and_policy", include_str!("../migrations/0003_presence_and_policy.sql")),
    (4, "documents_tokens_events", include_str!("../migrations/0004_documents_tokens_events.sql")),
    (5, "marks_and_presence_notes", include_str!("../migrations/0005_marks_and_presence_notes.sql")),
    (6, "event_order", include_str!("../migrations/0006_event_order.sql")),
    (7, "quiet_heartbeats", include_str!("../migrations/0007_quiet_heartbeats.sql")),
];

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: i32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// Any fixed number: the lock only orders migrations of this database.
const MIGRATION_LOCK: i64 = 0x626c_656e_6465_736b;

/// Applies the migrations the database lacks; returns the versions applied now. Run by
/// the database's owner (the administrator), never by an advisor's role.
pub async fn migrate(client: &mut tokio_postgres::Client) -> Result<Vec<i32>> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await.map_err(db("waiting for the migration lock"))?;
    let outcome = apply_missing(client).await;
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await.map_err(db("releasing the migration lock"));
    let applied = outcome?;
    unlocked?;
    Ok(applied)
}

async fn apply_missing(client: &mut tokio_postgres::Client) -> Result<Vec<i32>> {
    client
        .batch_execute(
            "CREATE SCHEMA IF NOT EXISTS blendesk;
             CREATE TABLE IF NOT EXISTS blendesk.migrations (
                 version integer PRIMARY KEY,
                 name text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             );",
        )
        .await
        .map_err(db("creating the migrations table"))?;
    let current = current_version(client).await?;
    if current > SCHEMA_VERSION {
        return Err(CoordError::SchemaTooNew { found: current, known: SCHEMA_VERSION });
    }
    let mut applied = Vec::new();
    for &(version, name, sql) in MIGRATIONS.iter().filter(|(v, _, _)| *v > current) {
        let tx = client.transaction().await.map_err(db("starting a migration"))?;
        let failed = |source| CoordError::Migration { version, name, source };
        tx.batch_execute(sql).await.map_err(failed)?;
        tx.execute("INSERT INTO blendesk.migrations (version, name) VALUES ($1, $2)", &[&version, &name])
            .await
            .map_err(db("recording a migration"))?;
        tx.commit().await.map_err(failed)?;
        applied.push(version);
    }
    Ok(applied)
}

/// The highest migration applied (0 on a database without the schema).
pub async fn current_version(client: &tokio_postgres::Client) -> Result<i32> {
    let exists: bool = client
        .query_one("SELECT to_regclass('blendesk.migrations') IS NOT NULL", &[])
        .await
        .map_err(db("reading the schema version"))?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = client
        .query_one("SELECT coalesce(max(version), 0) FROM blendesk.migrations", &[])
        .await
        .map_err(db("reading the schema version"))?;
    Ok(row.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_numbered_from_one_without_gaps() {
        for (i, (version, name, sql)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(*version, i as i32 + 1);
            assert!(!sql.trim().is_empty(), "{name}");
        }
    }
}
