//! The engine's runtime: every background task an app runs, started from one list for
//! the desktop and the headless runner alike (`plan`), and stopped together
//! (`Runtime::shutdown`). The window adds only what is its own (forwarding events to
//! the UI, desktop notifications, the OS idle watcher); nothing here knows a window.
//!
//! Stopping: `Engine::shutdown` tells every loop to finish; each ends its IMAP session
//! with a LOGOUT on the way out. A task still running after the grace period is
//! aborted and reported, so a hang shows up in the test that shuts down.

use crate::engine::{Engine, EngineError, Result};
use crate::events::Event;
use blendesk_domain::blending::AdvisorEvent;
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

pub use crate::events::Mode;

/// What to do when team mode stops after it started (the server withdrew a
/// capability, the folder is full of keywords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTeamFailure {
    /// Keep mirroring and sending as a solo app (the desktop: the advisor keeps working).
    ContinueSolo,
    /// Stop everything (the headless runner: its supervisor process restarts it).
    Stop,
}

/// One background task of the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Mirror the queues (and, solo, Sent) and follow them with IDLE.
    Watch,
    /// Send queued replies and automatic mail; file them in Sent.
    Outbox,
    /// Knowledge articles, templates and usage counts from the shared mailbox.
    SharedDocs,
    /// Team mode: claims, presence heartbeats, team duties, Sent's sync.
    Claims,
    /// Ends wrap-up on time.
    WrapUpClock,
    /// A softphone's `blendesk call start|end`.
    CallSocket,
}

impl Task {
    pub fn as_str(self) -> &'static str {
        match self {
            Task::Watch => "watch",
            Task::Outbox => "outbox",
            Task::SharedDocs => "shared_docs",
            Task::Claims => "claims",
            Task::WrapUpClock => "wrap_up_clock",
            Task::CallSocket => "call_socket",
        }
    }
}

/// The tasks an app runs in `mode`: the one list both front ends start.
pub fn plan(mode: Mode) -> Vec<Task> {
    let mut tasks = vec![Task::Watch, Task::Outbox, Task::SharedDocs];
    if mode == Mode::Team {
        tasks.push(Task::Claims);
    }
    tasks.extend([Task::WrapUpClock, Task::CallSocket]);
    tasks
}

/// How long an aborted task gets to unwind before shutdown moves on.
const ABORT_WAIT: Duration = Duration::from_millis(200);

/// The wrap-up clock's tick: 200 ms keeps the window's countdown honest.
const WRAP_UP_TICK: Duration = Duration::from_millis(200);

/// How the runtime ended: tasks that finished by themselves after the shutdown request,
/// and tasks that had to be aborted (a bug: every loop watches `Engine::stopped`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stopped {
    pub finished: Vec<Task>,
    pub aborted: Vec<Task>,
    /// IMAP sessions of this engine still open after the tasks ended.
    pub open_connections: usize,
}

pub struct Runtime {
    engine: Arc<Engine>,
    mode: Mode,
    on_team_failure: OnTeamFailure,
    tasks: Vec<(Task, JoinHandle<()>)>,
    /// Why team mode stopped, when it did.
    team_error: Arc<Mutex<Option<EngineError>>>,
}

impl Runtime {
    /// Start every task of `mode`. Team mode is checked first (CONDSTORE, keywords on
    /// every queue): an error here means nothing was started. A call socket that cannot
    /// be bound (another app of this advisor holds it) is reported and left out.
    pub async fn start(engine: Arc<Engine>, mode: Mode, on_team_failure: OnTeamFailure) -> Result<Runtime> {
        if mode == Mode::Team {
            let c = engine.connect_for_team().await?;
            crate::logout(c.session).await;
        }
        let mut runtime = Runtime { engine: engine.clone(), mode, on_team_failure, tasks: Vec::new(), team_error: Arc::default() };
        for task in plan(mode) {
            if let Some(handle) = runtime.spawn(task, on_team_failure).await {
                runtime.tasks.push((task, handle));
            }
        }
        engine.emit(Event::RuntimeStarted { mode, tasks: runtime.tasks().iter().map(|t| t.as_str().to_owned()).collect() });
        Ok(runtime)
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The tasks running (or run), in start order.
    pub fn tasks(&self) -> Vec<Task> {
        self.tasks.iter().map(|(t, _)| *t).collect()
    }

    /// Why team mode stopped, if it did.
    pub fn team_error(&self) -> Option<String> {
        self.team_error.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|e| e.to_string())
    }

    /// Resolves when the engine is asked to stop (by `shutdown`, a signal handler, or
    /// team mode failing under `OnTeamFailure::Stop`).
    pub async fn stopping(&self) {
        self.engine.stopped().await;
    }

