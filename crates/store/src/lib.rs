//! Blendesk's local SQLite database: a rebuildable mirror of the shared mailbox with a
//! full-text index, and the durable outbox — the one thing only this database holds.
//!
//! One connection, used as the single writer (SQLite allows one writer at a time; a
//! mutex here turns contention into queueing instead of `SQLITE_BUSY`).

mod db;
mod docs;
mod error;
mod history;
mod meta;
mod mirror;
mod outbox;
mod parked;
mod search;
mod team;
mod views;

pub use docs::{DocFolderState, DocVersion, KbArticle, KbHit, KIND_ARTICLE, KIND_INVALID, KIND_TEMPLATE, KIND_TOMBSTONE, KIND_USAGE};
pub use error::StoreError;
pub use history::HistoryRow;
pub use mirror::{AttachmentMeta, BodyState, FolderState, FolderSummary, NewMessage, StoredMessage};
pub use outbox::{NewOutboxItem, OutboxItem};
pub use search::SearchHit;
pub use team::QueueHead;
pub use views::MessageHead;

use rusqlite::Connection;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

pub type Result<T> = std::result::Result<T, StoreError>;

pub struct Store {
    conn: Mutex<Connection>,
    /// The last queue heads read per folder list, with the messages generation they
    /// were read at (see `team.rs`).
    heads_cache: team::HeadsCache,
}

impl Store {
    /// Open (creating if needed) the database at `path` and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = db::open(path)?;
        Ok(Self { conn: Mutex::new(conn), heads_cache: Default::default() })
    }

    /// An in-memory database, for tests of code that needs a store.
    pub fn open_in_memory() -> Result<Self> {
        let conn = db::open_in_memory()?;
        Ok(Self { conn: Mutex::new(conn), heads_cache: Default::default() })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions
        // roll back on drop), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `PRAGMA integrity_check`: "ok" or the problems SQLite found.
    pub fn integrity_check(&self) -> Result<String> {
        let conn = self.conn();
        let rows: Vec<String> =
            conn.prepare("PRAGMA integrity_check")?.query_map([], |r| r.get(0))?.collect::<std::result::Result<_, _>>()?;
        Ok(rows.join("; "))
    }

    pub fn schema_version(&self) -> Result<i64> {
        db::schema_version(&self.conn())
    }
}
