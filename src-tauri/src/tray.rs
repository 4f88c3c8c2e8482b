//! The tray icon: the advisor's state and load at a glance (the menu's first line, the
//! label beside the icon where the panel shows one), an "On call" toggle, Show and Quit.
//! It reads what the window reads (`Desk::presence_view`, `Engine::load`, the policy's
//! cap) once a second and changes the menu only when that changes. Under a desktop
//! without a tray host the icon is simply not shown.

use crate::desk::{apply_presence, Desk};
use blendesk_domain::blending::AdvisorEvent;
use std::time::Duration;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager};

const REFRESH: Duration = Duration::from_secs(1);

/// What the tray shows for one reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayView {
    /// The menu's first line (and the tooltip): state and load.
    pub status: String,
    /// The short label beside the icon.
    pub label: String,
    /// The call toggle's tick.
    pub on_call: bool,
    /// The call toggle works only once the engine runs (not on the setup screen).
    pub call_enabled: bool,
}

/// The tray's words in the system's language (English unless it is Chinese).
struct Words {
    state: fn(&str) -> &'static str,
    load: fn(u32, u32) -> String,
    on_call: &'static str,
    show: &'static str,
    quit: &'static str,
}

static EN: Words = Words {
    state: |s| match s {
        "available" => "Available",
        "on_call" => "On call",
        "wrap_up" => "Wrap-up",
        "away" => "Away",
        _ => "Offline",
    },
    load: |load, cap| format!("{load} of {cap} emails"),
    on_call: "On call",
    show: "Show Blendesk",
    quit: "Quit Blendesk",
};

static ZH: Words = Words {
    state: |s| match s {
        "available" => "可接待",
        "on_call" => "通话中",
        "wrap_up" => "话后处理",
        "away" => "离开",
        _ => "离线",
    },
    load: |load, cap| format!("邮件 {load}/{cap}"),
    on_call: "通话中",
    show: "显示 Blendesk",
    quit: "退出 Blendesk",
};

/// Whether the system's language is Chinese (as the window's `bootstrap` reads it).
fn system_zh() -> bool {
    ["LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty() && v != "C" && v != "POSIX")
        .is_some_and(|l| l.starts_with("zh"))
}

fn words(zh: bool) -> &'static Words {
    if zh {
        &ZH
    } else {
        &EN
    }
}

/// The tray for `state` (an `AdvisorState` name) with `load` conversations under `cap`;
/// `running` is false until the engine runs.
pub fn view(zh: bool, state: &str, load: u32, cap: u32, running: bool) -> TrayView {
    let w = words(zh);
    let name = (w.state)(state);
    if !running {
        return TrayView { status: format!("Blendesk · {name}"), label: name.to_owned(), on_call: false, call_enabled: false };
    }
    TrayView {
        status: format!("Blendesk · {name} · {}", (w.load)(load, cap)),
        label: format!("{name} {load}/{cap}"),
        on_call: state == "on_call",
        call_enabled: true,
    }
}

/// What the call toggle does in `state`: end the call if on one, else start one.
pub fn toggle_call(state: &str) -> AdvisorEvent {
    if state == "on_call" {
        AdvisorEvent::CallEnd
    } else {
        AdvisorEvent::CallStart
    }
}

fn read(app: &AppHandle, zh: bool) -> TrayView {
    let desk = app.state::<Desk>();
    let state = desk.presence_view().state;
    match desk.engine.get() {
        Some(e) => view(zh, state, e.load().unwrap_or(0), e.policy().cap_for(&e.config().advisor.id), true),
        None => view(zh, state, 0, 0, false),
    }
}

fn show_window(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Build the tray icon and keep it current. An error (no icon, no menu) is logged and
/// the app runs without a tray.
pub fn install(app: &AppHandle) {
    if let Err(e) = try_install(app) {
        tracing::warn!("no tray icon: {e}");
    }
}

fn try_install(app: &AppHandle) -> tauri::Result<()> {
    let zh = system_zh();
    let w = words(zh);
    let first = read(app, zh);
    let status = MenuItem::with_id(app, "status", &first.status, false, None::<&str>)?;
    let call = CheckMenuItem::with_id(app, "call", w.on_call, first.call_enabled, first.on_call, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", w.show, true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", w.quit, true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&status, &PredefinedMenuItem::separator(app)?, &call, &show, &quit])?;
    let mut builder = TrayIconBuilder::with_id("blendesk").menu(&menu).tooltip(&first.status).title(&first.label);
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let tray = builder
        .on_menu_event(|app, event| match event.id().as_ref() {
            "call" => {
                let state = app.state::<Desk>().presence_view().state;
                if let Err(e) = apply_presence(app, toggle_call(state)) {
                    tracing::warn!("tray call toggle: {e}");
                }
            }
            "show" => show_window(app),
            "quit" => app.exit(0),
            _ => {}
        })
        .build(app)?;
    tracing::info!(status = %first.status, "tray");

    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut shown = first;
        let mut tick = tokio::time::interval(REFRESH);
        loop {
            tick.tick().await;
            // The load is read under the store's writer lock: off the async workers.
            let a = app.clone();
            let Ok(now) = tauri::async_runtime::spawn_blocking(move || read(&a, zh)).await else { continue };
            // The toggle ticks itself when clicked: put it back to the truth every time.
            let _ = call.set_checked(now.on_call);
            if now == shown {
                continue;
            }
            let _ = status.set_text(&now.status);
            let _ = call.set_enabled(now.call_enabled);
            let _ = tray.set_tooltip(Some(&now.status));
            let _ = tray.set_title(Some(&now.label));
            tracing::info!(status = %now.status, "tray");
            shown = now;
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_and_load_in_both_languages() {
        let v = view(false, "available", 2, 3, true);
        assert_eq!(v.status, "Blendesk · Available · 2 of 3 emails");
        assert_eq!(v.label, "Available 2/3");
        assert!(!v.on_call && v.call_enabled);
        let v = view(true, "on_call", 1, 4, true);
        assert_eq!(v.status, "Blendesk · 通话中 · 邮件 1/4");
        assert!(v.on_call);
        assert_eq!(view(false, "wrap_up", 0, 3, true).label, "Wrap-up 0/3");
        assert_eq!(view(false, "away", 0, 0, true).label, "Away 0/0");
    }

    #[test]
    fn before_the_engine_runs_no_load_and_no_call_toggle() {
        let v = view(false, "offline", 0, 0, false);
        assert_eq!(v.status, "Blendesk · Offline");
        assert!(!v.call_enabled && !v.on_call);
    }

    #[test]
    fn the_toggle_starts_a_call_unless_on_one() {
        assert!(matches!(toggle_call("on_call"), AdvisorEvent::CallEnd));
        for s in ["available", "wrap_up", "away", "offline"] {
            assert!(matches!(toggle_call(s), AdvisorEvent::CallStart), "{s}");
        }
    }
}
