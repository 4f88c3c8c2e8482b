//! Shared documents mirrored from the mailbox (knowledge articles, usage events,
//! templates): one row per message version, and for the knowledge folder the articles in
//! force with their own FTS5 index (Chinese shaped like the message index).

use crate::error::{json_column, parse_json};
use crate::{Result, Store};
use blendesk_domain::fts::index_text;
use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;

pub const KIND_ARTICLE: &str = "article";
pub const KIND_TOMBSTONE: &str = "tombstone";
pub const KIND_USAGE: &str = "usage";
pub const KIND_TEMPLATE: &str = "template";
pub const KIND_DRAFT: &str = "draft";
pub const KIND_SCORECARD: &str = "scorecard";
pub const KIND_REVIEW: &str = "review";
pub const KIND_INVALID: &str = "invalid";

/// One message of a document folder, as mirrored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DocVersion {
    pub uid: u32,
    /// One of the `KIND_*` constants.
    pub kind: String,
    /// Article id, template name, or the article a usage event counts for.
    pub doc_id: String,
    pub title: String,
    pub tags: Vec<String>,
    pub queue: String,
    pub language: String,
    pub footer: bool,
    pub body: String,
    pub author: String,
    /// Why an `invalid` message was not taken.
    pub problem: String,
    pub internal_date: i64,
    pub flags: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocFolderState {
    pub uidvalidity: u32,
    pub highestmodseq: u64,
    pub uidnext: u32,
}

/// An article in force.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct KbArticle {
    pub article_id: String,
    pub title: String,
    pub tags: Vec<String>,
    pub body: String,
    pub author: String,
    pub updated_at: i64,
    /// Team-wide "used" marks.
    pub uses: u64,
}

/// A knowledge search hit with its BM25 (lower = better, SQLite's sign).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KbHit {
    pub article: KbArticle,
    pub bm25: f64,
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".to_owned())
}

const SELECT_ARTICLE: &str = "a.article_id, a.title, a.tags, a.body, a.author, a.updated_at,
    (SELECT count(*) FROM doc_versions u WHERE u.folder = ?1 AND u.kind = 'usage' AND u.doc_id = a.article_id)";

fn row_to_article(r: &rusqlite::Row<'_>) -> rusqlite::Result<KbArticle> {
    Ok(KbArticle {
        article_id: r.get(0)?,
        title: r.get(1)?,
        tags: json_column(r, 2, "kb_articles.tags")?,
        body: r.get(3)?,
        author: r.get(4)?,
        updated_at: r.get(5)?,
        uses: r.get::<_, i64>(6)? as u64,
    })
}

impl Store {
    /// What was last seen of a document folder (zeros the first time).
    pub fn doc_folder_state(&self, folder: &str) -> Result<DocFolderState> {
        let conn = self.conn();
        conn.execute("INSERT OR IGNORE INTO doc_folders (name) VALUES (?1)", [folder])?;
        Ok(conn.query_row("SELECT uidvalidity, highestmodseq, uidnext FROM doc_folders WHERE name = ?1", [folder], |r| {
            Ok(DocFolderState { uidvalidity: r.get(0)?, highestmodseq: r.get::<_, i64>(1)? as u64, uidnext: r.get(2)? })
        })?)
    }

    pub fn set_doc_folder_state(&self, folder: &str, state: DocFolderState) -> Result<()> {
        self.conn().execute(
            "UPDATE doc_folders SET uidvalidity = ?2, highestmodseq = ?3, uidnext = ?4 WHERE name = ?1",
            params![folder, state.uidvalidity, state.highestmodseq as i64, state.uidnext],
        )?;
        Ok(())
    }

