//! Team chores on one IMAP connection: presence heartbeats (every `HEARTBEAT`), the team
//! duties (acknowledgements, still-working notes) and the Sent folder's sync (every
//! second), surveys when resolutions arrive (`surveys::SurveySchedule`). Hosted servers cap connections per account (Gmail: 15, shared by every app
//! of the team), so an app in team mode holds one IDLE connection per queue, the claim
//! loop's, and this one. The claim loop keeps its own: a duty burst never delays a claim.

use crate::connections::Reconnect;
use crate::engine::{Engine, Result};
use crate::presence::HEARTBEAT;
use blendesk_mail::imap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How often duties run and Sent is synced.
const CHORE_PERIOD: Duration = Duration::from_secs(1);
/// How often old duty bids kept as records are looked for (`duty_bids::prune_bids`).
const BID_PRUNE_PERIOD: Duration = Duration::from_secs(3600);

impl Engine {
    /// Run the chores until shutdown, reconnecting with backoff after a failure.
    pub(crate) async fn run_team_chores(self: Arc<Self>) {
        let mut retry = Reconnect::default();
        while !self.is_stopping() {
            let Err(e) = self.chores_session(&mut retry).await else { return };
            if matches!(e, crate::engine::EngineError::SignInRevoked(_)) {
                tracing::warn!(error = %e, "team chores stop until the advisor signs in again");
                return;
            }
            if !self.wait_to_reconnect(retry.failed("team chores", &e)).await {
                return;
            }
        }
    }

    async fn chores_session(self: &Arc<Self>, retry: &mut Reconnect) -> Result<()> {
        // Scoped: logged out on stop and on any error that leaves the session usable.
        self.with_session(async |c| {
            let condstore = c.has("CONDSTORE");
            let sent = self.config.imap.sent.clone();
            imap::create_folder(&mut c.session, &sent).await?;
            retry.connected();
            let mut next_beat = Instant::now();
            let mut next_activity = Instant::now();
            let mut next_prune = Instant::now();
            let mut surveys = crate::surveys::SurveySchedule::new(Instant::now());
            loop {
                if Instant::now() >= next_activity {
                    // The event log never stops presence or duties: a folder this
                    // advisor may not write is reported and tried again later (a dead
                    // connection fails the heartbeat next and reconnects).
                    if let Err(e) = self.activity_round(&mut c.session).await {
                        tracing::warn!(error = %e, "team event log: not appended or read this time");
                    }
                    next_activity = Instant::now() + crate::activity::ACTIVITY_PERIOD;
                }
                if Instant::now() >= next_prune && !self.coordinated_by_database() {
                    // Bids kept as records (surveys, filed answers) go after a while;
                    // any app may remove them, so an hourly look is plenty.
                    let duties = self.config.team_folder(blendesk_domain::automation::duty::DUTIES_FOLDER);
                    if let Err(e) = crate::duty_bids::prune_bids(&mut c.session, &duties, self.now_ms()).await {
                        tracing::warn!(error = %e, "old duty bids: not removed this time");
                    }
                    next_prune = Instant::now() + BID_PRUNE_PERIOD;
                }
                // Between every step, not once a round: a long step (a burst of
                // acknowledgements, a slow server) must not make this advisor look gone
                // to the team, who would take over their conversations.
                self.beat_if_due(&mut c.session, &mut next_beat).await?;
                // Our replies in Sent before the duties look at the conversations.
                self.sync_folder(&mut c.session, &sent, condstore).await?;
                self.beat_if_due(&mut c.session, &mut next_beat).await?;
                self.run_duties(&mut c.session).await?;
                self.beat_if_due(&mut c.session, &mut next_beat).await?;
                self.run_surveys_when_due(&mut c.session, &mut surveys).await?;
                tokio::select! {
                    _ = tokio::time::sleep(CHORE_PERIOD) => {}
                    _ = self.stopped() => {
                        // What this app recorded goes before it stops (a crash leaves it
                        // in the store for the next run).
                        if let Err(e) = self.append_activity(&mut c.session).await {
                            tracing::warn!(error = %e, "team event log: left for the next run");
                        }
                        return Ok(());
                    }
                }
            }
        })
        .await
    }

    /// Publish this app's presence note (and read the board) when a heartbeat is due.
    async fn beat_if_due(&self, session: &mut imap::ImapSession, next_beat: &mut Instant) -> Result<()> {
        if Instant::now() < *next_beat {
            return Ok(());
        }
        let note = self.presence_note()?;
        if self.coordinated_by_database() {
            self.db_heartbeat(&note).await?;
        } else {
            self.heartbeat(session, &note).await?;
        }
        *next_beat = Instant::now() + HEARTBEAT;
        Ok(())
    }
}
