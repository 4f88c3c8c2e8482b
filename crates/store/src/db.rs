//! Opening the database and applying the numbered migrations in `migrations/`.

use crate::{Result, StoreError};
use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

/// Numbered migrations; each runs in one transaction together with its version bump.
/// Never edit a shipped migration: add the next number.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_mirror_and_outbox.sql")),
    (2, include_str!("../migrations/0002_ack_decision.sql")),
    (3, include_str!("../migrations/0003_knowledge_templates.sql")),
    (4, include_str!("../migrations/0004_parked.sql")),
    (5, include_str!("../migrations/0005_messages_generation.sql")),
    (6, include_str!("../migrations/0006_message_ids_never_reused.sql")),
    (7, include_str!("../migrations/0007_messages_by_date.sql")),
    (8, include_str!("../migrations/0008_drafts.sql")),
    (9, include_str!("../migrations/0009_activity.sql")),
    (10, include_str!("../migrations/0010_activity_days.sql")),
    (11, include_str!("../migrations/0011_handle_time.sql")),
    (12, include_str!("../migrations/0012_quality_docs.sql")),
    (13, include_str!("../migrations/0013_hold_time.sql")),
    (14, include_str!("../migrations/0014_activity_index.sql")),
    (15, include_str!("../migrations/0015_conversation_tags.sql")),
    (16, include_str!("../migrations/0016_coordination_marks.sql")),
];

pub(crate) fn open(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
            path: path.display().to_string(),
            source: rusqlite::Error::InvalidPath(format!("{}: {e}", dir.display()).into()),
        })?;
    }
    let conn = Connection::open(path).map_err(|source| StoreError::Open { path: path.display().to_string(), source })?;
    configure(&conn)?;
    migrate(&conn)?;
    Ok(conn)
}

/// A read-only connection to a database `open` has created and migrated.
pub(crate) fn open_reader(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path).map_err(|source| StoreError::Open { path: path.display().to_string(), source })?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "query_only", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

pub(crate) fn open_in_memory() -> Result<Connection> {
    let conn = Connection::open_in_memory()?;
    configure(&conn)?;
    migrate(&conn)?;
    Ok(conn)
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    // WAL with synchronous=NORMAL survives application crashes; outbox commits switch to
    // FULL (see outbox.rs) because a reply must survive power loss too.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

pub(crate) fn schema_version(conn: &Connection) -> Result<i64> {
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT", [])?;
    let v: Option<i64> = conn.query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))?;
    Ok(v.unwrap_or(0))
}

fn migrate(conn: &Connection) -> Result<()> {
    let current = schema_version(conn)?;
    let known = MIGRATIONS.last().map(|m| m.0).unwrap_or(0);
    if current > known {
        return Err(StoreError::TooNew { found: current, known });
    }
    for &(version, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        let apply = || -> rusqlite::Result<()> {
            let tx = conn.unchecked_transaction()?;
            tx.execute_batch(sql)?;
            tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [version])?;
            tx.commit()
        };
        apply().map_err(|source| StoreError::Migration { version, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_once_and_record_their_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/b.db");
        let conn = open(&path).unwrap();
        let latest = MIGRATIONS.last().unwrap().0;
        assert_eq!(schema_version(&conn).unwrap(), latest);
        drop(conn);
        let conn = open(&path).unwrap();
        let rows: i64 = conn.query_row("SELECT count(*) FROM schema_version", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, MIGRATIONS.len() as i64);
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert_eq!(fk, 1);
    }

    #[test]
    fn a_version_1_database_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = Connection::open(&path).unwrap();
            schema_version(&conn).unwrap();
            conn.execute_batch(MIGRATIONS[0].1).unwrap();
            conn.execute("INSERT INTO schema_version (version) VALUES (1)", []).unwrap();
            conn.execute("INSERT INTO folders (name) VALUES ('INBOX')", []).unwrap();
            conn.execute("INSERT INTO messages (folder_id, uid, identity) VALUES (1, 7, 'mid:a@b')", []).unwrap();
        }
        let conn = open(&path).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), MIGRATIONS.last().unwrap().0);
        let (uid, ack): (u32, String) =
            conn.query_row("SELECT uid, ack_decision FROM messages", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        assert_eq!((uid, ack.as_str()), (7, ""), "old rows kept, new column defaulted");
    }

    #[test]
    fn a_newer_schema_is_refused_not_clobbered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.db");
        let conn = open(&path).unwrap();
        conn.execute("INSERT INTO schema_version (version) VALUES (99)", []).unwrap();
        drop(conn);
        assert!(matches!(open(&path), Err(StoreError::TooNew { found: 99, .. })));
    }
}