    /// UIDs mirrored for a document folder, ascending.
    pub fn doc_uids(&self, folder: &str) -> Result<Vec<u32>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT uid FROM doc_versions WHERE folder = ?1 ORDER BY uid")?;
        let rows = stmt.query_map([folder], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Forget a document folder's versions (its UIDVALIDITY changed: everything is
    /// fetched again); with `knowledge`, the articles and their index too.
    pub fn reset_doc_folder(&self, folder: &str, knowledge: bool) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM doc_versions WHERE folder = ?1", [folder])?;
        tx.execute("UPDATE doc_folders SET uidvalidity = 0, highestmodseq = 0, uidnext = 0 WHERE name = ?1", [folder])?;
        if knowledge {
            tx.execute("DELETE FROM kb_fts", [])?;
            tx.execute("DELETE FROM kb_articles", [])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Apply what changed on the server in one transaction: new versions, flag changes
    /// (uid, flags) and expunged UIDs. With `knowledge`, the articles whose versions
    /// changed are re-chosen and re-indexed. Returns the ids of the documents touched.
    pub fn apply_doc_changes(
        &self,
        folder: &str,
        knowledge: bool,
        new: &[DocVersion],
        flags: &[(u32, Vec<String>)],
        gone: &[u32],
    ) -> Result<Vec<String>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("INSERT OR IGNORE INTO doc_folders (name) VALUES (?1)", [folder])?;
        let mut touched: Vec<String> = Vec::new();
        let mut touch = |id: String| {
            if !id.is_empty() && !touched.contains(&id) {
                touched.push(id);
            }
        };
        {
            let mut ins = tx.prepare_cached(
                // A version already mirrored is skipped; anything else refused is an error
                // (OR IGNORE would also drop a row that breaks the kind CHECK, silently).
                "INSERT INTO doc_versions (folder, uid, kind, doc_id, title, tags, queue, language, footer,
                    body, author, problem, internal_date, flags)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
                 ON CONFLICT (folder, uid) DO NOTHING",
            )?;
            for v in new {
                ins.execute(params![
                    folder,
                    v.uid,
                    v.kind,
                    v.doc_id,
                    v.title,
                    json(&v.tags),
                    v.queue,
                    v.language,
                    v.footer,
                    v.body,
                    v.author,
                    v.problem,
                    v.internal_date,
                    json(&v.flags)
                ])?;
                touch(v.doc_id.clone());
            }
            let mut doc_of = tx.prepare_cached("SELECT doc_id FROM doc_versions WHERE folder = ?1 AND uid = ?2")?;
            let mut upd = tx.prepare_cached("UPDATE doc_versions SET flags = ?3 WHERE folder = ?1 AND uid = ?2")?;
            for (uid, f) in flags {
                if let Some(id) = doc_of.query_row(params![folder, uid], |r| r.get::<_, String>(0)).optional()? {
                    upd.execute(params![folder, uid, json(f)])?;
                    touch(id);
                }
            }
            let mut del = tx.prepare_cached("DELETE FROM doc_versions WHERE folder = ?1 AND uid = ?2")?;
            for uid in gone {
                if let Some(id) = doc_of.query_row(params![folder, uid], |r| r.get::<_, String>(0)).optional()? {
                    del.execute(params![folder, uid])?;
                    touch(id);
                }
            }
        }
        if knowledge {
            for id in &touched {
                reindex_article(&tx, folder, id)?;
            }
        }
        tx.commit()?;
        Ok(touched)
    }

