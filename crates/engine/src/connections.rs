//! Counting this app's IMAP connections. Hosted servers cap them per account (Gmail: 15,
//! shared by every app of a team on one mailbox), so the count is reported: live in the
//! presence note, expected for a configuration in `blendesk status --json`.

use blendesk_mail::imap::ImapSession;
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A logged-in session of this engine and the capabilities the server announced; it
/// counts as open (`Engine::imap_connections`) while this value lives. Moving the
/// session out to log it out ends the count when the rest of the value is dropped.
pub struct Connected {
    pub session: ImapSession,
    pub capabilities: Vec<String>,
    _open: OpenConnection,
}

impl Connected {
    pub(crate) fn new(inner: blendesk_mail::imap::Connected, count: &Arc<AtomicUsize>) -> Connected {
        count.fetch_add(1, Ordering::Relaxed);
        Connected { session: inner.session, capabilities: inner.capabilities, _open: OpenConnection(count.clone()) }
    }

    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c.eq_ignore_ascii_case(capability))
    }
}

struct OpenConnection(Arc<AtomicUsize>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl crate::engine::Engine {
    /// Connect, run `work` on the session, then log out whatever `work` returned: an
    /// early `?` inside cannot leave a session open on the server. For the short jobs
    /// (a sync, a body on demand, a publish); the long-lived loops log out when told to
    /// stop (`runtime`).
    pub(crate) async fn with_session<T>(
        &self,
        work: impl AsyncFnOnce(&mut Connected) -> crate::engine::Result<T>,
    ) -> crate::engine::Result<T> {
        scoped(self.connect().await?, work).await
    }

    /// `with_session` on a connection checked for team mode (`connect_for_team`).
    pub(crate) async fn with_team_session<T>(
        &self,
        work: impl AsyncFnOnce(&mut Connected) -> crate::engine::Result<T>,
    ) -> crate::engine::Result<T> {
        scoped(self.connect_for_team().await?, work).await
    }
}

/// The one reconnect rule for the long-lived sessions (IDLE watchers, the claim loop,
/// the chores): after the n-th failure in a row wait the domain's backoff
/// (`backoff::reconnect_delay`, jittered); a session that got going (`connected`) starts
/// the count again.
#[derive(Debug, Default)]
pub(crate) struct Reconnect {
    failures: u32,
}

impl Reconnect {
    /// The session is connected and caught up.
    pub(crate) fn connected(&mut self) {
        self.failures = 0;
    }

    /// Count a failure of `what`; returns the wait before the next try (and logs both).
    pub(crate) fn failed(&mut self, what: &str, error: &crate::engine::EngineError) -> std::time::Duration {
        self.failures = self.failures.saturating_add(1);
        let delay = blendesk_domain::backoff::reconnect_delay(self.failures, rand::random::<f64>());
        tracing::warn!(what, error = %error, retry_in_ms = delay.as_millis() as u64, "failed; reconnecting");
        delay
    }
}

impl crate::engine::Engine {
    /// Wait `delay` before reconnecting; `false` when asked to stop meanwhile.
    pub(crate) async fn wait_to_reconnect(&self, delay: std::time::Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(delay) => true,
            _ = self.stopped() => false,
        }
    }
}

async fn scoped<T>(mut c: Connected, work: impl AsyncFnOnce(&mut Connected) -> crate::engine::Result<T>) -> crate::engine::Result<T> {
    let result = work(&mut c).await;
    blendesk_mail::imap::logout(c.session).await;
    result
}

/// The connections an app holds while it runs, by task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionPlan {
    /// One IDLE connection per queue, and in solo mode one for Sent.
    pub watch: usize,
    /// Team mode: the claim loop (and the policy) — not with the team's database, where
    /// it writes nothing to the mailbox; the chores (presence heartbeats, team duties and
    /// the Sent folder's sync).
    pub team: usize,
    /// The long-lived total; sending a reply and publishing a document add one for
    /// a moment.
    pub total: usize,
}

impl ConnectionPlan {
    pub fn new(queues: usize, team_mode: bool, coordinated_by_database: bool) -> ConnectionPlan {
        let (watch, team) = match (team_mode, coordinated_by_database) {
            (true, false) => (queues, 2),
            (true, true) => (queues, 1),
            (false, _) => (queues + 1, 0),
        };
        ConnectionPlan { watch, team, total: watch + team }
    }
}

#[cfg(test)]
mod tests {
    use super::ConnectionPlan;

    #[test]
    fn the_team_database_saves_the_claim_loops_connection() {
        let total = |queues, team, db| ConnectionPlan::new(queues, team, db).total;
        assert_eq!(total(1, false, false), 2, "solo: the queue and Sent");
        assert_eq!(total(1, true, false), 3, "mailbox team: the queue, the claim loop, the chores");
        assert_eq!(total(1, true, true), 2, "database team: the queue and the chores");
        assert_eq!(total(3, true, true), 4);
    }
}
