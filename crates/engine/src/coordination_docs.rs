//! Knowledge articles, usage counts and templates (and template approvals) in the team's
//! database when it coordinates (`coordination.rs`), instead of `Blendesk/Knowledge`,
//! `/Usage` and `/Templates` in the mailbox. Each version is kept as the very document
//! message the mailbox would hold (`compose::build_document`, in `documents.document`
//! as `{"message": …}`), so the domain's parsers read both backends' versions alike; a
//! version's number in the database stands in for its UID in the store's document
//! mirror, and a supervisor's approval in `template_approvals` for their approval
//! keyword. Drafts handed over and quality documents stay in the mailbox (coord-pg has
//! no kind for them yet).

use crate::docs::{knowledge_version, template_version, KNOWLEDGE_FOLDER, TEMPLATES_FOLDER, USAGE_FOLDER};
use crate::engine::{Engine, EngineError, Result};
use blendesk_coord_pg::DocumentKind;
use blendesk_domain::automation::template_doc::approval_keyword;
use blendesk_store::DocFolderState;
use std::collections::BTreeMap;

/// The folders whose documents the database keeps.
pub(crate) const DATABASE_FOLDERS: [&str; 3] = [KNOWLEDGE_FOLDER, USAGE_FOLDER, TEMPLATES_FOLDER];

fn kind_of(folder: &str) -> Option<DocumentKind> {
    match folder {
        KNOWLEDGE_FOLDER => Some(DocumentKind::Knowledge),
        USAGE_FOLDER => Some(DocumentKind::Usage),
        TEMPLATES_FOLDER => Some(DocumentKind::Template),
        _ => None,
    }
}

fn folder_of(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Knowledge => KNOWLEDGE_FOLDER,
        DocumentKind::Usage => USAGE_FOLDER,
        DocumentKind::Template => TEMPLATES_FOLDER,
    }
}

/// The UIDVALIDITY a document folder's mirror state carries when its versions are the
/// database's, so a mirror of the mailbox's folder (a team that just moved) is told apart
/// and replaced (servers pick UIDVALIDITYs from the clock, never 1 in practice).
const DATABASE_MARK: u32 = 1;

/// Versions read per query while catching up.
const BATCH: u32 = 500;

impl Engine {
    /// Whether `folder`'s documents live in the team's database.
    pub(crate) fn docs_in_database(&self, folder: &str) -> bool {
        self.coordinated_by_database() && kind_of(folder).is_some()
    }

    /// Publishes one document message (built by `docs::append_doc`) to the database;
    /// `doc_id`: the article, usage or template it is about. The database refuses a
    /// knowledge version from a non-supervisor.
    pub(crate) async fn db_append_doc(&self, folder: &str, doc_id: &str, raw: &[u8]) -> Result<()> {
        let kind = kind_of(folder).ok_or_else(|| EngineError::Internal(format!("{folder} is not kept in the database")))?;
        let message = String::from_utf8(raw.to_vec()).map_err(|_| EngineError::Internal("a document message that is not UTF-8".into()))?;
        let id: String = doc_id.chars().take(200).collect();
        self.db_session().await?.publish_document(kind, &id, &serde_json::json!({ "message": message }), &self.config.advisor.id).await?;
        self.db_sync_docs().await?;
        Ok(())
    }

    /// As `db_sync_docs`, but only when the change feed has heard of a new document or
    /// approval since the last copy (or is not following the database): the periodic
    /// refresh then costs nothing while nothing changes.
    pub(crate) async fn db_sync_docs_if_changed(&self) -> Result<bool> {
        use std::sync::atomic::Ordering::SeqCst;
        let Some(db) = self.db() else { return Ok(false) };
        // Cleared before reading: a change announced during the read marks it again.
        if !db.docs_stale.swap(false, SeqCst) && db.feed_live.load(SeqCst) {
            return Ok(false);
        }
        let synced = self.db_sync_docs().await;
        if synced.is_err() {
            db.docs_stale.store(true, SeqCst);
        }
        synced
    }

    /// Resolves when the change feed hears of a new document or approval (never without
    /// the database).
    pub(crate) async fn db_docs_changed(&self) {
        match self.db() {
            Some(db) => db.docs_changed.notified().await,
            None => std::future::pending().await,
        }
    }

