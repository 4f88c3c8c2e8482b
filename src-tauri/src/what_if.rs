//! "What if" in the supervisor view: the simulator's prediction for a draft of the
//! team-wide settings beside today's policy (`Engine::what_if`), and publishing it.

use crate::commands::{engine_err, require_supervisor, CommandError, Result};
use crate::desk::Desk;
use blendesk_domain::blending::PolicyDraft;
use blendesk_engine::errors::ErrorCode;
use blendesk_engine::team::{WhatIf, WhatIfDays};
use tauri::State;

/// `days` (the last four weeks, one day, or the standard day) under today's policy and
/// under `draft`. Supervisors only. The simulation runs off the window's thread.
#[tauri::command]
pub async fn what_if(desk: State<'_, Desk>, draft: PolicyDraft, days: WhatIfDays) -> Result<WhatIf> {
    let engine = desk.engine().map_err(|message| CommandError { code: ErrorCode::Starting, message })?.clone();
    require_supervisor(&engine)?;
    tauri::async_runtime::spawn_blocking(move || engine.what_if(&draft, &days))
        .await
        .map_err(|e| CommandError { code: ErrorCode::Internal, message: e.to_string() })?
        .map_err(engine_err)
}

/// Publish `draft` as the team's policy. Supervisors only. Returns the policy message
/// now in force.
#[tauri::command]
pub async fn publish_draft(desk: State<'_, Desk>, draft: PolicyDraft) -> Result<u32> {
    let engine = desk.engine().map_err(|message| CommandError { code: ErrorCode::Starting, message })?.clone();
    require_supervisor(&engine)?;
    engine.publish_draft(&draft).await.map_err(engine_err)?;
    Ok(engine.policy_uid())
}
