//! The commands the UI calls. Each is a few lines over the engine; errors reach the UI as
//! `{code, message}` so it can tell them apart without matching strings.

use crate::desk::{apply_presence, Desk, PresenceView, Startup};
use crate::html::{is_converted_text, sanitise, SafeHtml};
use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::blending::AdvisorEvent;
use blendesk_domain::blending::Skills;
use blendesk_engine::errors::ErrorCode;
use blendesk_engine::presence::{PresenceEntry, PresenceNote};
use blendesk_engine::workspace::{Conversation, HistoryItem, QueueSummary, Snippet, ThreadMessage};
use serde::Serialize;
use tauri::{AppHandle, Manager, State};

#[derive(Debug, Serialize, ts_rs::TS)]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

/// What every command returns; shared by the command modules (`knowledge`, `calls`).
pub(crate) type Result<T> = std::result::Result<T, CommandError>;

fn err(code: ErrorCode) -> impl Fn(String) -> CommandError {
    move |message| CommandError { code, message }
}

pub(crate) fn engine_err(e: blendesk_engine::EngineError) -> CommandError {
    CommandError { code: e.code(), message: e.to_string() }
}

/// The engine is not up yet (or failed to start): `Desk::engine`'s error.
pub(crate) fn starting(message: String) -> CommandError {
    CommandError { code: ErrorCode::Starting, message }
}

#[derive(Serialize, ts_rs::TS)]
pub struct Bootstrap {
    pub startup: Startup,
    pub config_path: String,
    pub advisor_id: Option<String>,
    pub advisor_name: Option<String>,
    pub cap: u32,
    pub presence: PresenceView,
    /// The system's language (LC_ALL, LC_MESSAGES, LANG, LANGUAGE), e.g. `zh_CN.UTF-8`.
    pub system_locale: Option<String>,
    /// The engine's tasks (`blendesk_engine::runtime::Task`), once started.
    pub engine_tasks: Vec<&'static str>,
}

#[tauri::command]
pub fn bootstrap(desk: State<'_, Desk>) -> Bootstrap {
    let engine = desk.engine.get();
    Bootstrap {
        startup: desk.startup.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        config_path: desk.config_path.display().to_string(),
        advisor_id: engine.map(|e| e.config().advisor.id.as_str().to_owned()),
        advisor_name: engine.map(|e| e.config().advisor.name.clone()),
        cap: engine.map_or(0, |e| e.policy().cap_for(&e.config().advisor.id)),
        presence: desk.presence_view(),
        system_locale: ["LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"]
            .iter()
            .filter_map(|k| std::env::var(k).ok())
            .find(|v| !v.is_empty() && v != "C" && v != "POSIX"),
        engine_tasks: desk.runtime_tasks(),
    }
}

#[derive(Serialize, ts_rs::TS)]
pub struct ParkedConversation {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub return_at_ms: i64,
}

#[derive(Serialize, ts_rs::TS)]
pub struct WorkspacePayload {
    pub mine: Vec<Conversation>,
    /// Set aside by the advisor; they come back by themselves and do not count as load.
    pub parked: Vec<ParkedConversation>,
    pub queues: Vec<QueueSummary>,
    /// Open emails I own in my active (not parked) conversations.
    pub load: u32,
    /// My cap in the supervisor policy in force.
    pub cap: u32,
    /// The policy message in force (0: defaults).
    pub policy_uid: u32,
    /// Whether this advisor is a supervisor in that policy (the supervisor view).
    pub supervisor: bool,
    /// For supervisors: conversations past their promise, plus one while the breaker
    /// holds automatic mail back (a badge on the supervisor tab); 0 for others.
    pub supervisor_alerts: u32,
    pub now: i64,
    /// Last known state of each folder's connection.
    pub connections: std::collections::BTreeMap<String, crate::desk::ConnectionView>,
}

