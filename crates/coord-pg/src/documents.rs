//! Shared documents — knowledge articles, templates, usage events — as versions, never
//! edits, with template approvals beside them. The database only keeps them and decides
//! who may write (knowledge and approvals: supervisors); which version is in force stays
//! the domain's rule (`domain::knowledge`, `domain::automation::template_doc`), applied
//! to the versions an app mirrors with `documents_after`.

use blendesk_domain::advisor::AdvisorId;
use serde_json::Value;

use crate::error::{db, CoordError, Result};
use crate::session::{advisor_from_db, AdvisorSession};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Knowledge,
    Template,
    Usage,
}

impl DocumentKind {
    fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Knowledge => "knowledge",
            DocumentKind::Template => "template",
            DocumentKind::Usage => "usage",
        }
    }

    fn parse(s: &str) -> Result<DocumentKind> {
        match s {
            "knowledge" => Ok(DocumentKind::Knowledge),
            "template" => Ok(DocumentKind::Template),
            "usage" => Ok(DocumentKind::Usage),
            other => Err(CoordError::Corrupt(format!("document kind {other:?}"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredDocument {
    /// One sequence over every kind: mirror with `documents_after(last version seen)`.
    pub version: i64,
    pub kind: DocumentKind,
    pub doc_id: String,
    pub document: Value,
    /// A withdrawal: the document is no longer in force.
    pub tombstone: bool,
    pub author: AdvisorId,
}

fn check_doc_id(doc_id: &str) -> Result<()> {
    if doc_id.is_empty() || doc_id.chars().count() > 200 || doc_id.contains('\0') {
        return Err(CoordError::Invalid { what: "document id", problem: format!("{doc_id:?}: use 1 to 200 characters") });
    }
    Ok(())
}

impl AdvisorSession {
    /// Appends a version of `doc_id` by `me`; returns its version. Knowledge articles
    /// only from supervisors (the database refuses others: `NotPermitted`).
    pub async fn publish_document(&self, kind: DocumentKind, doc_id: &str, document: &Value, me: &AdvisorId) -> Result<i64> {
        self.append_document(kind, doc_id, document, false, me).await
    }

    /// Withdraws `doc_id` (a tombstone version).
    pub async fn withdraw_document(&self, kind: DocumentKind, doc_id: &str, me: &AdvisorId) -> Result<i64> {
        self.append_document(kind, doc_id, &Value::Null, true, me).await
    }

    async fn append_document(&self, kind: DocumentKind, doc_id: &str, document: &Value, tombstone: bool, me: &AdvisorId) -> Result<i64> {
        check_doc_id(doc_id)?;
        let row = self
            .client
            .query_one(
                "INSERT INTO blendesk.documents (kind, doc_id, document, tombstone, author)
                 VALUES ($1, $2, $3, $4, $5) RETURNING version",
                &[&kind.as_str(), &doc_id, document, &tombstone, &me.as_str()],
            )
            .await
            .map_err(db("publishing a document"))?;
        Ok(row.get(0))
    }

    /// Every version after `after` (0: all), oldest first, at most `limit`.
    pub async fn documents_after(&self, after: i64, limit: u32) -> Result<Vec<StoredDocument>> {
        let rows = self
            .client
            .query(
                "SELECT version, kind, doc_id, document, tombstone, author FROM blendesk.documents
                 WHERE version > $1 ORDER BY version LIMIT $2",
                &[&after, &i64::from(limit)],
            )
            .await
            .map_err(db("reading documents"))?;
        rows.into_iter()
            .map(|r| {
                Ok(StoredDocument {
                    version: r.get(0),
                    kind: DocumentKind::parse(r.get(1))?,
                    doc_id: r.get(2),
                    document: r.get(3),
                    tombstone: r.get(4),
                    author: advisor_from_db(r.get(5))?,
                })
            })
            .collect()
    }

    /// A supervisor approves template version `version` (the database refuses advisors).
    pub async fn approve_template(&self, version: i64, me: &AdvisorId) -> Result<()> {
        let kind: Option<String> = self
            .client
            .query_opt("SELECT kind FROM blendesk.documents WHERE version = $1", &[&version])
            .await
            .map_err(db("reading a template"))?
            .map(|r| r.get(0));
        if kind.as_deref() != Some("template") {
            return Err(CoordError::Invalid { what: "approval", problem: format!("version {version} is not a template") });
        }
        self.client
            .execute(
                "INSERT INTO blendesk.template_approvals (version, supervisor) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&version, &me.as_str()],
            )
            .await
            .map_err(db("approving a template"))?;
        Ok(())
    }

    /// Every approval: (template version, supervisor).
    pub async fn template_approvals(&self) -> Result<Vec<(i64, AdvisorId)>> {
        let rows = self
            .client
            .query("SELECT version, supervisor FROM blendesk.template_approvals ORDER BY version, supervisor", &[])
            .await
            .map_err(db("reading template approvals"))?;
        rows.into_iter().map(|r| Ok((r.get(0), advisor_from_db(r.get(1))?))).collect()
    }
}
