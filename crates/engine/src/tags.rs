//! Conversation tags (`blendesk_domain::tags`): an advisor tags a conversation with a
//! `Tagged` event in the team's log (an `Untagged` takes it off), never an IMAP keyword;
//! every app reads each conversation's tags from the store's index of the log, this
//! app's own changes at once and the team's within a batch period.

use crate::engine::{EngineError, Result};
use crate::Engine;
use blendesk_domain::activity::ActivityKind;
use blendesk_domain::tags::normalise_tag;
use std::collections::BTreeMap;

impl Engine {
    /// Put `tag` on the conversation `conversation` names (its key, or a customer's
    /// address), or take it off; returns the conversation's tags after. A tag that is not
    /// a tag, or a conversation that is not open, is refused and nothing is recorded.
    pub fn tag_conversation(&self, conversation: &str, tag: &str, on: bool) -> Result<Vec<String>> {
        let tag = normalise_tag(tag).map_err(|e| EngineError::Conversation(e.to_string()))?;
        let key = self.conversation_key(conversation)?;
        let tags = self.tags_of(&key)?;
        // Nothing to change: no event (the log only grows).
        if tags.contains(&tag) != on {
            self.record(if on {
                ActivityKind::Tagged { conversation: key.clone(), tag }
            } else {
                ActivityKind::Untagged { conversation: key.clone(), tag }
            });
        }
        self.tags_of(&key)
    }

    /// The conversation's tags (by its key), sorted.
    pub fn tags_of(&self, key: &str) -> Result<Vec<String>> {
        Ok(self.all_tags()?.remove(key).unwrap_or_default())
    }

    /// A merge or split gives conversations new keys: each new key gets every tag its
    /// old keys carried (recorded again, the old keys' left as history), so the email type
    /// advisors set stays with the emails.
    pub(crate) fn carry_tags(&self, from: &[&str], to: &str) -> Result<()> {
        let all = self.all_tags()?;
        let have = all.get(to).cloned().unwrap_or_default();
        let wanted: std::collections::BTreeSet<&String> = from.iter().filter_map(|k| all.get(*k)).flatten().collect();
        for tag in wanted.into_iter().filter(|t| !have.contains(t)) {
            self.record(ActivityKind::Tagged { conversation: to.to_owned(), tag: tag.clone() });
        }
        Ok(())
    }

    /// Every tagged conversation's tags, by key.
    pub(crate) fn all_tags(&self) -> Result<BTreeMap<String, Vec<String>>> {
        Ok(self.store.conversation_tags()?)
    }
}