/// My conversations: the open ones carrying my owner keyword (the engine's claim loop
/// takes them within my cap), split into active and parked.
#[tauri::command]
pub fn workspace(app: AppHandle, desk: State<'_, Desk>) -> Result<WorkspacePayload> {
    let engine = desk.engine().map_err(err(ErrorCode::Starting))?;
    let now = crate::desk::now_ms() / 1000;
    let policy = engine.policy();
    let queues = engine.workspace(now).map_err(engine_err)?.queues;
    let owned = engine.owned_conversations(now).map_err(engine_err)?;
    // Due parked ones come back (even over the cap); closed ones are forgotten.
    let parked_map = engine.parked().map_err(engine_err)?;
    let (parked, mine): (Vec<_>, Vec<_>) = owned.into_iter().partition(|(c, _)| parked_map.contains_key(&c.key));
    let parked: Vec<ParkedConversation> =
        parked.into_iter().map(|(c, _)| ParkedConversation { return_at_ms: parked_map[&c.key], conversation: c }).collect();
    // The engine's load: open conversations, parked ones excepted (what the cap limits).
    let load = engine.load().map_err(engine_err)?;
    let mine: Vec<Conversation> = mine.into_iter().map(|(c, _)| c).collect();
    *desk.mine.lock().unwrap_or_else(|e| e.into_inner()) = mine.iter().flat_map(|c| c.customers.iter().cloned()).collect();
    crate::desk::announce_sla_risk(&app);
    let connections = desk.connections.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let me = &engine.config().advisor.id;
    let supervisor_alerts = if policy.is_supervisor(me) {
        let alerts = engine.automation_alerts(now * 1000).map_err(engine_err)?;
        alerts.breached.len() as u32 + u32::from(alerts.breaker.is_some())
    } else {
        0
    };
    Ok(WorkspacePayload {
        supervisor_alerts,
        load,
        mine,
        parked,
        queues,
        cap: policy.cap_for(me),
        policy_uid: engine.policy_uid(),
        supervisor: policy.is_supervisor(me),
        now,
        connections,
    })
}

#[derive(Serialize, ts_rs::TS)]
pub struct MessageView {
    #[serde(flatten)]
    pub head: ThreadMessage,
    pub text: String,
    pub html: Option<SafeHtml>,
    pub to: Vec<String>,
}

#[derive(Serialize, ts_rs::TS)]
pub struct ConversationPayload {
    pub thread: Vec<MessageView>,
    pub history: Vec<HistoryItem>,
}

#[tauri::command]
pub fn open_conversation(desk: State<'_, Desk>, message: i64) -> Result<ConversationPayload> {
    let engine = desk.engine().map_err(err(ErrorCode::Starting))?;
    let heads = engine.thread(message).map_err(engine_err)?;
    let mut thread = Vec::new();
    for head in heads.into_iter().rev().take(30).collect::<Vec<_>>().into_iter().rev() {
        let Some(m) = engine.store().message(head.id).map_err(|e| CommandError { code: ErrorCode::Store, message: e.to_string() })? else {
            continue;
        };
        let html = m.body_html.as_deref().filter(|h| !is_converted_text(h)).map(sanitise);
        thread.push(MessageView { html, text: m.body_text, to: m.to, head });
    }
    let customer = thread.iter().find(|m| m.head.id == message).map(|m| m.head.from_addr.clone()).unwrap_or_default();
    let history = engine.customer_history(&customer, 50).map_err(engine_err)?;
    Ok(ConversationPayload { thread, history })
}

#[tauri::command]
pub fn search_knowledge(desk: State<'_, Desk>, query: String, customer: String) -> Result<Vec<Snippet>> {
    let engine = desk.engine().map_err(err(ErrorCode::Starting))?;
    engine.knowledge_snippets(&query, &customer, 8).map_err(engine_err)
}

