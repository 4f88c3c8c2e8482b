//! Conversation tokens: merge and split give emails a token; with PostgreSQL the token is
//! a row per email instead of bit keywords. Who may merge or split is the domain's rule
//! (`domain::conversation`); the database records who set each token.

use blendesk_domain::advisor::AdvisorId;

use crate::error::{check_key, db, CoordError, Result};
use crate::session::AdvisorSession;

impl AdvisorSession {
    /// Gives every email of `email_keys` token `token` (> 0), in one statement: a merge
    /// or a split is never half written.
    pub async fn set_conversation_token(&self, email_keys: &[&str], token: i64, me: &AdvisorId) -> Result<()> {
        if token <= 0 {
            return Err(CoordError::Invalid { what: "conversation token", problem: format!("{token}: tokens are positive") });
        }
        for key in email_keys {
            check_key("email key", key)?;
        }
        self.client
            .execute(
                "INSERT INTO blendesk.conversation_tokens (email_key, token, set_by)
             SELECT key, $2, $3 FROM unnest($1::text[]) AS key
             ON CONFLICT (email_key) DO UPDATE SET token = EXCLUDED.token, set_by = EXCLUDED.set_by, set_at = now()",
                &[&email_keys, &token, &me.as_str()],
            )
            .await
            .map_err(db("setting conversation tokens"))?;
        Ok(())
    }

    /// The token of each of `email_keys` that has one.
    pub async fn conversation_tokens(&self, email_keys: &[&str]) -> Result<Vec<(String, i64)>> {
        let rows = self
            .client
            .query("SELECT email_key, token FROM blendesk.conversation_tokens WHERE email_key = ANY($1) ORDER BY email_key", &[&email_keys])
            .await
            .map_err(db("reading conversation tokens"))?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}
