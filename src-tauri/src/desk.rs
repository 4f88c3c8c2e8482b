//! The desktop's state: the engine (once started) and what the window needs between
//! commands. The advisor's state machine, the policy and the claims live in the engine,
//! and its tasks in the engine's runtime (`blendesk_engine::runtime`, the same list the
//! headless runner starts); this file adds only the window's own: events to the UI,
//! desktop notifications, the OS idle watcher.

use blendesk_domain::blending::{AdvisorEvent, AdvisorState, ManualState};
use blendesk_engine::config::Config;
use blendesk_engine::events::Event as EngineEvent;
use blendesk_engine::runtime::{Mode, OnTeamFailure, Runtime};
use blendesk_engine::Engine;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager};

pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// What the UI's top bar shows about the advisor.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
pub struct PresenceView {
    pub state: &'static str,
    pub since_ms: i64,
    pub wrap_up_until_ms: Option<i64>,
    pub now_ms: i64,
    /// The call that ended and waits for the advisor's disposition (during wrap-up).
    pub call_to_dispose: Option<blendesk_engine::calls::EndedCall>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ConnectionView {
    pub state: blendesk_engine::events::ConnectionState,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Startup {
    Starting,
    /// No configuration yet: the first-run setup screen.
    NeedsSetup,
    Ready,
    Failed {
        error: String,
    },
}

pub struct Desk {
    pub config_path: PathBuf,
    pub engine: OnceLock<Arc<Engine>>,
    pub startup: Mutex<Startup>,
    /// Customers whose conversations are the advisor's (owner keyword), as last shown.
    pub mine: Mutex<Vec<String>>,
    /// Conversations (by their newest message) already announced as at SLA risk.
    pub risk_announced: Mutex<std::collections::HashSet<i64>>,
    /// Each folder's last reported connection state (events may fire before the UI listens).
    pub connections: Mutex<std::collections::BTreeMap<String, ConnectionView>>,
    /// The engine's tasks, once started.
    runtime: Mutex<Option<Runtime>>,
    /// The setup's OAuth2 sign-in until it is saved: the account (`user@host`), the
    /// refresh token, and whether the keyring holds it. Memory only.
    pub signed_in: Mutex<Option<crate::setup::SignedIn>>,
    /// The window's own tasks.
    tasks: Mutex<Vec<tauri::async_runtime::JoinHandle<()>>>,
}

impl Desk {
    pub fn new(config_path: PathBuf) -> Self {
        Self {
            config_path,
            engine: OnceLock::new(),
            startup: Mutex::new(Startup::Starting),
            mine: Mutex::new(Vec::new()),
            connections: Mutex::new(Default::default()),
            risk_announced: Mutex::new(Default::default()),
            runtime: Mutex::new(None),
            signed_in: Mutex::new(None),
            tasks: Mutex::new(Vec::new()),
        }
    }

    pub fn engine(&self) -> Result<&Arc<Engine>, String> {
        self.engine.get().ok_or_else(|| "the engine is not running yet".to_owned())
    }

    /// The engine's view of the advisor; offline until the engine runs.
    pub fn presence_view(&self) -> PresenceView {
        match self.engine.get() {
            Some(e) => {
                let p = e.advisor_presence();
                PresenceView {
                    state: p.state().as_str(),
                    since_ms: p.since_ms(),
                    wrap_up_until_ms: p.wrap_up_until_ms(),
                    now_ms: now_ms(),
                    call_to_dispose: e.call_to_dispose(),
                }
            }
            None => PresenceView {
                state: AdvisorState::Offline.as_str(),
                since_ms: now_ms(),
                wrap_up_until_ms: None,
                now_ms: now_ms(),
                call_to_dispose: None,
            },
        }
    }

    /// Stop the engine's tasks (each logs out of IMAP) and the window's.
    pub fn shutdown(&self) {
        let runtime = self.runtime.lock().unwrap_or_else(|e| e.into_inner()).take();
        match runtime {
            Some(r) => {
                let started = std::time::Instant::now();
                let stopped = tauri::async_runtime::block_on(r.shutdown(SHUTDOWN_GRACE));
                tracing::info!(ms = started.elapsed().as_millis() as u64, ?stopped, "engine stopped");
            }
            None => {
                if let Some(e) = self.engine.get() {
                    e.shutdown();
                }
            }
        }
        for t in self.tasks.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            t.abort();
        }
    }

    /// The engine's tasks, as the runtime started them (empty before).
    pub fn runtime_tasks(&self) -> Vec<&'static str> {
        let runtime = self.runtime.lock().unwrap_or_else(|e| e.into_inner());
        runtime.as_ref().map(|r| r.tasks().into_iter().map(|t| t.as_str()).collect()).unwrap_or_default()
    }