/// The advisor asked to see one message's images: Rust fetches them and the message is
/// rendered again with them inlined.
#[tauri::command]
pub async fn show_images(desk: State<'_, Desk>, message: i64) -> Result<SafeHtml> {
    let engine = desk.engine().map_err(err(ErrorCode::Starting))?;
    let m = engine
        .store()
        .message(message)
        .map_err(|e| CommandError { code: ErrorCode::Store, message: e.to_string() })?
        .ok_or_else(|| CommandError { code: ErrorCode::Missing, message: format!("no message {message}") })?;
    let html = m.body_html.unwrap_or_default();
    let urls = crate::html::remote_images(&html, crate::images::MAX_IMAGES);
    let fetched = tauri::async_runtime::spawn_blocking(move || crate::images::fetch_all(&urls))
        .await
        .map_err(|e| CommandError { code: ErrorCode::Images, message: e.to_string() })?;
    Ok(crate::html::sanitise_with_images(&html, &fetched))
}

/// Queue a reply (the engine refuses while email is paused, and an empty one).
#[tauri::command]
pub fn send_reply(desk: State<'_, Desk>, message: i64, body: String, handle_ms: Option<i64>, assisted: Option<bool>) -> Result<i64> {
    let engine = desk.engine().map_err(err(ErrorCode::Starting))?;
    engine.queue_window_reply(message, &body, handle_ms.filter(|ms| *ms >= 0), assisted).map_err(engine_err)
}

/// "Come back later": park my conversation `customer` (its key) for `seconds` (default:
/// the policy's return time). Refused past the park limit; re-parking moves the time.
#[tauri::command]
pub fn park(desk: State<'_, Desk>, customer: String, seconds: Option<u32>) -> Result<i64> {
    let engine = desk.engine().map_err(err(ErrorCode::Starting))?;
    let return_at_ms = engine.park(&customer, seconds).map_err(|e| CommandError { code: ErrorCode::Forbidden, message: e.to_string() })?;
    desk.mine.lock().unwrap_or_else(|e| e.into_inner()).retain(|c| c != &customer);
    Ok(return_at_ms)
}

/// Close the conversation without a reply: `$Resolved` on its open messages. They keep
/// my owner keyword as a record of who closed them, and stop counting as my load (the
/// claim loop counts open emails only). The engine refuses while email is paused.
#[tauri::command]
pub async fn resolve(desk: State<'_, Desk>, message: i64) -> Result<u32> {
    let engine = desk.engine().map_err(err(ErrorCode::Starting))?.clone();
    engine.resolve_conversation(message).await.map_err(engine_err)
}

#[tauri::command]
pub fn set_call(app: AppHandle, on: bool) -> Result<PresenceView> {
    let desk = app.state::<Desk>();
    desk.engine().map_err(starting)?.call_event(on, blendesk_engine::calls::CallInfo::default());
    Ok(desk.presence_view())
}

/// The advisor's disposition of the call that just ended (resolved, follow-up,
/// transfer): recorded with the call in the team's activity log.
#[tauri::command]
pub fn set_call_disposition(app: AppHandle, disposition: blendesk_domain::activity::Disposition) -> Result<PresenceView> {
    let desk = app.state::<Desk>();
    desk.engine().map_err(starting)?.set_call_disposition(disposition).map_err(engine_err)?;
    Ok(desk.presence_view())
}

/// The advisor picks a state by hand: `available` or `away` (refused during a call by
/// the state rules, which return the unchanged state).
#[tauri::command]
pub fn set_presence(app: AppHandle, state: String) -> Result<PresenceView> {
    use blendesk_domain::blending::ManualState;
    let manual = match state.as_str() {
        "available" => ManualState::Available,
        "away" => ManualState::Away,
        other => return Err(CommandError { code: ErrorCode::Invalid, message: format!("unknown state {other:?}") }),
    };
    apply_presence(&app, AdvisorEvent::Set(manual)).map_err(err(ErrorCode::Starting))
}

#[tauri::command]
pub fn presence(desk: State<'_, Desk>) -> PresenceView {
    desk.presence_view()
}

/// The advisor used the keyboard or mouse (the UI reports it at most every few
/// seconds): keeps idle detection from sending them away, and ends an idle away.
#[tauri::command]
pub fn activity(app: AppHandle) -> Result<PresenceView> {
    apply_presence(&app, AdvisorEvent::Activity).map_err(err(ErrorCode::Starting))
}

