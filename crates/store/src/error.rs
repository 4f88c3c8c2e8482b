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

/// Parse a JSON column's text; corrupt JSON is reported (naming `what`), never read as
/// empty: an empty flag list would make an owned email look unowned, and writing it
/// back would lose the flags for good.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what} is not valid JSON ({e}): {text:.80}")))
}

/// `parse_json` of column `idx` inside a row mapping (where errors are rusqlite's).
pub(crate) fn json_column<T: serde::de::DeserializeOwned>(r: &rusqlite::Row<'_>, idx: usize, what: &str) -> rusqlite::Result<T> {
    let text: String = r.get(idx)?;
    parse_json(&text, what).map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, rusqlite::types::Type::Text, Box::new(e)))
}
