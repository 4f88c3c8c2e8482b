//! Blendesk's local SQLite database: a rebuildable mirror of the shared mailbox with a
//! full-text index, and the durable outbox — the one thing only this database holds.
//!
//! One connection is the single writer (SQLite allows one writer at a time; a mutex here
//! turns contention into queueing instead of `SQLITE_BUSY`). The window's reads (lists,
//! bodies, search, history) go to read-only connections beside it: in WAL mode a reader
//! sees the last commit while a sync batch is being written, so the window never waits
//! behind a sync.

mod activity;
mod activity_index;
mod coord;
mod db;
mod docs;
mod drafts;
mod error;
mod history;
mod meta;
mod mirror;
mod outbox;
mod parked;
mod search;
mod team;
mod views;

pub use activity::OwnActivity;
pub use coord::EmailPlace;
pub use docs::{
    DocFolderState, DocVersion, KbArticle, KbHit, KIND_ARTICLE, KIND_DRAFT, KIND_INVALID, KIND_REVIEW, KIND_SCORECARD, KIND_TEMPLATE,
    KIND_TOMBSTONE, KIND_USAGE,
};
pub use drafts::HandedDraft;
pub use error::StoreError;
pub use history::HistoryRow;
pub use mirror::{AttachmentMeta, BodyState, FolderState, FolderSummary, NewMessage, StoredMessage};
pub use outbox::{NewOutboxItem, OutboxItem};
pub use search::SearchHit;
pub use team::QueueHead;
pub use views::MessageHead;

use rusqlite::Connection;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

/// Read-only connections per store: the window's reads rarely overlap more than this.
const READERS: usize = 2;

pub type Result<T> = std::result::Result<T, StoreError>;

pub struct Store {
    conn: Mutex<Connection>,
    /// Read-only connections for the window's reads; empty for an in-memory store (its
    /// database cannot be shared), whose reads then use the writer.
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// The last queue heads read per folder list, with the messages generation they
    /// were read at (see `team.rs`).
    heads_cache: team::HeadsCache,
}

impl Store {
    /// Open (creating if needed) the database at `path` and bring its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = db::open(path)?;
        let readers = (0..READERS).map(|_| db::open_reader(path).map(Mutex::new)).collect::<Result<_>>()?;
        Ok(Self { conn: Mutex::new(conn), readers, next_reader: AtomicUsize::new(0), heads_cache: Default::default() })
    }

    /// One connection for everything, as before readers existed: only for the benchmark
    /// that compares the two (`examples/read_during_sync_bench.rs`).
    #[doc(hidden)]
    pub fn open_without_readers(path: &Path) -> Result<Self> {
        let conn = db::open(path)?;
        Ok(Self { conn: Mutex::new(conn), readers: Vec::new(), next_reader: AtomicUsize::new(0), heads_cache: Default::default() })
    }

    /// An in-memory database, for tests of code that needs a store.
    pub fn open_in_memory() -> Result<Self> {
        let conn = db::open_in_memory()?;
        Ok(Self { conn: Mutex::new(conn), readers: Vec::new(), next_reader: AtomicUsize::new(0), heads_cache: Default::default() })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions
        // roll back on drop), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A read-only connection for a read that must not wait behind the writer: a free
    /// one if any, else the next in turn. Sees every transaction committed before it.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        if self.readers.is_empty() {
            return self.conn();
        }
        for r in &self.readers {
            match r.try_lock() {
                Ok(g) => return g,
                Err(TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        self.readers[i].lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
