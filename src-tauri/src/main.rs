//! `blendesk-desktop`: the advisor's workspace window. Thin: it loads the configuration,
//! runs the engine in-process (sync, live updates, outbox, claims and presence), listens
//! on the call socket, and exposes a few commands and events to the UI.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod analytics;
mod autostart;
mod calls;
mod commands;
mod contract;
mod conversations;
mod desk;
mod drafts;
mod html;
mod images;
mod knowledge;
mod notify;
mod os_idle;
mod quality;
mod setup;
mod tray;
mod what_if;

use std::path::PathBuf;
use tauri::Manager;

fn config_path_from_args() -> Option<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        if a == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(v) = a.to_str().and_then(|s| s.strip_prefix("--config=")) {
            return Some(PathBuf::from(v));
        }
    }
    None
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("BLENDESK_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let config_path = config_path_from_args().unwrap_or_else(blendesk_engine::config::default_path);

    let app = tauri::Builder::default()
        // First: a second launch hands over to the running window and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.unminimize();
                let _ = w.show();
                let _ = w.set_focus();
            }
        }))
        .manage(desk::Desk::new(config_path))
        .setup(|app| {
            tauri::WebviewWindowBuilder::new(app, "main", tauri::WebviewUrl::App("index.html".into()))
                .title("Blendesk")
                .inner_size(1280.0, 800.0)
                .min_inner_size(960.0, 600.0)
                // Only the app's own page (and the about:srcdoc of sandboxed mail frames)
                // may load; a link in mail never navigates the window or a frame.
                .on_navigation(|url| matches!(url.scheme(), "tauri" | "about") || url.host_str() == Some("tauri.localhost"))
                .build()?;
            desk::start(app.handle().clone());
            tray::install(app.handle());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::bootstrap,
            commands::workspace,
            commands::open_conversation,
            commands::search_knowledge,
            commands::send_reply,
            commands::set_call,
            commands::set_call_disposition,
            commands::presence,
            commands::park,
            commands::show_images,
            commands::resolve,
            commands::set_presence,
            commands::activity,
            commands::supervisor_view,
            commands::set_cap,
            commands::open_link,
            autostart::autostart,
            autostart::set_autostart,
            conversations::merge_conversations,
            conversations::tag_conversation,
            conversations::split_conversation,
            knowledge::kb_for_message,
            knowledge::kb_search,
            knowledge::kb_mark_used,
            knowledge::kb_article,
            knowledge::kb_publish,
            knowledge::approved_templates,
            knowledge::fill_template,
            knowledge::customer_history,
            calls::call_suggestion,
            calls::dial,
            calls::log_call_note,
            setup::test_setup,
            setup::save_setup,
            setup::oauth_sign_in,
            setup::sign_in_again,
            what_if::what_if,
            what_if::publish_draft,
            drafts::reply_draft,
            drafts::save_reply_draft,
            drafts::notices,
            drafts::dismiss_notice,
            drafts::my_day,
            quality::scorecards,
            quality::quality_view,
            quality::submit_review,
            quality::reply_checks,
            quality::review_sample,
            analytics::analytics,
            analytics::analytics_conversations,
            analytics::export_analytics,
            analytics::my_week,
        ])
        .build(tauri::generate_context!());
    let app = match app {
        Ok(a) => a,
        Err(e) => {
            eprintln!("blendesk-desktop: cannot start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let tauri::RunEvent::Exit = event {
            handle.state::<desk::Desk>().shutdown();
        }
    });
}
