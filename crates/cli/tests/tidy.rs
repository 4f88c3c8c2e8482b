//! Tidy: ARCHITECTURE.md's code map names every module of the Rust crates, so the map
//! engineers read first stays in step with the tree (a new module without a line there
//! fails here); and the engine's modules import each other without a circle (beyond
//! the `Engine` handle that every `impl Engine` block extends).

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

/// The engine modules `module` (a file of `crates/engine/src`) refers to by `crate::…`,
/// outside its tests. References to `engine` (the `Engine` handle every `impl Engine`
/// block extends, and `Result`) are the one allowed way back, so they are left out.
fn engine_imports(src: &Path, module: &str, modules: &[String]) -> Vec<String> {
    let text = std::fs::read_to_string(src.join(format!("{module}.rs"))).unwrap();
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    let mut note = |name: &str| {
        if name != module && name != "engine" && modules.iter().any(|m| m == name) && !out.iter().any(|o| o == name) {
            out.push(name.to_owned());
        }
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `use crate::{a::X, b};`
            for item in group.split('}').next().unwrap_or_default().split(',') {
                note(item.trim().split("::").next().unwrap_or_default().trim());
            }
        } else {
            note(rest.split(|c: char| !c.is_alphanumeric() && c != '_').next().unwrap_or_default());
        }
    }
    out
}

/// A path of imports from `from` back to itself, if there is one.
fn cycle_through(from: &str, graph: &[(String, Vec<String>)]) -> Option<Vec<String>> {
    let edges = |m: &str| graph.iter().find(|(n, _)| n == m).map(|(_, e)| e.clone()).unwrap_or_default();
    let mut stack = vec![vec![from.to_owned()]];
    let mut seen = std::collections::HashSet::new();
    while let Some(path) = stack.pop() {
        for next in edges(path.last().unwrap()) {
            let mut longer = path.clone();
            longer.push(next.clone());
            if next == from {
                return Some(longer);
            }
            if seen.insert(next) {
                stack.push(longer);
            }
        }
    }
    None
}

#[test]
fn engine_modules_import_each_other_without_a_circle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/src");
    let mut modules: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .filter_map(|e| e.ok()?.path().file_stem()?.to_str().map(str::to_owned))
        .filter(|m| m != "lib")
        .collect();
    modules.sort();
    assert!(modules.len() > 20, "found only {modules:?}");
    let graph: Vec<(String, Vec<String>)> = modules.iter().map(|m| (m.clone(), engine_imports(&src, m, &modules))).collect();
    // The check itself sees imports: the claim loop uses the conversation keys.
    assert!(graph.iter().any(|(m, e)| m == "team" && e.contains(&"conversation".to_owned())), "{graph:?}");
    let circles: Vec<String> = modules.iter().filter_map(|m| cycle_through(m, &graph)).map(|c| c.join(" → ")).collect();
    assert!(
        circles.is_empty(),
        "engine modules import each other in a circle (move the shared fact to the module both need, or to the domain): {circles:?}"
    );
}
