//! The composer's draft per conversation, kept by the engine (it survives a restart and
//! travels with an email handed back during a long call: `blendesk_engine::hand_back`),
//! the notices the advisor gets after a call, and "My day".

use crate::commands::{engine_err, starting, Result};
use crate::desk::Desk;
use blendesk_engine::events::Notice;
use blendesk_engine::hand_back::Draft;
use tauri::State;

/// The draft the composer starts from for conversation `key`: mine, or a colleague's
/// handed over with the email.
#[tauri::command]
pub fn reply_draft(desk: State<'_, Desk>, key: String) -> Result<Draft> {
    desk.engine().map_err(starting)?.draft_for(&key).map_err(engine_err)
}

/// Keep the composer's text for conversation `key` (blank removes it).
#[tauri::command]
pub fn save_reply_draft(desk: State<'_, Desk>, key: String, text: String) -> Result<()> {
    desk.engine().map_err(starting)?.save_draft(&key, &text).map_err(engine_err)
}

/// What happened while the advisor was on a call (empty during the call).
#[tauri::command]
pub fn notices(desk: State<'_, Desk>) -> Result<Vec<Notice>> {
    Ok(desk.engine().map_err(starting)?.notices())
}

/// "My day": the advisor's own figures today beside the team's median (never a
/// colleague's), from the team's event log.
#[tauri::command]
pub fn my_day(desk: State<'_, Desk>) -> Result<blendesk_engine::activity::MyDay> {
    let engine = desk.engine().map_err(starting)?;
    engine.my_day(engine.now_ms()).map_err(engine_err)
}

#[tauri::command]
pub fn dismiss_notice(desk: State<'_, Desk>, id: u32) -> Result<()> {
    desk.engine().map_err(starting)?.dismiss_notice(id);
    Ok(())
}
