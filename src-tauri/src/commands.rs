//! The commands the UI calls. Each is a few lines over the engine; errors reach the UI as
//! `{code, message}` so it can tell them apart without matching strings.

use crate::desk::{apply_presence, Desk, PresenceView, Startup};
use crate::html::{is_converted_text, sanitise, SafeHtml};
use blendesk_domain::blending::{park as park_rule, return_if_due, AdvisorEvent, AdvisorState, ConversationStatus};
use blendesk_engine::workspace::{Conversation, HistoryItem, QueueSummary, Snippet, ThreadMessage};
use serde::Serialize;
use tauri::{AppHandle, State};

#[derive(Debug, Serialize)]
pub struct CommandError {
    pub code: &'static str,
    pub message: String,
}

type Result<T> = std::result::Result<T, CommandError>;

fn err(code: &'static str) -> impl Fn(String) -> CommandError {
    move |message| CommandError { code, message }
}

fn engine_err(e: blendesk_engine::EngineError) -> CommandError {
    CommandError { code: "engine", message: e.to_string() }
}

#[derive(Serialize)]
pub struct Bootstrap {
    pub startup: Startup,
    pub config_path: String,
    pub advisor_id: Option<String>,
    pub advisor_name: Option<String>,
    pub cap: u32,
    pub presence: PresenceView,
    /// The system's language (LC_ALL, LC_MESSAGES, LANG, LANGUAGE), e.g. `zh_CN.UTF-8`.
    pub system_locale: Option<String>,
}

#[tauri::command]
pub fn bootstrap(desk: State<'_, Desk>) -> Bootstrap {
    let engine = desk.engine.get();
    Bootstrap {
        startup: desk.startup.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        config_path: desk.config_path.display().to_string(),
        advisor_id: engine.map(|e| e.config().advisor.id.as_str().to_owned()),
        advisor_name: engine.map(|e| e.config().advisor.name.clone()),
        cap: desk.cap,
        presence: desk.presence_view(),
        system_locale: ["LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"]
            .iter()
            .filter_map(|k| std::env::var(k).ok())
            .find(|v| !v.is_empty() && v != "C" && v != "POSIX"),
    }
}

#[derive(Serialize)]
pub struct ParkedConversation {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub return_at_ms: i64,
}

#[derive(Serialize)]
pub struct WorkspacePayload {
    pub mine: Vec<Conversation>,
    /// Set aside by the advisor; they come back by themselves and do not count as load.
    pub parked: Vec<ParkedConversation>,
    pub queues: Vec<QueueSummary>,
    pub load: usize,
    pub cap: u32,
    pub now: i64,
    /// Last known state of each folder's connection.
    pub connections: std::collections::BTreeMap<String, crate::desk::ConnectionView>,
}

/// My conversations: the ones already mine that are still open, topped up to the cap
/// in offer order while the advisor may take email.
#[tauri::command]
pub fn workspace(app: AppHandle, desk: State<'_, Desk>) -> Result<WorkspacePayload> {
    let engine = desk.engine().map_err(err("starting"))?;
    let now = crate::desk::now_ms() / 1000;
    let view = engine.workspace(now, desk.policy.sla_at_risk_ms() / 1000).map_err(engine_err)?;
    let may_claim = desk.state() == AdvisorState::Available;
    // Parked ones that are due come back (a return, not a claim: even over the cap);
    // answered or resolved ones are forgotten.
    let now_ms = crate::desk::now_ms();
    let mut parked_map = desk.parked.lock().unwrap_or_else(|e| e.into_inner());
    parked_map.retain(|customer, _| view.conversations.iter().any(|c| &c.customer == customer));
    let mut returned = Vec::new();
    parked_map.retain(|customer, return_at| {
        let status = return_if_due(ConversationStatus::Parked { return_at_ms: *return_at }, now_ms);
        if status == ConversationStatus::Active {
            returned.push(customer.clone());
        }
        status != ConversationStatus::Active
    });
    let (parked, active): (Vec<_>, Vec<_>) =
        view.conversations.iter().cloned().partition(|c| parked_map.contains_key(&c.customer));
    let parked: Vec<ParkedConversation> = parked
        .into_iter()
        .map(|c| ParkedConversation { return_at_ms: parked_map[&c.customer], conversation: c })
        .collect();
    drop(parked_map);
    let mut mine = desk.mine.lock().unwrap_or_else(|e| e.into_inner());
    mine.retain(|c| !parked.iter().any(|p| &p.conversation.customer == c));
    mine.extend(returned);
    let claimed = blendesk_engine::workspace::top_up(&mine, &active, desk.cap, may_claim);
    *mine = claimed.iter().map(|c| c.customer.clone()).collect();
    drop(mine);
    crate::desk::announce_sla_risk(&app);
    let connections = desk.connections.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(WorkspacePayload { load: claimed.len(), mine: claimed, parked, queues: view.queues, cap: desk.cap, now, connections })
}

#[derive(Serialize)]
pub struct MessageView {
    #[serde(flatten)]
    pub head: ThreadMessage,
    pub text: String,
    pub html: Option<SafeHtml>,
    pub to: Vec<String>,
}

#[derive(Serialize)]
pub struct ConversationPayload {
    pub thread: Vec<MessageView>,
    pub history: Vec<HistoryItem>,
}

