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
    // The command list is `commands.txt` (the tests in main.rs keep the handler list,
    // the capability and the UI's api.ts in step with it).
    println!("cargo:rerun-if-changed=commands.txt");
    let list = std::fs::read_to_string("commands.txt").expect("src-tauri/commands.txt");
    let commands: Vec<&'static str> = list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| &*Box::leak(l.to_owned().into_boxed_str()))
        .collect();
    let commands: &'static [&'static str] = Box::leak(commands.into_boxed_slice());
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(commands)))
        .expect("tauri build step failed");
}
