//! The team's knowledge base: supervisors publish articles to `Blendesk/Knowledge`;
//! every app mirrors them with their own FTS5 index and ranks snippets for the open
//! email; an advisor marks a snippet used, which every app counts.

use crate::docs::{KNOWLEDGE_FOLDER, USAGE_FOLDER};
use crate::engine::{Engine, EngineError, Result};
use blendesk_domain::knowledge::{
    any_terms_query, article_link, new_article_id, parse_tags, pick_terms, search_terms, snippet_excerpt, snippet_score, validate_article,
    ARTICLE_HEADER, DELETED_HEADER, TAGS_HEADER, USAGE_HEADER,
};
use blendesk_store::{KbArticle, KbHit};
use serde::Serialize;

/// A ranked snippet for the right pane.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct KnowledgeSnippet {
    pub article_id: String,
    pub title: String,
    pub tags: Vec<String>,
    /// The paragraph that matches, to insert.
    pub excerpt: String,
    /// The article's public link, if it has one.
    pub link: Option<String>,
    pub uses: u64,
    pub score: f64,
}

/// An article for the list and the editor: the store's row as it is.
pub type KnowledgeArticle = KbArticle;

/// A message in the knowledge folder that is not a valid document, and why.
#[derive(Debug, Clone, Serialize)]
pub struct DocProblem {
    pub uid: u32,
    pub subject: String,
    pub problem: String,
}

fn rank(hits: Vec<KbHit>, terms: &[String], limit: usize) -> Vec<KnowledgeSnippet> {
    let mut out: Vec<KnowledgeSnippet> = hits
        .into_iter()
        .map(|h| KnowledgeSnippet {
            score: snippet_score(h.bm25, h.article.uses),
            excerpt: snippet_excerpt(&h.article.body, terms, 400),
            link: article_link(&h.article.body),
            article_id: h.article.article_id,
            title: h.article.title,
            tags: h.article.tags,
            uses: h.article.uses,
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.title.cmp(&b.title)));
    out.truncate(limit);
    out
}

impl Engine {
    /// Publish an article (a supervisor's action): a new one when `id` is `None`, else a
    /// new version of `id`. Returns the article id.
    pub async fn publish_article(&self, id: Option<&str>, title: &str, tags: &[String], body: &str) -> Result<String> {
        self.require_supervisor("publish knowledge articles").await?;
        let id = match id {
            Some(id) => id.trim().to_ascii_lowercase(),
            None => new_article_id(title, rand::random::<u32>()),
        };
        let tags: Vec<String> = parse_tags(&tags.join(","));
        let article = validate_article(&id, title, &tags, body).map_err(|e| EngineError::Document(e.to_string()))?;
        let headers = [(ARTICLE_HEADER, article.id.clone()), (TAGS_HEADER, article.tags.join(", "))];
        self.append_doc(KNOWLEDGE_FOLDER, &article.title, &headers, &article.body).await?;
        Ok(article.id)
    }

    /// Withdraw an article (a supervisor's action): a tombstone version.
    pub async fn delete_article(&self, id: &str) -> Result<()> {
        self.require_supervisor("delete knowledge articles").await?;
        let id = id.trim().to_ascii_lowercase();
        if self.store.kb_article(USAGE_FOLDER, &id)?.is_none() {
            return Err(EngineError::Document(format!("no article {id:?} in the knowledge base")));
        }
        let headers = [(ARTICLE_HEADER, id.clone()), (DELETED_HEADER, "yes".to_owned())];
        self.append_doc(KNOWLEDGE_FOLDER, &format!("Deleted: {id}"), &headers, "This article was withdrawn.").await
    }

    /// An advisor used a snippet: one usage event in the mailbox (counted team-wide).
    /// Returns the new count as this app sees it.
    pub async fn mark_article_used(&self, id: &str) -> Result<u64> {
        let id = id.trim().to_ascii_lowercase();
        if self.store.kb_article(USAGE_FOLDER, &id)?.is_none() {
            return Err(EngineError::Document(format!("no article {id:?} in the knowledge base")));
        }
        let headers = [(USAGE_HEADER, id.clone())];
        self.append_doc(USAGE_FOLDER, &format!("Used: {id}"), &headers, "Marked as used.").await?;
        Ok(self.store.kb_article(USAGE_FOLDER, &id)?.map(|a| a.uses).unwrap_or(0))
    }

    /// Ranked snippets for the open email `message` (its subject and own words).
    pub fn knowledge_for_message(&self, message: i64, limit: usize) -> Result<Vec<KnowledgeSnippet>> {
        let m = self.store.message(message)?.ok_or(EngineError::NoSuchMessage(message))?;
        self.snippets_for(&search_terms(&m.subject, &m.body_text, 16), limit)
    }

    /// Search with the rarest of `terms` (see `pick_terms`), then rank.
    fn snippets_for(&self, terms: &[String], limit: usize) -> Result<Vec<KnowledgeSnippet>> {
        let (n_docs, dfs) = self.store.kb_term_docs(terms)?;
        let with_df: Vec<(String, u64)> = terms.iter().cloned().zip(dfs).collect();
        let Some(expr) = any_terms_query(&pick_terms(&with_df, n_docs, 10)) else { return Ok(Vec::new()) };
        let hits = self.store.kb_search(USAGE_FOLDER, &expr, (limit * 4).clamp(10, 60) as u32)?;
        Ok(rank(hits, terms, limit))
    }

    /// Ranked articles for what an advisor typed (English or Chinese).
    pub fn search_knowledge(&self, query: &str, limit: usize) -> Result<Vec<KnowledgeSnippet>> {
        self.snippets_for(&search_terms(query, "", 16), limit)
    }

    /// The articles in force, by title.
    pub fn knowledge_articles(&self) -> Result<Vec<KnowledgeArticle>> {
        Ok(self.store.kb_articles(USAGE_FOLDER)?)
    }

    pub fn knowledge_article(&self, id: &str) -> Result<Option<KnowledgeArticle>> {
        Ok(self.store.kb_article(USAGE_FOLDER, &id.trim().to_ascii_lowercase())?)
    }

    /// Messages of a document folder that were not taken, and why.
    pub fn document_problems(&self, folder: &str) -> Result<Vec<DocProblem>> {
        Ok(self
            .store
            .doc_versions(folder)?
            .into_iter()
            .filter(|v| v.kind == blendesk_store::KIND_INVALID)
            .map(|v| DocProblem { uid: v.uid, subject: v.title, problem: v.problem })
            .collect())
    }
}