#[derive(Serialize, ts_rs::TS)]
pub struct SupervisorAdvisor {
    #[serde(flatten)]
    pub presence: PresenceEntry,
    /// The cap the policy in force gives them (the note's `cap` is what their app last
    /// reported applying).
    pub policy_cap: u32,
    /// Their skills in the policy (absent lists: every queue / language).
    pub skills: Skills,
}

#[derive(Serialize, ts_rs::TS)]
pub struct SupervisorView {
    pub advisors: Vec<SupervisorAdvisor>,
    pub queues: Vec<QueueSummary>,
    /// The breaker holding automatic mail back, and conversations past their SLA.
    pub alerts: blendesk_engine::AutomationAlerts,
    pub default_cap: u32,
    pub policy_uid: u32,
    pub now: i64,
}

pub(crate) fn require_supervisor(engine: &blendesk_engine::Engine) -> Result<()> {
    if engine.policy().is_supervisor(&engine.config().advisor.id) {
        Ok(())
    } else {
        Err(CommandError { code: ErrorCode::Forbidden, message: "only supervisors named in the policy see this".into() })
    }
}

/// The supervisor view: every advisor's presence (state, load, cap, since) and the queues.
#[tauri::command]
pub fn supervisor_view(desk: State<'_, Desk>) -> Result<SupervisorView> {
    let engine = desk.engine().map_err(err(ErrorCode::Starting))?;
    require_supervisor(engine)?;
    let policy = engine.policy();
    let now = crate::desk::now_ms() / 1000;
    let queues = engine.workspace(now).map_err(engine_err)?.queues;
    let mut board = engine.presence_board();
    // Advisors named in the policy who have never reported presence: offline, no heartbeat.
    for id in policy.advisors.keys().filter(|id| !board.iter().any(|p| &p.note.advisor == *id)).cloned().collect::<Vec<_>>() {
        let note = PresenceNote {
            advisor: id,
            name: String::new(),
            state: "offline".into(),
            load: 0,
            cap: 0,
            since_ms: 0,
            connections: 0,
            today: Default::default(),
        };
        board.push(PresenceEntry { note, heartbeat_at: 0, offline: true, silent_for: 0 });
    }
    let advisors = board
        .into_iter()
        .map(|p| {
            let id = AdvisorId::parse(&p.note.advisor).ok();
            SupervisorAdvisor {
                policy_cap: id.as_ref().map_or(policy.default_cap, |id| policy.cap_for(id)),
                skills: id.as_ref().map(|id| policy.skills_for(id).clone()).unwrap_or_default(),
                presence: p,
            }
        })
        .collect();
    let alerts = engine.automation_alerts(now * 1000).map_err(engine_err)?;
    Ok(SupervisorView { advisors, queues, alerts, default_cap: policy.default_cap, policy_uid: engine.policy_uid(), now })
}

/// A supervisor sets an advisor's cap: a new policy version in the shared mailbox.
/// Returns the policy message now in force.
#[tauri::command]
pub async fn set_cap(desk: State<'_, Desk>, advisor: String, cap: u32) -> Result<u32> {
    let engine = desk.engine().map_err(err(ErrorCode::Starting))?.clone();
    require_supervisor(&engine)?;
    let id = AdvisorId::parse(&advisor).map_err(|e| CommandError { code: ErrorCode::Invalid, message: e.to_string() })?;
    engine.set_advisor_cap(&id, cap).await.map_err(engine_err)?;
    Ok(engine.policy_uid())
}

/// Open a link from mail in the system browser. The UI has already shown the real host
/// and the advisor confirmed. Only http(s); no shell involved.
#[tauri::command]
pub fn open_link(url: String) -> Result<()> {
    let parsed = tauri::Url::parse(&url).map_err(|e| CommandError { code: ErrorCode::Invalid, message: e.to_string() })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(CommandError {
            code: ErrorCode::Invalid,
            message: format!("only web links open in the browser, not {}", parsed.scheme()),
        });
    }
    std::process::Command::new("xdg-open")
        .arg(parsed.as_str())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| CommandError { code: ErrorCode::Open, message: format!("cannot start the browser (xdg-open): {e}") })
}
