//! The mirror of IMAP folders: messages, flags, attachments metadata, and the search
//! index kept in step with them.

use crate::error::parse_json;
use crate::{Result, Store, StoreError};
use blendesk_domain::fts::index_text;
use rusqlite::{params, OptionalExtension, Transaction};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyState {
    /// Parsed: text, HTML and attachment list are here.
    Full,
    /// Larger than the automatic-download limit: headers only, body on demand.
    HeadersOnly,
    /// Could not be parsed as MIME: the text holds the raw message (bounded).
    RawOnly,
}

impl BodyState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::HeadersOnly => "headers_only",
            Self::RawOnly => "raw_only",
        }
    }
    fn parse(s: &str) -> Result<Self> {
        match s {
            "full" => Ok(Self::Full),
            "headers_only" => Ok(Self::HeadersOnly),
            "raw_only" => Ok(Self::RawOnly),
            other => Err(StoreError::Corrupt(format!("body_state {other:?}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentMeta {
    pub part: u32,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub content_id: Option<String>,
}

/// A message as fetched and parsed, ready to mirror.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub uid: u32,
    pub identity: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub subject: String,
    pub from_addr: String,
    pub from_name: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub sent_at: Option<i64>,
    pub internal_date: i64,
    pub size: u32,
    pub flags: Vec<String>,
    pub modseq: u64,
    pub body_state: Option<BodyState>,
    pub body_text: String,
    pub body_html: Option<String>,
    pub parse_note: Option<String>,
    pub attachments: Vec<AttachmentMeta>,
    /// The automatic-acknowledgement verdict: `acknowledge` or `skip:<reason>`.
    pub ack_decision: String,
    /// The Reply-To address (lowercased) when it differs from From, else empty: the
    /// customer history learns aliases from it.
    pub reply_to: String,
}

/// A mirrored message as read back.
#[derive(Debug, Clone, Serialize)]
pub struct StoredMessage {
    pub id: i64,
    pub folder: String,
    pub uidvalidity: u32,
    pub uid: u32,
    pub identity: String,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub subject: String,
    pub from_addr: String,
    pub from_name: String,
    pub to: Vec<String>,
    pub sent_at: Option<i64>,
    pub internal_date: i64,
    pub size: u32,
    pub flags: Vec<String>,
    pub modseq: u64,
    pub body_state: BodyState,
    pub body_text: String,
    pub body_html: Option<String>,
    pub parse_note: Option<String>,
    pub attachments: Vec<AttachmentMeta>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderState {
    pub id: i64,
    pub uidvalidity: u32,
    pub highestmodseq: u64,
    pub last_sync_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FolderSummary {
    pub name: String,
    pub messages: u64,
    pub uidvalidity: u32,
    pub highestmodseq: u64,
    pub last_sync_at: i64,
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".to_owned())
}

impl Store {
    /// The folder's sync state, creating the row on first sight.
    pub fn ensure_folder(&self, name: &str) -> Result<FolderState> {
        let conn = self.conn();
        conn.execute("INSERT OR IGNORE INTO folders (name) VALUES (?1)", [name])?;
        Ok(conn.query_row("SELECT id, uidvalidity, highestmodseq, last_sync_at FROM folders WHERE name = ?1", [name], |r| {
            Ok(FolderState { id: r.get(0)?, uidvalidity: r.get(1)?, highestmodseq: r.get::<_, i64>(2)? as u64, last_sync_at: r.get(3)? })
        })?)
    }

    pub fn set_folder_synced(&self, folder_id: i64, uidvalidity: u32, highestmodseq: u64, now: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE folders SET uidvalidity = ?2, highestmodseq = ?3, last_sync_at = ?4 WHERE id = ?1",
            params![folder_id, uidvalidity, highestmodseq as i64, now],
        )?;
        Ok(())
    }

    pub fn folder_summaries(&self) -> Result<Vec<FolderSummary>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(
            "SELECT f.name, (SELECT count(*) FROM messages m WHERE m.folder_id = f.id),
                    f.uidvalidity, f.highestmodseq, f.last_sync_at
             FROM folders f ORDER BY f.name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(FolderSummary {
                name: r.get(0)?,
                messages: r.get::<_, i64>(1)? as u64,
                uidvalidity: r.get(2)?,
                highestmodseq: r.get::<_, i64>(3)? as u64,
                last_sync_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// UIDs mirrored for a folder, ascending.
    pub fn uids(&self, folder_id: i64) -> Result<Vec<u32>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT uid FROM messages WHERE folder_id = ?1 ORDER BY uid")?;
        let rows = stmt.query_map([folder_id], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// (uid, identity) of every mirrored message in a folder.
    pub fn identities(&self, folder_id: i64) -> Result<Vec<(i64, String)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id, identity FROM messages WHERE folder_id = ?1 ORDER BY uid")?;
        let rows = stmt.query_map([folder_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Mirror new messages in one transaction. A UID already mirrored is left as it is
    /// (UIDs never change meaning within one UIDVALIDITY). Returns the rows inserted.
    pub fn insert_messages(&self, folder_id: i64, messages: &[NewMessage]) -> Result<Vec<(u32, i64)>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut inserted = Vec::with_capacity(messages.len());
        for m in messages {
            if let Some(id) = insert_one(&tx, folder_id, m, None)? {
                inserted.push((m.uid, id));
            }
        }
        tx.commit()?;
        Ok(inserted)
    }

    /// Replace the body of a message mirrored headers-only (after an on-demand fetch).
    pub fn replace_message(&self, folder_id: i64, message: &NewMessage) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        // The same message keeps its id: the window may hold it.
        let old = id_of(&tx, folder_id, message.uid)?;
        if let Some(id) = old {
            delete_ids(&tx, &[id])?;
        }
        insert_one(&tx, folder_id, message, old)?;
        tx.commit()?;
        Ok(())
    }

    /// Apply flag changes: (uid, flags, modseq).
    pub fn update_flags(&self, folder_id: i64, changes: &[(u32, Vec<String>, u64)]) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut n = 0;
        {
            let mut stmt = tx.prepare_cached("UPDATE messages SET flags = ?3, modseq = ?4 WHERE folder_id = ?1 AND uid = ?2")?;
            for (uid, flags, modseq) in changes {
                n += stmt.execute(params![folder_id, uid, json(flags), *modseq as i64])?;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Forget messages expunged on the server.
    pub fn delete_uids(&self, folder_id: i64, uids: &[u32]) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut ids = Vec::with_capacity(uids.len());
        for uid in uids {
            if let Some(id) = id_of(&tx, folder_id, *uid)? {
                ids.push(id);
            }
        }
        delete_ids(&tx, &ids)?;
        tx.commit()?;
        Ok(ids.len())
    }

    /// After a UIDVALIDITY change: re-address kept messages to their new UIDs
    /// (`matches` = (row id, new uid), found by identity), forget the rest, and record
    /// the new UIDVALIDITY with HIGHESTMODSEQ 0 so flags are re-read in full.
    /// Nothing is acted on under an old UID: every row either gets a new UID or goes.
    pub fn rebind_folder(&self, folder_id: i64, new_uidvalidity: u32, matches: &[(i64, u32)]) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        // Park every UID out of the way first so re-numbering cannot collide.
        tx.execute("UPDATE messages SET uid = -id WHERE folder_id = ?1", [folder_id])?;
        {
            let mut stmt = tx.prepare("UPDATE messages SET uid = ?2 WHERE id = ?1 AND folder_id = ?3")?;
            for (id, uid) in matches {
                stmt.execute(params![id, uid, folder_id])?;
            }
        }
        let stale: Vec<i64> = tx
            .prepare("SELECT id FROM messages WHERE folder_id = ?1 AND uid < 0")?
            .query_map([folder_id], |r| r.get(0))?
            .collect::<std::result::Result<_, _>>()?;
        delete_ids(&tx, &stale)?;
        tx.execute("UPDATE folders SET uidvalidity = ?2, highestmodseq = 0 WHERE id = ?1", params![folder_id, new_uidvalidity])?;
        tx.commit()?;
        Ok(stale.len())
    }

    pub fn message(&self, id: i64) -> Result<Option<StoredMessage>> {
        let conn = self.reader();
        let msg = conn.query_row(&format!("{SELECT_MESSAGE} WHERE m.id = ?1"), [id], row_to_message).optional()?;
        match msg {
            Some(m) => {
                let mut m = m?;
                m.attachments = attachments_of(&conn, m.id)?;
                Ok(Some(m))
            }
            None => Ok(None),
        }
    }

    pub fn message_by_uid(&self, folder: &str, uid: u32) -> Result<Option<StoredMessage>> {
        let id: Option<i64> = self
            .conn()
            .query_row(
                "SELECT m.id FROM messages m JOIN folders f ON f.id = m.folder_id WHERE f.name = ?1 AND m.uid = ?2",
                params![folder, uid],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            Some(id) => self.message(id),
            None => Ok(None),
        }
    }

    /// Mirrored copies of a Message-ID in a folder (more than one = a duplicate delivery).
    pub fn count_message_id(&self, folder: &str, message_id: &str) -> Result<u64> {
        let n: i64 = self.conn().query_row(
            "SELECT count(*) FROM messages m JOIN folders f ON f.id = m.folder_id
             WHERE f.name = ?1 AND m.message_id = ?2",
            params![folder, message_id],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Messages in a folder, newest first.
    pub fn list_messages(&self, folder: &str, limit: u32) -> Result<Vec<StoredMessage>> {
        let conn = self.reader();
        let mut stmt = conn.prepare(&format!("{SELECT_MESSAGE} WHERE f.name = ?1 ORDER BY m.internal_date DESC, m.uid DESC LIMIT ?2"))?;
        let rows = stmt.query_map(params![folder, limit], row_to_message)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }
}

const SELECT_MESSAGE: &str = "SELECT m.id, f.name, f.uidvalidity, m.uid, m.identity, m.message_id,
    m.in_reply_to, m.refs, m.subject, m.from_addr, m.from_name, m.to_addrs, m.sent_at,
    m.internal_date, m.size, m.flags, m.modseq, m.body_state, m.body_text, m.body_html,
    m.parse_note
    FROM messages m JOIN folders f ON f.id = m.folder_id";

fn row_to_message(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<StoredMessage>> {
    let refs: String = r.get(7)?;
    let to: String = r.get(11)?;
    let flags: String = r.get(15)?;
    let state: String = r.get(17)?;
    let build = || -> Result<StoredMessage> {
        Ok(StoredMessage {
            id: r.get(0)?,
            folder: r.get(1)?,
            uidvalidity: r.get(2)?,
            uid: r.get(3)?,
            identity: r.get(4)?,
            message_id: r.get(5)?,
            in_reply_to: r.get(6)?,
            references: parse_json(&refs, "messages.refs")?,
            subject: r.get(8)?,
            from_addr: r.get(9)?,
            from_name: r.get(10)?,
            to: parse_json(&to, "messages.to")?,
            sent_at: r.get(12)?,
            internal_date: r.get(13)?,
            size: r.get(14)?,
            flags: parse_json(&flags, "messages.flags")?,
            modseq: r.get::<_, i64>(16)? as u64,
            body_state: BodyState::parse(&state)?,
            body_text: r.get(18)?,
            body_html: r.get(19)?,
            parse_note: r.get(20)?,
            attachments: Vec::new(),
        })
    };
    Ok(build())
}

fn attachments_of(conn: &rusqlite::Connection, message_ref: i64) -> Result<Vec<AttachmentMeta>> {
    let mut stmt =
        conn.prepare_cached("SELECT part, filename, content_type, size, content_id FROM attachments WHERE message_ref = ?1 ORDER BY part")?;
    let rows = stmt.query_map([message_ref], |r| {
        Ok(AttachmentMeta {
            part: r.get(0)?,
            filename: r.get(1)?,
            content_type: r.get(2)?,
            size: r.get::<_, i64>(3)? as u64,
            content_id: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

fn id_of(tx: &Transaction<'_>, folder_id: i64, uid: u32) -> Result<Option<i64>> {
    Ok(tx
        .prepare_cached("SELECT id FROM messages WHERE folder_id = ?1 AND uid = ?2")?
        .query_row(params![folder_id, uid], |r| r.get(0))
        .optional()?)
}

fn delete_ids(tx: &Transaction<'_>, ids: &[i64]) -> Result<()> {
    let mut del_fts = tx.prepare_cached("DELETE FROM messages_fts WHERE rowid = ?1")?;
    let mut del = tx.prepare_cached("DELETE FROM messages WHERE id = ?1")?;
    for id in ids {
        del_fts.execute([id])?;
        del.execute([id])?;
    }
    Ok(())
}

/// Insert `m` under a new id, or under `keep_id` when it replaces that same message.
fn insert_one(tx: &Transaction<'_>, folder_id: i64, m: &NewMessage, keep_id: Option<i64>) -> Result<Option<i64>> {
    let state = m.body_state.unwrap_or(BodyState::Full);
    let changed = tx
        .prepare_cached(
            // The id comes from the high-water mark (migration 0006), so an id once used
            // never names another message.
            "INSERT OR IGNORE INTO messages (id, folder_id, uid, identity, message_id, in_reply_to, refs,
                subject, from_addr, from_name, to_addrs, cc_addrs, sent_at, internal_date, size,
                flags, modseq, body_state, body_text, body_html, parse_note, has_attachments, ack_decision, reply_to)
             VALUES (coalesce(?24, (SELECT n + 1 FROM messages_id_high)), ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                ?18, ?19, ?20, ?21, ?22, ?23)",
        )?
        .execute(params![
            folder_id,
            m.uid,
            m.identity,
            m.message_id,
            m.in_reply_to,
            json(&m.references),
            m.subject,
            m.from_addr,
            m.from_name,
            json(&m.to),
            json(&m.cc),
            m.sent_at,
            m.internal_date,
            m.size,
            json(&m.flags),
            m.modseq as i64,
            state.as_str(),
            m.body_text,
            m.body_html,
            m.parse_note,
            !m.attachments.is_empty(),
            m.ack_decision,
            m.reply_to,
            keep_id,
        ])?;
    if changed == 0 {
        return Ok(None);
    }
    let id = tx.last_insert_rowid();
    let sender = format!("{} {}", m.from_name, m.from_addr);
    tx.prepare_cached("INSERT INTO messages_fts (rowid, subject, sender, body) VALUES (?1, ?2, ?3, ?4)")?.execute(params![
        id,
        index_text(&m.subject),
        index_text(&sender),
        index_text(&m.body_text)
    ])?;
    crate::history::index_addresses(tx, id, m)?;
    let mut att = tx.prepare_cached(
        "INSERT INTO attachments (message_ref, part, filename, content_type, size, content_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for a in &m.attachments {
        att.execute(params![id, a.part, a.filename, a.content_type, a.size as i64, a.content_id])?;
    }
    Ok(Some(id))
}
