//! The supervisor policy: versions, never edits; the highest version is in force. Only
//! supervisors' roles may insert one — the database refuses anyone else (SQLSTATE 42501).

use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::blending::policy::Policy;

use crate::error::{db, CoordError, Result};
use crate::session::{advisor_from_db, AdvisorSession};

#[derive(Debug, Clone, PartialEq)]
pub struct PublishedPolicy {
    pub version: i64,
    pub policy: Policy,
    pub published_by: AdvisorId,
}

impl AdvisorSession {
    /// Publishes `policy` as `me`; returns its version. An advisor without the supervisor
    /// role gets `NotPermitted` from the database.
    pub async fn publish_policy(&self, policy: &Policy, me: &AdvisorId) -> Result<i64> {
        let document = serde_json::to_value(policy).map_err(|e| CoordError::Invalid { what: "policy", problem: e.to_string() })?;
        let row = self
            .client
            .query_one("INSERT INTO blendesk.policy (document, published_by) VALUES ($1, $2) RETURNING version", &[&document, &me.as_str()])
            .await
            .map_err(db("publishing the policy"))?;
        Ok(row.get(0))
    }

    /// The policy in force, if any was published. A stored document this build cannot
    /// read is an error that says why (a newer format, say), never a silent default.
    pub async fn latest_policy(&self) -> Result<Option<PublishedPolicy>> {
        let row = self
            .client
            .query_opt("SELECT version, document::text, published_by FROM blendesk.policy ORDER BY version DESC LIMIT 1", &[])
            .await
            .map_err(db("reading the policy"))?;
        let Some(row) = row else { return Ok(None) };
        let version: i64 = row.get(0);
        let document: String = row.get(1);
        let policy = Policy::parse(document.as_bytes()).map_err(|e| CoordError::Corrupt(format!("policy version {version}: {e}")))?;
        Ok(Some(PublishedPolicy { version, policy, published_by: advisor_from_db(row.get(2))? }))
    }
}
