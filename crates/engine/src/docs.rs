//! Mirroring the team's shared documents — `Blendesk/Knowledge` and
//! `Blendesk/Templates` — into the store: new versions, flag changes (approvals,
//! `\Deleted`), expunges, and a rebuild when the folder's UIDVALIDITY changes. Each
//! message is parsed by the domain rules; one that is not a valid document is kept as
//! `invalid` with the reason (shown by `list`), never fatal.

use crate::engine::{now_ms, Engine, EngineError, Result};
use blendesk_domain::automation::template_doc::{
    parse_template_message, TemplateEntry, FOOTER_HEADER, LANGUAGE_HEADER, QUEUE_HEADER, TEMPLATE_HEADER,
};
use blendesk_domain::draft::{parse_draft_message, DRAFT_FOR_HEADER};
use blendesk_domain::knowledge::{
    parse_knowledge_message, KnowledgeEntry, ARTICLE_HEADER, AUTHOR_HEADER, DELETED_HEADER, TAGS_HEADER, USAGE_HEADER,
};
use blendesk_mail::imap::{self, ImapSession};
use blendesk_mail::mime;
use blendesk_store::{DocFolderState, DocVersion, KIND_ARTICLE, KIND_DRAFT, KIND_INVALID, KIND_TEMPLATE, KIND_TOMBSTONE, KIND_USAGE};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// Team folders by leaf name (`Blendesk/Knowledge` with the default team folder root,
/// see `Config::team_folder`); the store keys its mirror by these names.
pub const KNOWLEDGE_FOLDER: &str = "Knowledge";
pub const TEMPLATES_FOLDER: &str = "Templates";
/// "An advisor used this article" events, one message each. A folder of their own so
/// that access control can let every advisor insert here while only supervisors may
/// write `Blendesk/Knowledge`.
pub const USAGE_FOLDER: &str = "Usage";
/// A document message larger than this is not downloaded (articles are at most 256 KB).
const DOC_MAX_BYTES: u32 = 1024 * 1024;
/// How often the document folders are checked (a cheap SELECT when nothing changed).
pub const DOC_POLL: Duration = Duration::from_secs(5);

fn invalid(uid: u32, date: i64, problem: String) -> DocVersion {
    DocVersion { uid, kind: KIND_INVALID.into(), problem, internal_date: date, ..Default::default() }
}

/// A knowledge-folder message as a stored version.
pub(crate) fn knowledge_version(meta: &imap::MessageMeta, raw: &[u8]) -> DocVersion {
    let wanted = [ARTICLE_HEADER, TAGS_HEADER, DELETED_HEADER, AUTHOR_HEADER, USAGE_HEADER];
    let Some(doc) = mime::parse_document(raw, &wanted) else {
        return invalid(meta.uid, meta.internal_date, "not a readable message".into());
    };
    let author = blendesk_domain::knowledge::header(&doc.headers, AUTHOR_HEADER).unwrap_or("").to_owned();
    let base = DocVersion { uid: meta.uid, author, internal_date: meta.internal_date, flags: meta.flags.clone(), ..Default::default() };
    match parse_knowledge_message(&doc.headers, &doc.subject, &doc.text) {
        Ok(KnowledgeEntry::Article(a)) => {
            DocVersion { kind: KIND_ARTICLE.into(), doc_id: a.id, title: a.title, tags: a.tags, body: a.body, ..base }
        }
        Ok(KnowledgeEntry::Tombstone { id }) => DocVersion { kind: KIND_TOMBSTONE.into(), doc_id: id, ..base },
        Ok(KnowledgeEntry::Usage { id }) => DocVersion { kind: KIND_USAGE.into(), doc_id: id, ..base },
        Err(e) => DocVersion { kind: KIND_INVALID.into(), problem: e.to_string(), title: doc.subject, ..base },
    }
}

/// A templates-folder message as a stored version.
pub(crate) fn template_version(meta: &imap::MessageMeta, raw: &[u8]) -> DocVersion {
    let wanted = [TEMPLATE_HEADER, QUEUE_HEADER, LANGUAGE_HEADER, FOOTER_HEADER, DELETED_HEADER, AUTHOR_HEADER];
    let Some(doc) = mime::parse_document(raw, &wanted) else {
        return invalid(meta.uid, meta.internal_date, "not a readable message".into());
    };
    let author = blendesk_domain::knowledge::header(&doc.headers, AUTHOR_HEADER).unwrap_or("").to_owned();
    let base = DocVersion { uid: meta.uid, author, internal_date: meta.internal_date, flags: meta.flags.clone(), ..Default::default() };
    match parse_template_message(&doc.headers, &doc.text) {
        Ok(TemplateEntry::Template(t)) => DocVersion {
            kind: KIND_TEMPLATE.into(),
            title: t.name.clone(),
            doc_id: t.name,
            queue: t.queue,
            language: t.language,
            footer: t.footer,
            body: t.body,
            ..base
        },
        Ok(TemplateEntry::Tombstone { name }) => DocVersion { kind: KIND_TOMBSTONE.into(), doc_id: name, ..base },
        Err(e) => DocVersion { kind: KIND_INVALID.into(), problem: e.to_string(), title: doc.subject, ..base },
    }
}