#[tauri::command]
pub fn open_conversation(desk: State<'_, Desk>, message: i64) -> Result<ConversationPayload> {
    let engine = desk.engine().map_err(err("starting"))?;
    let heads = engine.thread(message).map_err(engine_err)?;
    let mut thread = Vec::new();
    for head in heads.into_iter().rev().take(30).collect::<Vec<_>>().into_iter().rev() {
        let Some(m) = engine.store().message(head.id).map_err(|e| CommandError { code: "store", message: e.to_string() })? else {
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
    let engine = desk.engine().map_err(err("starting"))?;
    engine.knowledge_snippets(&query, &customer, 8).map_err(engine_err)
}

/// The advisor asked to see one message's images: Rust fetches them and the message is
/// rendered again with them inlined.
#[tauri::command]
pub async fn show_images(desk: State<'_, Desk>, message: i64) -> Result<SafeHtml> {
    let engine = desk.engine().map_err(err("starting"))?;
    let m = engine
        .store()
        .message(message)
        .map_err(|e| CommandError { code: "store", message: e.to_string() })?
        .ok_or_else(|| CommandError { code: "missing", message: format!("no message {message}") })?;
    let html = m.body_html.unwrap_or_default();
    let urls = crate::html::remote_images(&html, crate::images::MAX_IMAGES);
    let fetched = tauri::async_runtime::spawn_blocking(move || crate::images::fetch_all(&urls))
        .await
        .map_err(|e| CommandError { code: "images", message: e.to_string() })?;
    Ok(crate::html::sanitise_with_images(&html, &fetched))
}

/// Queue a reply. Refused while on a call or in wrap-up: email is paused then.
#[tauri::command]
pub fn send_reply(desk: State<'_, Desk>, message: i64, body: String) -> Result<i64> {
    if matches!(desk.state(), AdvisorState::OnCall | AdvisorState::WrapUp) {
        return Err(CommandError { code: "paused", message: "email is paused during a call".into() });
    }
    if body.trim().is_empty() {
        return Err(CommandError { code: "empty", message: "the reply is empty".into() });
    }
    let engine = desk.engine().map_err(err("starting"))?;
    engine.queue_reply(message, &body).map_err(engine_err)
}

/// "Come back later": park my conversation with `customer` for `seconds` (default: the
/// policy's return time). Refused past the park limit; re-parking moves the time.
#[tauri::command]
pub fn park(desk: State<'_, Desk>, customer: String, seconds: Option<u32>) -> Result<i64> {
    let now = crate::desk::now_ms();
    let mut parked = desk.parked.lock().unwrap_or_else(|e| e.into_inner());
    let current = match parked.get(&customer) {
        Some(&return_at_ms) => ConversationStatus::Parked { return_at_ms },
        None => ConversationStatus::Active,
    };
    let return_at = seconds.map(|s| now + i64::from(s) * 1000);
    match park_rule(current, parked.len() as u32, return_at, now, &desk.policy) {
        Ok(ConversationStatus::Parked { return_at_ms }) => {
            parked.insert(customer.clone(), return_at_ms);
            desk.mine.lock().unwrap_or_else(|e| e.into_inner()).retain(|c| c != &customer);
            Ok(return_at_ms)
        }
        Ok(_) => Err(CommandError { code: "park", message: "not parked".into() }),
        Err(e) => Err(CommandError { code: "park_refused", message: e.to_string() }),
    }
}

/// Close the conversation without a reply. Refused while email is paused.
#[tauri::command]
pub async fn resolve(desk: State<'_, Desk>, message: i64) -> Result<u32> {
    if matches!(desk.state(), AdvisorState::OnCall | AdvisorState::WrapUp) {
        return Err(CommandError { code: "paused", message: "email is paused during a call".into() });
    }
    let engine = desk.engine().map_err(err("starting"))?.clone();
    engine.resolve_conversation(message).await.map_err(engine_err)
}

#[tauri::command]
pub fn set_call(app: AppHandle, on: bool) -> PresenceView {
    apply_presence(&app, if on { AdvisorEvent::CallStart } else { AdvisorEvent::CallEnd })
}

/// The advisor picks a state by hand: `available` or `away` (refused during a call by
/// the state rules, which return the unchanged state).
#[tauri::command]
pub fn set_presence(app: AppHandle, state: String) -> Result<PresenceView> {
    use blendesk_domain::blending::ManualState;
    let manual = match state.as_str() {
        "available" => ManualState::Available,
        "away" => ManualState::Away,
        other => return Err(CommandError { code: "invalid", message: format!("unknown state {other:?}") }),
    };
    Ok(apply_presence(&app, AdvisorEvent::Set(manual)))
}

#[tauri::command]
pub fn presence(desk: State<'_, Desk>) -> PresenceView {
    desk.presence_view()
}

/// Open a link from mail in the system browser. The UI has already shown the real host
/// and the advisor confirmed. Only http(s); no shell involved.
#[tauri::command]
pub fn open_link(url: String) -> Result<()> {
    let parsed = tauri::Url::parse(&url).map_err(|e| CommandError { code: "invalid", message: e.to_string() })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(CommandError { code: "invalid", message: format!("only web links open in the browser, not {}", parsed.scheme()) });
    }
    std::process::Command::new("xdg-open")
        .arg(parsed.as_str())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| CommandError { code: "open", message: format!("cannot start the browser (xdg-open): {e}") })
}
