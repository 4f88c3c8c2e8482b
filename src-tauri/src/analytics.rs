//! The supervisor's analytics page and the advisor's "My week": each command calls the
//! engine (`blendesk_engine::analytics`), which computes everything; the shell only
//! picks the folder a CSV export is written to (Downloads, else Documents, else home).

use crate::commands::{engine_err, require_supervisor, starting, CommandError, Result};
use crate::desk::Desk;
use blendesk_engine::analytics::{Analytics, AnalyticsFilter, Drill, DrillConversation, ExportKind, MyWeek};
use blendesk_engine::errors::ErrorCode;
use tauri::{AppHandle, Manager, State};

/// Today live and the history `filter` asks for. Supervisors only; computed off the
/// window's thread.
#[tauri::command]
pub async fn analytics(desk: State<'_, Desk>, filter: AnalyticsFilter) -> Result<Analytics> {
    let engine = desk.engine().map_err(starting)?.clone();
    require_supervisor(&engine)?;
    blocking(move || engine.analytics(&filter, engine.now_ms())).await
}

/// The conversations behind a figure (a period, a first-response bucket). Supervisors only.
#[tauri::command]
pub async fn analytics_conversations(desk: State<'_, Desk>, filter: AnalyticsFilter, drill: Drill) -> Result<Vec<DrillConversation>> {
    let engine = desk.engine().map_err(starting)?.clone();
    require_supervisor(&engine)?;
    blocking(move || engine.analytics_conversations(&filter, &drill, engine.now_ms())).await
}

/// Write the table or the conversation list as a CSV file; returns the path written.
/// Supervisors only.
#[tauri::command]
pub async fn export_analytics(
    app: AppHandle,
    desk: State<'_, Desk>,
    filter: AnalyticsFilter,
    kind: ExportKind,
    drill: Drill,
) -> Result<String> {
    let engine = desk.engine().map_err(starting)?.clone();
    require_supervisor(&engine)?;
    let paths = app.path();
    let dir = paths
        .download_dir()
        .or_else(|_| paths.document_dir())
        .or_else(|_| paths.home_dir())
        .map_err(|e| CommandError { code: ErrorCode::Internal, message: format!("no folder to save into: {e}") })?;
    let path = blocking(move || engine.export_analytics(&filter, kind, &drill, &dir, engine.now_ms())).await?;
    Ok(path.display().to_string())
}

/// "My week": the advisor's own figures this week beside the team's median.
#[tauri::command]
pub fn my_week(desk: State<'_, Desk>) -> Result<MyWeek> {
    let engine = desk.engine().map_err(starting)?;
    engine.my_week(engine.now_ms()).map_err(engine_err)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::result::Result<T, blendesk_engine::EngineError> + Send + 'static,
) -> Result<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| CommandError { code: ErrorCode::Internal, message: e.to_string() })?
        .map_err(engine_err)
}