/// A drafts-folder message as a stored version (`domain::draft`).
pub(crate) fn draft_version(meta: &imap::MessageMeta, raw: &[u8]) -> DocVersion {
    let wanted = [DRAFT_FOR_HEADER, AUTHOR_HEADER];
    let Some(doc) = mime::parse_document(raw, &wanted) else {
        return invalid(meta.uid, meta.internal_date, "not a readable message".into());
    };
    let author = blendesk_domain::knowledge::header(&doc.headers, AUTHOR_HEADER).unwrap_or("").to_owned();
    let base = DocVersion { uid: meta.uid, author, internal_date: meta.internal_date, flags: meta.flags.clone(), ..Default::default() };
    match parse_draft_message(&doc.headers, &doc.text) {
        Ok(d) => DocVersion { kind: KIND_DRAFT.into(), doc_id: d.for_message_id, title: doc.subject, body: d.text, ..base },
        Err(e) => DocVersion { kind: KIND_INVALID.into(), problem: e.to_string(), title: doc.subject, ..base },
    }
}

impl Engine {
    /// Bring one document folder's mirror up to date. Returns true when something
    /// changed. A folder that does not exist yet is simply empty.
    pub(crate) async fn sync_doc_folder(&self, session: &mut ImapSession, folder: &str, condstore: bool) -> Result<bool> {
        let knowledge = folder == KNOWLEDGE_FOLDER;
        let imap_folder = self.config.team_folder(folder);
        let Ok(selected) = imap::select(session, &imap_folder, condstore).await else { return Ok(false) };
        let mut state = self.store.doc_folder_state(folder)?;
        if state.uidvalidity != 0 && state.uidvalidity != selected.uidvalidity {
            tracing::warn!(folder, "UIDVALIDITY changed; mirroring the document folder again");
            self.store.reset_doc_folder(folder, knowledge)?;
            state = DocFolderState::default();
        }
        let fresh = state.uidvalidity == selected.uidvalidity;
        if fresh && condstore && selected.highestmodseq == Some(state.highestmodseq) && selected.uidnext == state.uidnext {
            return Ok(false);
        }
        let server: BTreeSet<u32> =
            if selected.exists == 0 { BTreeSet::new() } else { imap::all_uids(session).await?.into_iter().collect() };
        let local: BTreeSet<u32> = self.store.doc_uids(folder)?.into_iter().collect();
        let gone: Vec<u32> = local.difference(&server).copied().collect();
        let new: Vec<u32> = server.difference(&local).copied().collect();
        let since = if fresh && condstore && state.highestmodseq > 0 { Some(state.highestmodseq) } else { None };
        let flags: Vec<(u32, Vec<String>)> = if local.is_empty() || server.is_empty() {
            Vec::new()
        } else {
            imap::fetch_flags(session, since)
                .await?
                .into_iter()
                .filter(|(uid, _, _)| local.contains(uid))
                .map(|(uid, f, _)| (uid, f))
                .collect()
        };
        let mut versions = Vec::with_capacity(new.len());
        for chunk in new.chunks(200) {
            let metas = imap::fetch_meta(session, &imap::uid_set(chunk), condstore).await?;
            let (small, large): (Vec<_>, Vec<_>) = metas.into_iter().partition(|m| m.size <= DOC_MAX_BYTES);
            for m in large {
                versions.push(invalid(
                    m.uid,
                    m.internal_date,
                    format!("{} bytes: too large for a document (limit {DOC_MAX_BYTES})", m.size),
                ));
            }
            if small.is_empty() {
                continue;
            }
            let uids: Vec<u32> = small.iter().map(|m| m.uid).collect();
            let raws = imap::fetch_raw(session, &imap::uid_set(&uids), false).await?;
            for m in &small {
                let Some((_, raw)) = raws.iter().find(|(u, _)| *u == m.uid) else { continue };
                versions.push(match folder {
                    TEMPLATES_FOLDER => template_version(m, raw),
                    crate::hand_back::DRAFTS_FOLDER => draft_version(m, raw),
                    crate::quality::SCORECARDS_FOLDER | crate::quality::REVIEWS_FOLDER => crate::quality::quality_version(folder, m, raw),
                    _ => knowledge_version(m, raw),
                });
            }
        }
        let changed = !versions.is_empty() || !flags.is_empty() || !gone.is_empty();
        self.store.apply_doc_changes(folder, knowledge, &versions, &flags, &gone)?;
        self.store.set_doc_folder_state(
            folder,
            DocFolderState {
                uidvalidity: selected.uidvalidity,
                highestmodseq: selected.highestmodseq.unwrap_or(0),
                uidnext: selected.uidnext,
            },
        )?;
        Ok(changed)
    }

