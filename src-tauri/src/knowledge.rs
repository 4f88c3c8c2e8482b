//! Commands for the right pane and the composer: knowledge snippets ranked for the open
//! email (insert, mark used), the supervisors' article editor, approved templates, and
//! the customer's history under all their addresses. Each is a few lines over the engine.

use crate::commands::{engine_err, starting, Result};
use crate::desk::Desk;
use blendesk_domain::automation::template_doc::TemplateView;
use blendesk_engine::history::CustomerHistory;
use blendesk_engine::knowledge::{KnowledgeArticle, KnowledgeSnippet};
use tauri::State;

/// Articles ranked for the open email `message` (its subject and the customer's words).
#[tauri::command]
pub fn kb_for_message(desk: State<'_, Desk>, message: i64) -> Result<Vec<KnowledgeSnippet>> {
    desk.engine().map_err(starting)?.knowledge_for_message(message, 5).map_err(engine_err)
}

/// Articles ranked for what the advisor typed.
#[tauri::command]
pub fn kb_search(desk: State<'_, Desk>, query: String) -> Result<Vec<KnowledgeSnippet>> {
    desk.engine().map_err(starting)?.search_knowledge(&query, 8).map_err(engine_err)
}

/// The advisor used an article: counted team-wide. Returns the new count.
#[tauri::command]
pub async fn kb_mark_used(desk: State<'_, Desk>, article: String) -> Result<u64> {
    desk.engine().map_err(starting)?.mark_article_used(&article).await.map_err(engine_err)
}

#[tauri::command]
pub fn kb_article(desk: State<'_, Desk>, article: String) -> Result<Option<KnowledgeArticle>> {
    desk.engine().map_err(starting)?.knowledge_article(&article).map_err(engine_err)
}

/// A supervisor saves an article: a new version in the mailbox. Returns its id.
#[tauri::command]
pub async fn kb_publish(desk: State<'_, Desk>, article: Option<String>, title: String, tags: String, body: String) -> Result<String> {
    let engine = desk.engine().map_err(starting)?;
    let tags: Vec<String> = tags.split([',', '，']).map(str::to_owned).collect();
    engine.publish_article(article.as_deref().filter(|a| !a.is_empty()), &title, &tags, &body).await.map_err(engine_err)
}

/// Templates a supervisor approved (the picker shows nothing else).
#[tauri::command]
pub fn approved_templates(desk: State<'_, Desk>) -> Result<Vec<TemplateView>> {
    Ok(desk.engine().map_err(starting)?.templates(false).map_err(engine_err)?.into_iter().filter(|t| !t.footer).collect())
}

/// An approved template filled for a reply to `message` (what the app cannot know stays
/// as `{{…}}` and blocks sending until the advisor replaces it).
#[tauri::command]
pub fn fill_template(desk: State<'_, Desk>, name: String, message: i64) -> Result<String> {
    desk.engine().map_err(starting)?.fill_template(&name, message).map_err(engine_err)
}

/// Every conversation with this customer, under all their known addresses.
#[tauri::command]
pub fn customer_history(desk: State<'_, Desk>, customer: String) -> Result<CustomerHistory> {
    desk.engine().map_err(starting)?.customer_conversations(&customer).map_err(engine_err)
}