    /// Stop the engine's tasks and start them again (after signing in again).
    pub async fn restart_tasks(&self) -> anyhow::Result<()> {
        let engine = self.engine().map_err(anyhow::Error::msg)?.clone();
        // A folder whose loop stopped on the revocation may not get a loop of its own
        // again (Sent in team mode): forget "sign in needed"; new failures say it again.
        self.connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, c| c.state != blendesk_engine::events::ConnectionState::SignInNeeded);
        let old = self.runtime.lock().unwrap_or_else(|e| e.into_inner()).take();
        let runtime = match old {
            Some(r) => match r.restart(SHUTDOWN_GRACE).await {
                Ok(r) => r,
                // Team mode refused now: the tasks are stopped, so start solo.
                Err(e) => {
                    tracing::error!("no team claims: {e}");
                    Runtime::start(engine, Mode::Solo, OnTeamFailure::ContinueSolo).await?
                }
            },
            None => start_runtime(engine).await?,
        };
        *self.runtime.lock().unwrap_or_else(|e| e.into_inner()) = Some(runtime);
        Ok(())
    }

    fn keep(&self, task: tauri::async_runtime::JoinHandle<()>) {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner()).push(task);
    }
}

/// Apply a presence event in the engine and return the view. The engine announces a
/// change as an `advisor_state` event, which reaches the UI as `presence`.
pub fn apply_presence(app: &AppHandle, event: AdvisorEvent) -> Result<PresenceView, String> {
    let desk = app.state::<Desk>();
    desk.engine()?.presence_event(event);
    Ok(desk.presence_view())
}

/// Start everything that runs in the background.
pub fn start(app: AppHandle) {
    let desk = app.state::<Desk>();
    let a = app.clone();
    desk.keep(tauri::async_runtime::spawn(async move {
        if let Err(e) = run_engine(a.clone()).await {
            let error = format!("{e:#}");
            tracing::error!("cannot start the engine: {error}");
            *a.state::<Desk>().startup.lock().unwrap_or_else(|e| e.into_inner()) = Startup::Failed { error: error.clone() };
            let _ = a.emit("startup", Startup::Failed { error });
        }
    }));
}

pub fn set_startup(app: &AppHandle, startup: Startup) {
    *app.state::<Desk>().startup.lock().unwrap_or_else(|e| e.into_inner()) = startup.clone();
    let _ = app.emit("startup", startup);
}