    /// Mirror the knowledge, usage, template, draft and quality folders once.
    pub async fn refresh_shared_docs(&self) -> Result<bool> {
        self.refresh_docs(false).await
    }

    /// `quiet_database`: read the team's database only if its change feed announced a
    /// document or approval since the last read (the periodic refresh).
    async fn refresh_docs(&self, quiet_database: bool) -> Result<bool> {
        // With the team's database: knowledge, usage and templates come from there.
        let from_database = match (self.coordinated_by_database(), quiet_database) {
            (false, _) => false,
            (true, true) => self.db_sync_docs_if_changed().await?,
            (true, false) => self.db_sync_docs().await?,
        };
        self.with_session(async |c| {
            let condstore = c.has("CONDSTORE");
            let mut changed = from_database;
            for folder in [
                KNOWLEDGE_FOLDER,
                USAGE_FOLDER,
                TEMPLATES_FOLDER,
                crate::hand_back::DRAFTS_FOLDER,
                crate::quality::SCORECARDS_FOLDER,
                crate::quality::REVIEWS_FOLDER,
            ]
            .into_iter()
            .filter(|f| !self.docs_in_database(f))
            {
                changed |= self.sync_doc_folder(&mut c.session, folder, condstore).await?;
            }
            Ok(changed)
        })
        .await
    }

    /// Keep the shared documents mirrored until shutdown (the desktop runs this; other
    /// apps' edits show within [`DOC_POLL`], or at once when the team's database
    /// announces them). Errors are logged and retried.
    pub async fn run_shared_docs(self: &Arc<Self>) {
        while !self.is_stopping() {
            if let Err(e) = self.refresh_docs(true).await {
                tracing::warn!(error = %e, "shared documents: refresh failed; retrying");
            }
            tokio::select! {
                _ = tokio::time::sleep(DOC_POLL) => {}
                _ = self.db_docs_changed() => {}
                _ = self.stopped() => {}
            }
        }
    }

    /// Append one document to a folder (created on first use), then mirror the folder so
    /// this app sees its own change at once.
    pub(crate) async fn append_doc(&self, folder: &str, subject: &str, headers: &[(&'static str, String)], body: &str) -> Result<()> {
        let from = self.config.smtp.from.clone();
        let message_id = self.mint_message_id("doc-");
        let mut all: Vec<(&'static str, String)> = headers.to_vec();
        all.push((AUTHOR_HEADER, self.config.advisor.id.to_string()));
        let raw = blendesk_mail::compose::build_document(&from, subject, &all, body, &message_id, std::time::SystemTime::now())?;
        if self.docs_in_database(folder) {
            let doc_id = headers.first().map_or(subject, |(_, v)| v.as_str());
            return self.db_append_doc(folder, doc_id, &raw).await;
        }
        let imap_folder = self.config.team_folder(folder);
        let refused = || EngineError::NotPermitted {
            user: self.config.imap.username.clone(),
            action: "add documents",
            folder: imap_folder.clone(),
            hint:
                "the mailbox owner grants the insert right (i) on that folder (supervisors for Knowledge and Templates, everyone for Usage)",
        };
        self.with_session(async |c| {
            let condstore = c.has("CONDSTORE");
            imap::create_folder(&mut c.session, &imap_folder).await?;
            // With ACLs, ask first: a refused APPEND loses the server's reason on the way.
            if c.has("ACL") && !imap::my_rights(&mut c.session, &imap_folder).await?.contains('i') {
                return Err(refused());
            }
            match imap::append(&mut c.session, &imap_folder, "(\\Seen)", &raw).await {
                Err(e) if e.is_permission_denied() => return Err(refused()),
                other => other?,
            }
            self.sync_doc_folder(&mut c.session, folder, condstore).await?;
            Ok(())
        })
        .await?;
        tracing::debug!(folder, at = now_ms(), "document appended");
        Ok(())
    }

    /// Refuse unless this app's advisor is a supervisor in the policy in force (read
    /// from the server, so a just-published policy counts).
    pub(crate) async fn require_supervisor(&self, what: &str) -> Result<blendesk_domain::blending::Policy> {
        let policy = self.load_policy().await?;
        if !policy.is_supervisor(&self.config.advisor.id) {
            return Err(crate::engine::EngineError::Policy(format!(
                "{} is not a supervisor in the policy; only supervisors may {what}",
                self.config.advisor.id.as_str()
            )));
        }
        Ok(policy)
    }
}
