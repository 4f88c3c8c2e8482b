//! Live updates: one connection per mirrored folder, idling between catch-up syncs, and
//! reconnecting with backoff (2 s to 80 s with jitter, reset after a good sync).

use crate::connections::Reconnect;
use crate::engine::Engine;
use crate::events::{ConnectionState, Event};
use blendesk_mail::imap::{self, IdleEnd};
use std::sync::Arc;
use std::time::Duration;

/// Re-IDLE period: Dovecot sends keep-alives every 2 minutes and servers may drop IDLE
/// after 30; re-issuing it every 4 minutes also notices a silently dead connection
/// within one period plus the command timeout.
pub const IDLE_PERIOD: Duration = Duration::from_secs(4 * 60);

impl Engine {
    /// Keep every configured folder in sync until `shutdown`. Returns when stopped.
    pub async fn watch(self: &Arc<Self>) {
        self.watch_folders(self.config.folders()).await
    }

    /// Team mode: IDLE on the queues only; the Sent folder is synced by the team chores
    /// on their connection (`chores.rs`), one IMAP connection fewer per app.
    pub async fn watch_queues(self: &Arc<Self>) {
        self.watch_folders(self.config.imap.queues.clone()).await
    }

    /// Keep `folders` in sync until `shutdown`.
    pub async fn watch_folders(self: &Arc<Self>, folders: Vec<String>) {
        let tasks: Vec<_> = folders
            .into_iter()
            .map(|folder| {
                let engine = self.clone();
                tokio::spawn(async move { engine.watch_folder(&folder).await })
            })
            .collect();
        for t in tasks {
            let _ = t.await;
        }
    }

    async fn watch_folder(self: &Arc<Self>, folder: &str) {
        let mut retry = Reconnect::default();
        while !self.is_stopping() {
            let error = match self.watch_session(folder, &mut retry).await {
                Ok(()) => return, // stopped
                // Only the advisor signing in again helps: say so once and stop, not retry.
                Err(e @ crate::engine::EngineError::SignInRevoked(_)) => {
                    self.first_sync_ended(folder);
                    self.emit(Event::Connection {
                        folder: folder.to_owned(),
                        state: ConnectionState::SignInNeeded,
                        detail: Some(e.to_string()),
                    });
                    return;
                }
                Err(e) => e,
            };
            let delay = retry.failed(folder, &error);
            self.first_sync_ended(folder);
            self.emit(Event::Connection {
                folder: folder.to_owned(),
                state: ConnectionState::Offline,
                detail: Some(format!("{error}; retrying in {} s", delay.as_secs())),
            });
            if !self.wait_to_reconnect(delay).await {
                return;
            }
        }
    }

    /// One connection's life: catch up, then IDLE and catch up again on every change.
    async fn watch_session(self: &Arc<Self>, folder: &str, retry: &mut Reconnect) -> crate::engine::Result<()> {
        let mut c = self.connect().await?;
        let condstore = c.has("CONDSTORE");
        if folder == self.config.imap.sent {
            imap::create_folder(&mut c.session, folder).await?;
        }
        self.sync_folder(&mut c.session, folder, condstore).await?;
        retry.connected();
        self.emit(Event::Connection { folder: folder.to_owned(), state: ConnectionState::Online, detail: None });
        let mut session = c.session;
        loop {
            if self.is_stopping() {
                imap::logout(session).await;
                return Ok(());
            }
            // A change reported while we synced (or since) is synced now, never left
            // to wait out an IDLE period.
            if imap::pending_changes(&mut session).await? {
                self.sync_folder(&mut session, folder, condstore).await?;
                continue;
            }
            let (s, end) = imap::idle(session, IDLE_PERIOD, self.stopped()).await?;
            session = s;
            if end == IdleEnd::Interrupted && self.is_stopping() {
                imap::logout(session).await;
                return Ok(());
            }
            // Changed, or the re-IDLE period passed: catch up either way (cheap with
            // CONDSTORE) so a missed notification costs at most one period.
            self.sync_folder(&mut session, folder, condstore).await?;
        }
    }
}
