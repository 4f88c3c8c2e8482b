//! Commands for rearranging conversations by hand: merge one of my conversations into
//! another, split emails off one. A few lines each over the engine
//! (`blendesk_engine::conversation`); a refusal reaches the UI as code `forbidden`.

use crate::commands::{engine_err, starting, CommandError, Result};
use crate::desk::Desk;
use blendesk_engine::conversation::Rearranged;
use blendesk_engine::EngineError;
use tauri::State;

/// A refusal is `forbidden` (not yours), a conversation that is not there `invalid`
/// (`EngineError::code`).
fn refused(e: EngineError) -> CommandError {
    engine_err(e)
}

/// Merge conversation `from` into `into` (keys): one conversation, `into`'s owner.
#[tauri::command]
pub async fn merge_conversations(desk: State<'_, Desk>, from: String, into: String) -> Result<Rearranged> {
    let engine = desk.engine().map_err(starting)?.clone();
    engine.merge_conversations(&from, &into).await.map_err(refused)
}

/// Put `tag` on conversation `conversation` (its key), or take it off (`on` false); the
/// conversation's tags after. A bad tag is `invalid` with the reason.
#[tauri::command]
pub fn tag_conversation(desk: State<'_, Desk>, conversation: String, tag: String, on: bool) -> Result<Vec<String>> {
    desk.engine().map_err(starting)?.tag_conversation(&conversation, &tag, on).map_err(engine_err)
}

/// Split `messages` (mirror ids) off their conversation into one of their own.
#[tauri::command]
pub async fn split_conversation(desk: State<'_, Desk>, messages: Vec<i64>) -> Result<Rearranged> {
    let engine = desk.engine().map_err(starting)?.clone();
    engine.split_conversation(&messages).await.map_err(refused)
}