async fn run_engine(app: AppHandle) -> anyhow::Result<()> {
    let desk = app.state::<Desk>();
    let config = match Config::load(&desk.config_path) {
        Ok(c) => c,
        Err(blendesk_engine::config::ConfigError::Missing(_)) => {
            set_startup(&app, Startup::NeedsSetup);
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let engine = Engine::open(config).await?;
    run_with(app, engine).await
}

/// Run a started engine: events to the UI, sync and live updates, the outbox, the call
/// socket. Called once, at start or after first-run setup.
pub async fn run_with(app: AppHandle, engine: Arc<Engine>) -> anyhow::Result<()> {
    let desk = app.state::<Desk>();
    if desk.engine.set(engine.clone()).is_err() {
        anyhow::bail!("the engine is already running");
    }
    *desk.startup.lock().unwrap_or_else(|e| e.into_inner()) = Startup::Ready;
    let _ = app.emit("startup", Startup::Ready);

    // Engine events → UI; "a customer replied in your conversation" → notification.
    let mut events = engine.subscribe();
    let a = app.clone();
    let mut last_state = engine.advisor_state();
    desk.keep(tauri::async_runtime::spawn(async move {
        loop {
            match events.recv().await {
                Ok(e) => {
                    match &e {
                        EngineEvent::MessageArrived { from, subject, .. } => notify_if_mine(&a, from, subject),
                        EngineEvent::Connection { folder, state, detail } => {
                            a.state::<Desk>()
                                .connections
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(folder.clone(), ConnectionView { state: *state, detail: detail.clone() });
                        }
                        EngineEvent::AdvisorState { state, .. } => {
                            tracing::info!(from = last_state.as_str(), to = state.as_str(), "advisor state");
                            let _ = a.emit("presence", a.state::<Desk>().presence_view());
                            if last_state == AdvisorState::WrapUp && state == "available" {
                                crate::notify::show("Blendesk", "Email resumed");
                            }
                            last_state = AdvisorState::parse(state).unwrap_or(last_state);
                        }
                        _ => {}
                    }
                    let _ = a.emit("engine", &e);
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("UI missed {n} engine events; asking it to reload");
                    let _ = a.emit("engine", serde_json::json!({"type": "lagged"}));
                }
                Err(_) => break,
            }
        }
    }));
    let a = app.clone();
    desk.keep(tauri::async_runtime::spawn(async move {
        let mut tick = tokio::time::interval(SLA_CHECK_PERIOD);
        loop {
            tick.tick().await;
            announce_sla_risk(&a);
        }
    }));
    let runtime = start_runtime(engine.clone()).await?;
    *desk.runtime.lock().unwrap_or_else(|e| e.into_inner()) = Some(runtime);
    // Opening the app logs the advisor in; the claim loop then takes email for them
    // within the supervisor's cap and publishes their presence.
    engine.presence_event(AdvisorEvent::Set(ManualState::Available));
    // Input anywhere on the desktop (the softphone, the CRM) keeps the advisor active.
    let a = app.clone();
    crate::os_idle::watch(move || {
        let _ = apply_presence(&a, AdvisorEvent::Activity);
    });
    Ok(())
}

/// The engine's tasks. Team mode when the server allows it; otherwise the advisor still
/// works alone (and is told why in the log).
async fn start_runtime(engine: Arc<Engine>) -> anyhow::Result<Runtime> {
    match Runtime::start(engine.clone(), Mode::Team, OnTeamFailure::ContinueSolo).await {
        Ok(r) => Ok(r),
        Err(e) => {
            tracing::error!("no team claims: {e}");
            Ok(Runtime::start(engine, Mode::Solo, OnTeamFailure::ContinueSolo).await?)
        }
    }
}

/// How long the engine's tasks get to log out when the app quits (the window is gone
/// by then; a relaunch waits for this process to end).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How often my conversations are checked for SLA risk (also after every workspace refresh).
const SLA_CHECK_PERIOD: Duration = Duration::from_secs(20);

/// "An email of yours is at SLA risk": once per conversation (its newest message), never
/// during a call or wrap-up (checked again after).
pub fn announce_sla_risk(app: &AppHandle) {
    let desk = app.state::<Desk>();
    let Ok(engine) = desk.engine() else { return };
    if engine.email_paused() {
        return;
    }
    let now = now_ms() / 1000;
    let Ok(mine) = engine.owned_conversations(now) else { return };
    let mut announced = desk.risk_announced.lock().unwrap_or_else(|e| e.into_inner());
    for (c, _) in &mine {
        if c.sla != blendesk_engine::workspace::SlaLevel::Ok && announced.insert(c.latest_id) {
            crate::notify::show("An email of yours is at SLA risk", &format!("{}: {}", c.customer, c.subject));
        }
    }
}

fn notify_if_mine(app: &AppHandle, from: &str, subject: &str) {
    let desk = app.state::<Desk>();
    if desk.engine().is_ok_and(|e| e.email_paused()) {
        return; // held during a call
    }
    let from_addr = from.rsplit_once('<').map(|(_, r)| r.trim_end_matches('>')).unwrap_or(from).trim().to_lowercase();
    let mine = desk.mine.lock().unwrap_or_else(|e| e.into_inner()).contains(&from_addr);
    if mine {
        crate::notify::show("A customer replied in your conversation", &format!("{from}: {subject}"));
    }
}
