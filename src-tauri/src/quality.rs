//! Quality reviews in the window (`blendesk_engine::quality`): the scorecards in force,
//! a supervisor's review of the open conversation, and the reviews this advisor may see
//! (their own; a supervisor everyone's). The engine checks who may write and that a
//! review fits its scorecard; these commands only pass the request on.

use crate::commands::{engine_err, starting, Result};
use crate::desk::Desk;
use blendesk_domain::quality::{AutoChecks, Review, ReviewScore, Scorecard};
use blendesk_engine::quality::{QualityView, SampleItem};
use tauri::State;

/// The scorecards in force (the highest version of each), read from the mailbox; with
/// `message`, those for its conversation's email type (queue and tags).
#[tauri::command]
pub async fn scorecards(desk: State<'_, Desk>, message: Option<i64>) -> Result<Vec<Scorecard>> {
    let engine = desk.engine().map_err(starting)?.clone();
    engine.refresh_quality_docs().await.map_err(engine_err)?;
    match message {
        Some(m) => engine.scorecards_for(m),
        None => engine.scorecards(),
    }
    .map_err(engine_err)
}

/// The reviews this advisor may see, the quality scores and calibration sessions.
#[tauri::command]
pub async fn quality_view(desk: State<'_, Desk>) -> Result<QualityView> {
    let engine = desk.engine().map_err(starting)?.clone();
    engine.refresh_quality_docs().await.map_err(engine_err)?;
    engine.quality().map_err(engine_err)
}

/// Write `review` (supervisors only; the reviewer is this app's advisor); how it scores.
#[tauri::command]
pub async fn submit_review(desk: State<'_, Desk>, review: Review) -> Result<ReviewScore> {
    let engine = desk.engine().map_err(starting)?.clone();
    engine.submit_review(review).await.map_err(engine_err)
}

/// The automatic checks of our newest reply in the conversation of `message` (none yet:
/// null): greeting, closing, a promised attachment, the first-response promise.
#[tauri::command]
pub fn reply_checks(desk: State<'_, Desk>, message: i64) -> Result<Option<AutoChecks>> {
    desk.engine().map_err(starting)?.reply_checks(message).map_err(engine_err)
}

/// This week's sample for review (supervisors): up to `per_advisor` conversations of
/// each advisor, the same for every reviewer this ISO week.
#[tauri::command]
pub fn review_sample(desk: State<'_, Desk>, per_advisor: u32) -> Result<Vec<SampleItem>> {
    let engine = desk.engine().map_err(starting)?;
    engine.review_sample_items(per_advisor as usize, engine.now_ms()).map_err(engine_err)
}
