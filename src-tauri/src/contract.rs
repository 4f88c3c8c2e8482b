//! The window's contract, checked: `commands.txt` is the one list of commands (build.rs
//! grants each its permission); the handler list in `main.rs`, the capability and the
//! UI's `api.ts` must name exactly those. The desktop's payload types are generated into
//! `ui/src/lib/generated/desktop.ts` (beside the engine's, `engine.ts`); a stale file
//! fails the tests (`BLENDESK_BLESS=1 cargo test -p blendesk-desktop contract` rewrites
//! it). Tests only.

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    fn read(path: &str) -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn commands() -> BTreeSet<String> {
        read("commands.txt").lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(str::to_owned).collect()
    }

    /// `module::name` entries of `generate_handler![…]` in main.rs.
    fn handlers() -> BTreeSet<String> {
        let main = read("src/main.rs");
        let list = main.split("generate_handler![").nth(1).and_then(|r| r.split(']').next()).expect("generate_handler! in main.rs");
        list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| s.rsplit("::").next().unwrap_or(s).to_owned()).collect()
    }

    /// `allow-<name>` permissions of the window's capability, as command names.
    fn granted() -> BTreeSet<String> {
        let cap: serde_json::Value = serde_json::from_str(&read("capabilities/main.json")).unwrap();
        cap["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str()?.strip_prefix("allow-").map(|n| n.replace('-', "_")))
            .collect()
    }

    /// Commands the UI invokes (`invoke<…>("name"` in api.ts).
    fn invoked() -> BTreeSet<String> {
        let api = read("../ui/src/lib/api.ts");
        api.split("invoke")
            .skip(1)
            .filter_map(|rest| {
                let rest = rest.strip_prefix('<').map_or(rest, |r| r.split_once(">(").map_or("", |(_, a)| a));
                let rest = rest.strip_prefix('(').unwrap_or(rest);
                let name = rest.strip_prefix('"')?.split('"').next()?;
                Some(name.to_owned())
            })
            .collect()
    }

    fn desktop_contract() -> String {
        use crate::commands::{
            Bootstrap, CommandError, ConversationPayload, MessageView, ParkedConversation, SupervisorAdvisor, SupervisorView,
            WorkspacePayload,
        };
        use crate::desk::{ConnectionView, PresenceView, Startup};
        use crate::html::SafeHtml;
        use crate::setup::{OAuthForm, SaveReport, SetupForm, SetupReport, SignInReport};
        use blendesk_domain::blending::{AdvisorPolicy, PolicyDraft};
        use blendesk_domain::simulate::fit::Basis;
        use blendesk_domain::simulate::{Outcome, Variant};
        use blendesk_engine::team::{WhatIf, WhatIfDays};
        use ts_rs::TS;
        let decls = [
            CommandError::decl(),
            Startup::decl(),
            PresenceView::decl(),
            ConnectionView::decl(),
            Bootstrap::decl(),
            WorkspacePayload::decl(),
            ParkedConversation::decl(),
            MessageView::decl(),
            ConversationPayload::decl(),
            SafeHtml::decl(),
            SupervisorAdvisor::decl(),
            SupervisorView::decl(),
            OAuthForm::decl(),
            SetupForm::decl(),
            SetupReport::decl(),
            SaveReport::decl(),
            SignInReport::decl(),
            AdvisorPolicy::decl(),
            PolicyDraft::decl(),
            Variant::decl(),
            Outcome::decl(),
            Basis::decl(),
            WhatIfDays::decl(),
            WhatIf::decl(),
        ];
        // The engine's types they use come from its generated file.
        let engine = read("../ui/src/lib/generated/engine.ts");
        let engine_types: Vec<&str> = engine.lines().filter_map(|l| l.strip_prefix("export type ")?.split([' ', '<']).next()).collect();
        let body = blendesk_testkit::contract::exported(&decls);
        let is_word = |c: char| c.is_alphanumeric() || c == '_';
        let used: Vec<&str> = engine_types
            .iter()
            .copied()
            .filter(|t| {
                body.match_indices(t).any(|(i, _)| {
                    !body[..i].chars().next_back().is_some_and(is_word) && !body[i + t.len()..].chars().next().is_some_and(is_word)
                })
            })
            .collect();
        format!(
            "// Generated from the Rust types by src-tauri/src/contract.rs: do not edit.\n\
             // Regenerate: BLENDESK_BLESS=1 cargo test -p blendesk-desktop contract\n\
             import type {{ {} }} from \"./engine\";\n\n{body}",
            used.join(", ")
        )
    }

    #[test]
    fn the_generated_desktop_contract_is_up_to_date() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/generated/desktop.ts");
        blendesk_testkit::contract::check_generated(&path, &desktop_contract(), "cargo test -p blendesk-desktop contract");
    }

    #[test]
    fn every_list_of_commands_names_the_same_commands() {
        let one = commands();
        assert!(one.len() >= 25, "commands.txt: {one:?}");
        assert_eq!(handlers(), one, "main.rs generate_handler! vs commands.txt");
        assert_eq!(granted(), one, "capabilities/main.json vs commands.txt");
        assert_eq!(invoked(), one, "ui/src/lib/api.ts vs commands.txt");
    }
}