    /// Every mirrored version of a document folder, oldest first.
    pub fn doc_versions(&self, folder: &str) -> Result<Vec<DocVersion>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT uid, kind, doc_id, title, tags, queue, language, footer, body, author, problem, internal_date, flags
             FROM doc_versions WHERE folder = ?1 AND kind != 'usage' ORDER BY uid",
        )?;
        let rows = stmt.query_map([folder], |r| {
            Ok(DocVersion {
                uid: r.get(0)?,
                kind: r.get(1)?,
                doc_id: r.get(2)?,
                title: r.get(3)?,
                tags: json_column(r, 4, "doc_versions.tags")?,
                queue: r.get(5)?,
                language: r.get(6)?,
                footer: r.get(7)?,
                body: r.get(8)?,
                author: r.get(9)?,
                problem: r.get(10)?,
                internal_date: r.get(11)?,
                flags: json_column(r, 12, "doc_versions.flags")?,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Articles matching the FTS5 expression `expr`, best BM25 first (title weighs 5,
    /// tags 3, body 1). `usage_folder` is where usage events are mirrored.
    pub fn kb_search(&self, usage_folder: &str, expr: &str, limit: u32) -> Result<Vec<KbHit>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {SELECT_ARTICLE}, bm25(kb_fts, 5.0, 3.0, 1.0) AS rank
             FROM kb_fts JOIN kb_articles a ON a.id = kb_fts.rowid
             WHERE kb_fts MATCH ?2 ORDER BY rank LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![usage_folder, expr, limit], |r| Ok(KbHit { article: row_to_article(r)?, bm25: r.get(7)? }))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// How many articles are in force, and how many of them contain each of `terms`
    /// (a Chinese piece counts as its rarest character: the index has one token per
    /// character). Read from the FTS5 index's own vocabulary.
    pub fn kb_term_docs(&self, terms: &[String]) -> Result<(u64, Vec<u64>)> {
        let conn = self.conn();
        conn.execute_batch("CREATE VIRTUAL TABLE IF NOT EXISTS temp.kb_vocab USING fts5vocab(main, kb_fts, 'row')")?;
        let total: i64 = conn.query_row("SELECT count(*) FROM kb_articles", [], |r| r.get(0))?;
        let mut stmt = conn.prepare_cached("SELECT doc FROM temp.kb_vocab WHERE term = ?1")?;
        let mut df = |token: &str| -> Result<u64> { Ok(stmt.query_row([token], |r| r.get::<_, i64>(0)).optional()?.unwrap_or(0) as u64) };
        let mut out = Vec::with_capacity(terms.len());
        for t in terms {
            let cjk: Vec<char> = t.chars().filter(|c| blendesk_domain::fts::is_cjk(*c)).collect();
            let n = if !cjk.is_empty() {
                let mut min = u64::MAX;
                for c in cjk {
                    min = min.min(df(&c.to_string())?);
                }
                min
            } else {
                let n = df(&t.to_lowercase())?;
                // The tokenizer folds diacritics ("café" → "cafe"): unknown, so keep it.
                if n == 0 && !t.is_ascii() {
                    1
                } else {
                    n
                }
            };
            out.push(n);
        }
        Ok((total as u64, out))
    }

    /// The articles in force, by title (usage counted from `usage_folder`).
    pub fn kb_articles(&self, usage_folder: &str) -> Result<Vec<KbArticle>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!("SELECT {SELECT_ARTICLE} FROM kb_articles a ORDER BY a.title, a.article_id"))?;
        let rows = stmt.query_map([usage_folder], row_to_article)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    pub fn kb_article(&self, usage_folder: &str, article_id: &str) -> Result<Option<KbArticle>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                &format!("SELECT {SELECT_ARTICLE} FROM kb_articles a WHERE a.article_id = ?2"),
                params![usage_folder, article_id],
                row_to_article,
            )
            .optional()?)
    }
}

/// Choose the version of `article_id` in force and index it: the newest article or
/// tombstone not flagged `\Deleted`; nothing when that is a tombstone or there is none.
fn reindex_article(tx: &Transaction<'_>, folder: &str, article_id: &str) -> Result<()> {
    let old: Option<i64> =
        tx.prepare_cached("SELECT id FROM kb_articles WHERE article_id = ?1")?.query_row([article_id], |r| r.get(0)).optional()?;
    if let Some(old) = old {
        tx.prepare_cached("DELETE FROM kb_fts WHERE rowid = ?1")?.execute([old])?;
        tx.prepare_cached("DELETE FROM kb_articles WHERE id = ?1")?.execute([old])?;
    }
    let newest = tx
        .prepare_cached(
            "SELECT id, kind, title, tags, body, author, internal_date FROM doc_versions v
             WHERE v.folder = ?1 AND v.kind IN ('article', 'tombstone') AND v.doc_id = ?2
               AND NOT EXISTS (SELECT 1 FROM json_each(v.flags) WHERE value = '\\Deleted')
             ORDER BY v.uid DESC LIMIT 1",
        )?
        .query_row(params![folder, article_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
            ))
        })
        .optional()?;
    if let Some((id, kind, title, tags, body, author, date)) = newest {
        if kind == KIND_ARTICLE {
            tx.prepare_cached(
                "INSERT INTO kb_articles (id, article_id, title, tags, body, author, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![id, article_id, title, tags, body, author, date])?;
            let tag_text: Vec<String> = parse_json(&tags, "a knowledge article's tags")?;
            tx.prepare_cached("INSERT INTO kb_fts (rowid, title, tags, body) VALUES (?1, ?2, ?3, ?4)")?.execute(params![
                id,
                index_text(&title),
                index_text(&tag_text.join(" ")),
                index_text(&body)
            ])?;
        }
    }
    Ok(())
}
