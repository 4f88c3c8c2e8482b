//! Mirroring one folder: new messages, flag changes, expunges, and the UIDVALIDITY rule.
//!
//! Invariant: (folder, UIDVALIDITY, UID) names one message forever. When UIDVALIDITY
//! changes, no local row is acted on under its old UID: the folder's cache is rebuilt by
//! matching messages on their identity (Message-ID, or a hash of the raw message).

use crate::engine::{now_ms, Engine, Result};
use crate::events::Event;
use crate::mirror::to_new_message;
use blendesk_domain::limits::AUTO_FETCH_MAX_BYTES;
use blendesk_mail::imap::{self, uid_set, ImapSession, MessageMeta};
use blendesk_store::NewMessage;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Bodies are fetched in batches of about this many bytes (bounded memory, steady
/// progress events) and at most this many messages.
const BATCH_BYTES: u64 = 4 * 1024 * 1024;
const BATCH_MESSAGES: usize = 500;

/// Parsing and storing one fetched batch, on a blocking thread: the rows inserted.
type StoreTask = tokio::task::JoinHandle<Result<Vec<(i64, NewMessage)>>>;

#[derive(Debug, Clone, Default, Serialize)]
pub struct FolderReport {
    pub folder: String,
    pub new: u64,
    pub expunged: u64,
    pub flags_changed: u64,
    pub rebuilt: bool,
    pub messages: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    pub folders: Vec<FolderReport>,
    pub messages: u64,
    pub new: u64,
}

impl Engine {
    /// One full sync of every configured folder over one connection.
    pub async fn sync_once(self: &Arc<Self>) -> Result<SyncReport> {
        self.with_session(async |c| {
            let condstore = c.has("CONDSTORE");
            let mut report = SyncReport::default();
            for folder in self.config.folders() {
                if folder == self.config.imap.sent {
                    imap::create_folder(&mut c.session, &folder).await?;
                }
                let r = self.sync_folder(&mut c.session, &folder, condstore).await?;
                report.new += r.new;
                report.messages += r.messages;
                report.folders.push(r);
            }
            Ok(report)
        })
        .await
    }

    /// Test hook: run `hook` in every sync once it has fetched the new mail it saw,
    /// before its last command (see `SyncHook`).
    #[doc(hidden)]
    pub fn on_sync_fetched(&self, hook: Option<crate::engine::SyncHook>) {
        *self.sync_hook.lock().unwrap_or_else(|e| e.into_inner()) = hook;
    }

    /// Whether every queue's first sync since this engine opened has ended (the mirror on
    /// disk may be hours old: mail that came while the app was closed is not in it yet).
    pub(crate) fn queues_caught_up(&self) -> bool {
        let synced = self.synced_this_run.lock().unwrap_or_else(|e| e.into_inner());
        self.config.imap.queues.iter().all(|q| synced.contains(q))
    }

    pub(crate) fn first_sync_ended(&self, folder: &str) {
        self.synced_this_run.lock().unwrap_or_else(|e| e.into_inner()).insert(folder.to_owned());
    }

    /// Bring the mirror of `folder` up to date with the server.
    pub(crate) async fn sync_folder(self: &Arc<Self>, session: &mut ImapSession, folder: &str, condstore: bool) -> Result<FolderReport> {
        let selected = imap::select(session, folder, condstore).await?;
        let state = self.store.ensure_folder(folder)?;
        let mut report = FolderReport { folder: folder.to_owned(), ..Default::default() };

        if state.uidvalidity != 0 && state.uidvalidity != selected.uidvalidity {
            self.rebuild_folder(session, folder, state.id, selected.uidvalidity, condstore, &mut report).await?;
        } else {
            let local = self.store.uids(state.id)?;
            let max_local = local.last().copied().unwrap_or(0);
            // New mail listed first, flags read next, bodies fetched last: every email
            // stored arrived before the flags were read, so it never sits in the mirror
            // beside flags older than its arrival (a follow-up would look unowned while
            // its conversation's owner keyword is on its way, and be claimed by anyone).
            // Mail arriving after the listing is reported by the server during this
            // sync and synced right after it (`watch.rs`, `pending_changes`). (Reading
            // the flags first left a gap: mail that arrived while the flags were read
            // was listed after them. On Dovecot a session sees new mail only once told
            // of it, at a command's end, so the gap was that one command: small, but a
            // FETCH 1:* FLAGS without CONDSTORE on a big folder is not instant.)
            let mut metas: Vec<MessageMeta> = Vec::new();
            if selected.exists > 0 && (selected.uidnext == 0 || selected.uidnext > max_local + 1) {
                // "n:*" always includes the last message, even if its UID is below n.
                metas = imap::fetch_meta(session, &format!("{}:*", max_local + 1), condstore)
                    .await?
                    .into_iter()
                    .filter(|m| m.uid > max_local)
                    .collect();
            }
            if !local.is_empty() {
                report.flags_changed = self.resync_flags(session, state.id, state.highestmodseq, condstore).await?;
                if report.flags_changed > 0 {
                    self.emit(Event::FlagsChanged { folder: folder.to_owned(), count: report.flags_changed });
                }
            }
            report.new = self.fetch_and_store(session, folder, state.id, metas).await?;
            let hook = self.sync_hook.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if let Some(hook) = hook {
                hook(folder.to_owned()).await;
            }
            if !local.is_empty() {
                let server: HashSet<u32> = imap::all_uids(session).await?.into_iter().collect();
                let gone: Vec<u32> = local.iter().copied().filter(|u| !server.contains(u)).collect();
                if !gone.is_empty() {
                    report.expunged = self.store.delete_uids(state.id, &gone)? as u64;
                    self.emit(Event::MessagesExpunged { folder: folder.to_owned(), count: report.expunged });
                }
            }
        }
        self.store.set_folder_synced(state.id, selected.uidvalidity, selected.highestmodseq.unwrap_or(0), now_ms())?;
        report.messages = self.store.uids(state.id)?.len() as u64;
        self.first_sync_ended(folder);
        self.emit(Event::SyncFinished { folder: folder.to_owned(), new: report.new, messages: report.messages });
        Ok(report)
    }

    async fn resync_flags(&self, session: &mut ImapSession, folder_id: i64, highestmodseq: u64, condstore: bool) -> Result<u64> {
        let since = (condstore && highestmodseq > 0).then_some(highestmodseq);
        let changes = imap::fetch_flags(session, since).await?;
        let n = self.store.update_flags(folder_id, &changes)? as u64;
        Ok(n)
    }

    /// Fetch bodies (or only headers, over the automatic limit), parse and store them,
    /// reporting progress. Parsing and storing a batch overlaps fetching the next one.
    async fn fetch_and_store(
        self: &Arc<Self>,
        session: &mut ImapSession,
        folder: &str,
        folder_id: i64,
        metas: Vec<MessageMeta>,
    ) -> Result<u64> {
        let total = metas.len() as u64;
        if total == 0 {
            return Ok(0);
        }
        let mut done = 0u64;
        let mut stored = 0u64;
        let mut pending: Option<StoreTask> = None;
        for (batch, headers_only) in batches(&metas) {
            let fetched = imap::fetch_raw(session, &uid_set(&batch.iter().map(|m| m.uid).collect::<Vec<_>>()), headers_only).await?;
            if let Some(p) = pending.take() {
                let msgs = p.await.map_err(|e| crate::engine::EngineError::Internal(e.to_string()))??;
                stored += self.announce(folder, &msgs);
            }
            let by_uid: HashMap<u32, MessageMeta> = batch.iter().map(|m| (m.uid, m.clone())).collect();
            let store = self.store.clone();
            let us = self.our_mailbox();
            done += batch.len() as u64;
            pending = Some(tokio::task::spawn_blocking(move || {
                let msgs: Vec<NewMessage> = fetched
                    .iter()
                    .filter_map(|(uid, raw)| by_uid.get(uid).map(|meta| to_new_message(meta, raw, headers_only, &us)))
                    .collect();
                let inserted = store.insert_messages(folder_id, &msgs)?;
                let ids: HashMap<u32, i64> = inserted.into_iter().collect();
                Ok(msgs
                    .into_iter()
                    .filter_map(|mut m| {
                        ids.get(&m.uid).map(|id| {
                            // Keep only what the event needs.
                            m.body_text.clear();
                            m.body_html = None;
                            (*id, m)
                        })
                    })
                    .collect())
            }));
            self.emit(Event::SyncProgress { folder: folder.to_owned(), done, total });
        }
        if let Some(p) = pending.take() {
            let msgs = p.await.map_err(|e| crate::engine::EngineError::Internal(e.to_string()))??;
            stored += self.announce(folder, &msgs);
        }
        Ok(stored)
    }

    fn announce(&self, folder: &str, msgs: &[(i64, NewMessage)]) -> u64 {
        for (id, m) in msgs {
            self.emit(Event::MessageArrived {
                folder: folder.to_owned(),
                id: *id,
                uid: m.uid,
                message_id: m.message_id.clone(),
                subject: m.subject.clone(),
                from: m.from_addr.clone(),
            });
        }
        msgs.len() as u64
    }

    /// UIDVALIDITY changed: every server message is fetched again and matched to local
    /// rows by identity; matched rows take their new UID, unmatched rows go, unmatched
    /// server messages are mirrored as new.
    async fn rebuild_folder(
        self: &Arc<Self>,
        session: &mut ImapSession,
        folder: &str,
        folder_id: i64,
        new_uidvalidity: u32,
        condstore: bool,
        report: &mut FolderReport,
    ) -> Result<()> {
        report.rebuilt = true;
        let metas = imap::fetch_meta(session, "1:*", condstore).await.or_else(|e| match e {
            // An empty folder answers "1:*" with nothing or a NO on some servers.
            imap::ImapError::Command { .. } => Ok(Vec::new()),
            other => Err(other),
        })?;
        let mut server: Vec<NewMessage> = Vec::with_capacity(metas.len());
        for (batch, headers_only) in batches(&metas) {
            let by_uid: HashMap<u32, &MessageMeta> = batch.iter().map(|m| (m.uid, m)).collect();
            for (uid, raw) in imap::fetch_raw(session, &uid_set(&batch.iter().map(|m| m.uid).collect::<Vec<_>>()), headers_only).await? {
                if let Some(meta) = by_uid.get(&uid) {
                    server.push(to_new_message(meta, &raw, headers_only, &self.our_mailbox()));
                }
            }
        }
        let mut local: HashMap<String, Vec<i64>> = HashMap::new();
        for (id, identity) in self.store.identities(folder_id)? {
            local.entry(identity).or_default().push(id);
        }
        let mut matches = Vec::new();
        let mut fresh = Vec::new();
        for m in server {
            match local.get_mut(&m.identity).and_then(|ids| ids.pop()) {
                Some(id) => matches.push((id, m.uid, m.flags.clone(), m.modseq)),
                None => fresh.push(m),
            }
        }
        let dropped =
            self.store.rebind_folder(folder_id, new_uidvalidity, &matches.iter().map(|(id, uid, _, _)| (*id, *uid)).collect::<Vec<_>>())?;
        self.store.update_flags(folder_id, &matches.iter().map(|(_, uid, f, m)| (*uid, f.clone(), *m)).collect::<Vec<_>>())?;
        let inserted = self.store.insert_messages(folder_id, &fresh)?;
        report.new = inserted.len() as u64;
        report.expunged = dropped as u64;
        self.emit(Event::FolderRebuilt { folder: folder.to_owned(), kept: matches.len() as u64, dropped: dropped as u64 });
        Ok(())
    }
}

/// Split messages into fetch batches: small ones by bytes and count, large ones
/// (headers only) on their own batches.
fn batches(metas: &[MessageMeta]) -> Vec<(Vec<MessageMeta>, bool)> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0u64;
    let mut large = Vec::new();
    for m in metas {
        if m.size > AUTO_FETCH_MAX_BYTES {
            large.push(m.clone());
            continue;
        }
        if !current.is_empty() && (bytes + m.size as u64 > BATCH_BYTES || current.len() >= BATCH_MESSAGES) {
            out.push((std::mem::take(&mut current), false));
            bytes = 0;
        }
        bytes += m.size as u64;
        current.push(m.clone());
    }
    if !current.is_empty() {
        out.push((current, false));
    }
    for chunk in large.chunks(BATCH_MESSAGES) {
        out.push((chunk.to_vec(), true));
    }
    out
}

