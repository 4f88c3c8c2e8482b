//! The advisor's unfinished replies, by conversation key, and the drafts handed over
//! with emails (mirrored from `Blendesk/Drafts` as documents of kind `draft`).

use crate::docs::KIND_DRAFT;
use crate::{Result, Store};
use rusqlite::{params, OptionalExtension};

/// A draft another advisor handed over with an email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandedDraft {
    /// The Message-ID of the email it answers.
    pub for_message_id: String,
    pub text: String,
    /// The advisor id whose app handed it over.
    pub author: String,
    /// When it reached the mailbox (unix seconds).
    pub at: i64,
}

impl Store {
    /// Keep `text` as the draft of conversation `key`; blank text removes it.
    pub fn save_draft(&self, key: &str, text: &str, now_ms: i64) -> Result<()> {
        let conn = self.conn();
        if text.trim().is_empty() {
            conn.execute("DELETE FROM drafts WHERE conversation = ?1", [key])?;
        } else {
            conn.execute(
                "INSERT INTO drafts (conversation, text, updated_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT(conversation) DO UPDATE SET text = excluded.text, updated_ms = excluded.updated_ms",
                params![key, text, now_ms],
            )?;
        }
        Ok(())
    }

    /// The draft of conversation `key`, if any.
    pub fn draft(&self, key: &str) -> Result<Option<String>> {
        let conn = self.conn();
        Ok(conn.query_row("SELECT text FROM drafts WHERE conversation = ?1", [key], |r| r.get(0)).optional()?)
    }

    /// The newest draft handed over in `folder` for any of `message_ids`.
    pub fn handed_draft(&self, folder: &str, message_ids: &[String]) -> Result<Option<HandedDraft>> {
        if message_ids.is_empty() {
            return Ok(None);
        }
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT doc_id, body, author, internal_date FROM doc_versions
             WHERE folder = ?1 AND kind = ?2 AND doc_id IN (SELECT value FROM json_each(?3))
             ORDER BY uid DESC LIMIT 1",
        )?;
        let ids = serde_json::to_string(message_ids).unwrap_or_else(|_| "[]".into());
        Ok(stmt
            .query_row(params![folder, KIND_DRAFT, ids], |r| {
                Ok(HandedDraft { for_message_id: r.get(0)?, text: r.get(1)?, author: r.get(2)?, at: r.get(3)? })
            })
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use crate::{DocVersion, Store};

    #[test]
    fn drafts_are_kept_replaced_and_removed_by_blank_text() {
        let store = Store::open_in_memory().unwrap();
        assert_eq!(store.draft("ana@example.com").unwrap(), None);
        store.save_draft("ana@example.com", "Dear Ana,", 1).unwrap();
        store.save_draft("ana@example.com", "Dear Ana, 退款", 2).unwrap();
        assert_eq!(store.draft("ana@example.com").unwrap().as_deref(), Some("Dear Ana, 退款"));
        store.save_draft("ana@example.com", "  \n", 3).unwrap();
        assert_eq!(store.draft("ana@example.com").unwrap(), None);
    }

    #[test]
    fn the_newest_handed_draft_for_any_of_the_emails_is_found() {
        let store = Store::open_in_memory().unwrap();
        let draft = |uid: u32, for_id: &str, body: &str| DocVersion {
            uid,
            kind: super::KIND_DRAFT.into(),
            doc_id: for_id.into(),
            body: body.into(),
            author: "alice".into(),
            internal_date: i64::from(uid),
            ..Default::default()
        };
        store
            .apply_doc_changes(
                "Drafts",
                false,
                &[draft(1, "<a@x>", "first"), draft(2, "<a@x>", "second"), draft(3, "<b@x>", "other")],
                &[],
                &[],
            )
            .unwrap();
        let found = store.handed_draft("Drafts", &["<z@x>".into(), "<a@x>".into()]).unwrap().unwrap();
        assert_eq!((found.text.as_str(), found.author.as_str(), found.for_message_id.as_str()), ("second", "alice", "<a@x>"));
        assert_eq!(store.handed_draft("Drafts", &["<z@x>".into()]).unwrap(), None);
        assert_eq!(store.handed_draft("Drafts", &[]).unwrap(), None);
    }
}
