//! The window's contract, generated: TypeScript declarations of the engine's types the
//! window sees (events, error codes, conversations) in `ui/src/lib/generated/engine.ts`.
//! This test regenerates the file and fails when the committed one differs, so a change
//! to a Rust type that the UI was not updated for fails the test command.
//! `BLENDESK_BLESS=1 cargo test -p blendesk-engine --test contract` rewrites it.

use blendesk_domain::automation::SlaLevel;
use blendesk_engine::errors::ErrorCode;
use blendesk_engine::events::{ConnectionState, Event};
use blendesk_engine::runtime::Mode;
use blendesk_engine::workspace::{Conversation, QueueSummary};
use std::path::PathBuf;
use ts_rs::TS;

fn contract() -> String {
    let mut out = String::from(
        "// Generated from the Rust types by crates/engine/tests/contract.rs: do not edit.\n\
         // Regenerate: BLENDESK_BLESS=1 cargo test -p blendesk-engine --test contract\n\
         // 64-bit integers are numbers: serde_json writes them so, and ids and unix\n\
         // milliseconds stay below 2^53.\n\n",
    );
    for decl in [
        ErrorCode::decl(),
        Mode::decl(),
        ConnectionState::decl(),
        SlaLevel::decl(),
        Conversation::decl(),
        QueueSummary::decl(),
        Event::decl(),
    ] {
        out.push_str("export ");
        out.push_str(&decl.replace("bigint", "number"));
        out.push_str("\n\n");
    }
    let codes: Vec<String> = ErrorCode::ALL.iter().map(|c| serde_json::to_string(c).unwrap()).collect();
    out.push_str(&format!("export const ERROR_CODES: ErrorCode[] = [{}];\n", codes.join(", ")));
    out
}

#[test]
fn every_error_code_is_listed() {
    // The union ts-rs derives from the enum is the truth; `ErrorCode::ALL` must match it.
    let union = ErrorCode::decl();
    let variants = union.matches('"').count() / 2;
    assert_eq!(variants, ErrorCode::ALL.len(), "ErrorCode::ALL misses a variant: {union}");
}

#[test]
fn the_generated_contract_is_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/generated/engine.ts");
    let fresh = contract();
    if std::env::var_os("BLENDESK_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} is stale: a Rust type the window sees changed. Regenerate with \
         `BLENDESK_BLESS=1 cargo test -p blendesk-engine --test contract`, then update the UI.",
        path.display()
    );
}