    /// Mirrors the database's new versions and the approvals into the store's document
    /// mirror. Returns true when something changed.
    pub(crate) async fn db_sync_docs(&self) -> Result<bool> {
        let session = self.db_session().await?;
        // Each folder's highest version mirrored, kept where the mailbox keeps its MODSEQ.
        let mut last: BTreeMap<&str, i64> = BTreeMap::new();
        for folder in DATABASE_FOLDERS {
            let state = self.store.doc_folder_state(folder)?;
            // A mirror of the mailbox's folder (UIDs, not versions) is replaced whole.
            if state.uidvalidity != DATABASE_MARK && state != DocFolderState::default() {
                self.store.reset_doc_folder(folder, folder == KNOWLEDGE_FOLDER)?;
                last.insert(folder, 0);
                continue;
            }
            last.insert(folder, state.highestmodseq as i64);
        }
        let mut from = last.values().copied().min().unwrap_or(0);
        let mut changed = false;
        let now = self.now_ms() / 1000;
        loop {
            let batch = session.documents_after(from, BATCH).await?;
            let Some(newest) = batch.last().map(|d| d.version) else { break };
            let mut versions: BTreeMap<&str, Vec<blendesk_store::DocVersion>> = BTreeMap::new();
            for doc in &batch {
                let folder = folder_of(doc.kind);
                if doc.version <= last[folder] {
                    continue;
                }
                let uid = u32::try_from(doc.version)
                    .map_err(|_| EngineError::Internal(format!("document version {} is too large", doc.version)))?;
                let meta = blendesk_mail::imap::MessageMeta { uid, flags: Vec::new(), modseq: 0, size: 0, internal_date: now };
                let raw = doc.document.get("message").and_then(|m| m.as_str()).unwrap_or_default().as_bytes();
                versions.entry(folder).or_default().push(match doc.kind {
                    DocumentKind::Template => template_version(&meta, raw),
                    _ => knowledge_version(&meta, raw),
                });
            }
            for (folder, v) in &versions {
                self.store.apply_doc_changes(folder, *folder == KNOWLEDGE_FOLDER, v, &[], &[])?;
                let top = v.iter().map(|d| i64::from(d.uid)).max().unwrap_or(0);
                self.store.set_doc_folder_state(
                    folder,
                    DocFolderState { uidvalidity: DATABASE_MARK, highestmodseq: top as u64, uidnext: top as u32 + 1 },
                )?;
                last.insert(folder, top);
                changed = true;
            }
            from = newest;
            if batch.len() < BATCH as usize {
                break;
            }
        }
        // Approvals as the flags the mailbox would carry on each template version.
        let mut approvals: BTreeMap<u32, Vec<String>> = BTreeMap::new();
        for (version, supervisor) in session.template_approvals().await? {
            if let Ok(uid) = u32::try_from(version) {
                approvals.entry(uid).or_default().push(approval_keyword(supervisor.as_str()));
            }
        }
        let known: std::collections::HashSet<u32> = self.store.doc_uids(TEMPLATES_FOLDER)?.into_iter().collect();
        let current: BTreeMap<u32, Vec<String>> =
            self.store.doc_versions(TEMPLATES_FOLDER)?.into_iter().map(|v| (v.uid, v.flags)).collect();
        let flags: Vec<(u32, Vec<String>)> =
            approvals.into_iter().filter(|(uid, f)| known.contains(uid) && current.get(uid).is_none_or(|c| c != f)).collect();
        if !flags.is_empty() {
            self.store.apply_doc_changes(TEMPLATES_FOLDER, false, &[], &flags, &[])?;
            changed = true;
        }
        Ok(changed)
    }

    /// A supervisor approves template version `uid` (its version in the database).
    pub(crate) async fn db_approve_template(&self, uid: u32) -> Result<()> {
        self.db_session().await?.approve_template(i64::from(uid), &self.config.advisor.id).await.map_err(|e| match e {
            blendesk_coord_pg::CoordError::NotPermitted { .. } => EngineError::NotPermitted {
                user: self.config.advisor.id.to_string(),
                action: "approve templates",
                folder: "the team database".into(),
                hint: "only supervisors may: the administrator registers them with the supervisor role",
            },
            other => other.into(),
        })?;
        self.db_sync_docs().await?;
        Ok(())
    }
}
