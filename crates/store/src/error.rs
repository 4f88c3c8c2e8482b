use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot open the database at {path}: {source}")]
    Open { path: String, source: rusqlite::Error },
    #[error("database migration {version} failed: {source}")]
    Migration { version: i64, source: rusqlite::Error },
    #[error("the database was written by a newer Blendesk (schema {found}, this build knows {known}); upgrade Blendesk")]
    TooNew { found: i64, known: i64 },
    #[error("corrupt value in the database: {0}")]
    Corrupt(String),
}