impl Engine {
    /// Fetch the full body of a message mirrored headers-only (over the automatic
    /// download limit), when the advisor opens it. Re-checks UIDVALIDITY first.
    pub async fn load_body(self: &Arc<Self>, message: i64) -> Result<blendesk_store::StoredMessage> {
        let m = self.store.message(message)?.ok_or(crate::engine::EngineError::NoSuchMessage(message))?;
        if m.body_state != blendesk_store::BodyState::HeadersOnly {
            return Ok(m);
        }
        let (metas, raw) = self
            .with_session(async |c| {
                let condstore = c.has("CONDSTORE");
                let selected = imap::select(&mut c.session, &m.folder, condstore).await?;
                if selected.uidvalidity != m.uidvalidity {
                    return Err(crate::engine::EngineError::Stale(m.folder.clone()));
                }
                let metas = imap::fetch_meta(&mut c.session, &m.uid.to_string(), condstore).await?;
                let raw = imap::fetch_raw(&mut c.session, &m.uid.to_string(), false).await?;
                Ok((metas, raw))
            })
            .await?;
        let (Some(meta), Some((_, raw))) = (metas.into_iter().find(|x| x.uid == m.uid), raw.into_iter().next()) else {
            return Err(crate::engine::EngineError::NoSuchMessage(message));
        };
        let state = self.store.ensure_folder(&m.folder)?;
        let fresh = to_new_message(&meta, &raw, false, &self.our_mailbox());
        self.store.replace_message(state.id, &fresh)?;
        self.store.message_by_uid(&m.folder, m.uid)?.ok_or(crate::engine::EngineError::NoSuchMessage(message))
    }