    /// Ask every task to stop, wait up to `grace` for them, abort the rest.
    pub async fn shutdown(self, grace: Duration) -> Stopped {
        self.engine.shutdown();
        let deadline = tokio::time::Instant::now() + grace;
        let (mut finished, mut aborted) = (Vec::new(), Vec::new());
        for (task, mut handle) in self.tasks {
            match tokio::time::timeout_at(deadline, &mut handle).await {
                Ok(_) => finished.push(task),
                Err(_) => {
                    tracing::error!(task = task.as_str(), "task did not stop within the grace period; aborted");
                    handle.abort();
                    // An abort lands at the task's next await; never wait long for it.
                    let _ = tokio::time::timeout(ABORT_WAIT, handle).await;
                    aborted.push(task);
                }
            }
        }
        let stopped = Stopped { finished, aborted, open_connections: self.engine.imap_connections() };
        tracing::info!(?stopped, "runtime stopped");
        stopped
    }

    /// Stop every task (as `shutdown` does) and start the same plan again: after the
    /// advisor signed in again (`Engine::sign_in_again`), the loops that stopped on the
    /// revoked grant run once more. An error (team mode refused) leaves nothing running.
    pub async fn restart(self, grace: Duration) -> Result<Runtime> {
        let (engine, mode, on_team_failure) = (self.engine.clone(), self.mode, self.on_team_failure);
        let stopped = self.shutdown(grace).await;
        tracing::info!(?stopped, "runtime restarting");
        engine.resume();
        Runtime::start(engine, mode, on_team_failure).await
    }

    async fn spawn(&self, task: Task, on_team_failure: OnTeamFailure) -> Option<JoinHandle<()>> {
        let e = self.engine.clone();
        Some(match task {
            Task::Watch => match self.mode {
                // In team mode the claim loop's chores sync Sent (one connection fewer).
                Mode::Team => tokio::spawn(async move { e.watch_queues().await }),
                Mode::Solo => tokio::spawn(async move { e.watch().await }),
            },
            Task::Outbox => tokio::spawn(async move { e.run_outbox().await }),
            Task::SharedDocs => tokio::spawn(async move { e.run_shared_docs().await }),
            Task::Claims => {
                let slot = self.team_error.clone();
                tokio::spawn(async move {
                    let Err(err) = e.run_claims().await else { return };
                    tracing::error!("team mode stopped: {err}");
                    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(err);
                    match on_team_failure {
                        OnTeamFailure::Stop => e.shutdown(),
                        OnTeamFailure::ContinueSolo => {
                            let sent = e.config().imap.sent.clone();
                            e.watch_folders(vec![sent]).await;
                        }
                    }
                })
            }
            Task::WrapUpClock => tokio::spawn(async move {
                let mut tick = tokio::time::interval(WRAP_UP_TICK);
                loop {
                    tokio::select! {
                        _ = tick.tick() => { e.presence_event(AdvisorEvent::Tick); }
                        _ = e.stopped() => return,
                    }
                }
            }),
            Task::CallSocket => {
                let socket = match self.bind_call_socket().await {
                    Ok(s) => s,
                    Err(why) => {
                        tracing::warn!("no call socket: {why}");
                        return None;
                    }
                };
                tracing::info!("call socket at {}", socket.path().display());
                let handler_engine = e.clone();
                let handler: blendesk_control::Handler = Arc::new(move |request: blendesk_control::CallRequest| {
                    let info = crate::calls::CallInfo {
                        id: request.id,
                        number: request.number,
                        direction: request.direction.map(|d| d.as_str().to_owned()),
                    };
                    use blendesk_control::CallEvent;
                    let state = match request.call {
                        CallEvent::Start => handler_engine.call_event(true, info),
                        CallEvent::End => handler_engine.call_event(false, info),
                        CallEvent::Hold => handler_engine.call_hold(true),
                        CallEvent::Resume => handler_engine.call_hold(false),
                    };
                    Ok(state.as_str().to_owned())
                });
                // Dropping the socket (when stopped) removes its file.
                tokio::spawn(async move {
                    tokio::select! {
                        _ = socket.serve(handler) => {}
                        _ = e.stopped() => {}
                    }
                })
            }
        })
    }

    async fn bind_call_socket(&self) -> std::result::Result<blendesk_control::CallSocket, blendesk_control::ControlError> {
        let path = blendesk_control::socket_path(self.engine.config().advisor.id.as_str())?;
        blendesk_control::CallSocket::bind(&path).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_mode_adds_only_the_claim_loop() {
        let team = plan(Mode::Team);
        let solo = plan(Mode::Solo);
        assert_eq!(team.len(), solo.len() + 1);
        assert!(team.contains(&Task::Claims) && !solo.contains(&Task::Claims));
        for t in [Task::Watch, Task::Outbox, Task::SharedDocs, Task::WrapUpClock, Task::CallSocket] {
            assert!(team.contains(&t) && solo.contains(&t), "{t:?}");
        }
    }
}
