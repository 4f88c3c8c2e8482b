//! Tidy: ARCHITECTURE.md's code map names every module of the Rust crates, so the map
//! engineers read first stays in step with the tree. A new module without a line there
//! fails here.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_code_map_names_every_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let mut files = Vec::new();
    for crate_dir in std::fs::read_dir(root.join("crates")).unwrap() {
        let src = crate_dir.unwrap().path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    rust_files(&root.join("src-tauri/src"), &mut files);
    assert!(files.len() > 50, "found only {} modules: wrong root?", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name()?.to_str().map(str::to_owned))
        .filter(|name| !matches!(name.as_str(), "lib.rs" | "main.rs" | "mod.rs"))
        .filter(|name| !map.contains(&format!("`{name}`")) && !map.contains(&format!("{name} ")) && !map.contains(&format!("{name}`")))
        .collect();
    assert!(missing.is_empty(), "ARCHITECTURE.md's code map does not name: {missing:?}");
}