    /// The bytes of attachment `part` (as listed in the mirror) of a message, fetched
    /// from the server on demand: attachment bytes are never mirrored.
    pub async fn attachment(self: &Arc<Self>, message: i64, part: u32) -> Result<(String, Vec<u8>)> {
        use mail_parser::MimeHeaders;
        let m = self.store.message(message)?.ok_or(crate::engine::EngineError::NoSuchMessage(message))?;
        let raw = self
            .with_session(async |c| {
                let selected = imap::select(&mut c.session, &m.folder, false).await?;
                if selected.uidvalidity != m.uidvalidity {
                    return Err(crate::engine::EngineError::Stale(m.folder.clone()));
                }
                Ok(imap::fetch_raw(&mut c.session, &m.uid.to_string(), false).await?)
            })
            .await?;
        let raw = raw.into_iter().next().map(|(_, r)| r).ok_or(crate::engine::EngineError::NoSuchMessage(message))?;
        let parsed = mail_parser::MessageParser::default().parse(&raw).ok_or(crate::engine::EngineError::NoSuchMessage(message))?;
        let att = parsed.attachments().nth(part as usize).ok_or(crate::engine::EngineError::NoSuchMessage(message))?;
        let name = att.attachment_name().unwrap_or("attachment").to_owned();
        Ok((name, att.contents().to_vec()))
    }
}
