fn main() {
    // `generate_context!` embeds ui/dist at compile time. A workspace build on a machine
    // that has not built the UI gets a placeholder page instead of a compile error.
    let dist = std::path::Path::new("../ui/dist");
    if !dist.join("index.html").exists() {
        let _ = std::fs::create_dir_all(dist);
        let _ = std::fs::write(
            dist.join("index.html"),
            "<!doctype html><meta charset=utf-8><title>Blendesk</title>\
             <p>The user interface is not built: run <code>npm ci &amp;&amp; npm run build</code> in ui/ and rebuild.</p>",
        );
    }
    println!("cargo:rerun-if-changed=../ui/dist");
    // Per-command permissions: without an app manifest every command is allowed in
    // every window. With it, each command needs an `allow-<command>` in a capability.
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(&[
        "bootstrap",
        "workspace",
        "open_conversation",
        "search_knowledge",
        "send_reply",
        "set_call",
        "presence",
        "park",
        "show_images",
        "resolve",
        "set_presence",
        "activity",
        "supervisor_view",
        "set_cap",
        "open_link",
        "merge_conversations",
        "split_conversation",
        "kb_for_message",
        "kb_search",
        "kb_mark_used",
        "kb_article",
        "kb_publish",
        "approved_templates",
        "fill_template",
        "customer_history",
        "call_suggestion",
        "dial",
        "log_call_note",
        "test_setup",
        "save_setup",
    ])))
    .expect("tauri build step failed");
}
