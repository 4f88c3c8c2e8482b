//! "Come back later": an advisor parks one of their open conversations. It leaves their
//! load, so new email can come, and returns by itself at its time, even over the cap.
//! The rules are the domain's (`blending::park`, `return_if_due`); the list is this
//! advisor's own, kept in the local store across restarts.

use crate::conversation::open_conversations_of;
use crate::engine::{Engine, EngineError, Result};
use blendesk_domain::blending::{park as park_rule, return_if_due, ConversationStatus};
use blendesk_domain::claim::owner_keyword;
use std::collections::{BTreeMap, HashSet};

/// The parked conversations still away at `now_ms` among `open` (my open conversations'
/// keys): due ones are back, and closed ones are no longer anyone's to park.
pub(crate) fn still_away(parked: &BTreeMap<String, i64>, open: &HashSet<String>, now_ms: i64) -> BTreeMap<String, i64> {
    parked
        .iter()
        .filter(|(customer, _)| open.contains(*customer))
        .filter(|(_, at)| return_if_due(ConversationStatus::Parked { return_at_ms: **at }, now_ms) != ConversationStatus::Active)
        .map(|(c, at)| (c.clone(), *at))
        .collect()
}

impl Engine {
    /// Park my open conversation `customer` (its key, or a customer's address) for
    /// `seconds` (default: the policy's return time). Refused past the policy's park
    /// limit; re-parking moves the time. Returns when it comes back (unix ms).
    pub fn park(&self, customer: &str, seconds: Option<u32>) -> Result<i64> {
        let now = self.now_ms();
        let heads = self.store.queue_heads(&self.config.imap.queues)?;
        let keys = self.conversation_keys_for(&heads);
        let customer = self.conversation_key(customer).unwrap_or_else(|_| customer.trim().to_lowercase());
        let open = open_conversations_of(&heads, &keys, &owner_keyword(&self.config.advisor.id));
        if !open.contains(&customer) {
            return Err(EngineError::Conversation(format!("{customer} has no open conversation of yours to park")));
        }
        let away = still_away(&self.store.parked()?, &open, now);
        let current = away.get(&customer).map_or(ConversationStatus::Active, |at| ConversationStatus::Parked { return_at_ms: *at });
        let return_at = seconds.map(|s| now + i64::from(s) * 1000);
        match park_rule(current, away.len() as u32, return_at, now, &self.policy()) {
            Ok(ConversationStatus::Parked { return_at_ms }) => {
                self.store.park(&customer, return_at_ms)?;
                // Room for new email now: let the claim loop look.
                self.team.wake.notify_waiters();
                Ok(return_at_ms)
            }
            Ok(other) => Err(EngineError::Internal(format!("park gave {other:?}"))),
            Err(e) => Err(EngineError::Park(e.to_string())),
        }
    }

    /// My parked conversations now (key → return time, ms).
    pub fn parked(&self) -> Result<BTreeMap<String, i64>> {
        self.parked_now(self.now_ms())
    }

    /// Bring a parked conversation (its key, or a customer's address) back now.
    pub fn unpark(&self, customer: &str) -> Result<()> {
        self.store.unpark(customer)?;
        if let Ok(key) = self.conversation_key(customer) {
            self.store.unpark(&key)?;
        }
        Ok(())
    }

    /// My parked conversations still away at `now_ms` (key → return time, ms). The
    /// ones that came back or closed are forgotten.
    pub fn parked_now(&self, now_ms: i64) -> Result<BTreeMap<String, i64>> {
        let heads = self.store.queue_heads(&self.config.imap.queues)?;
        let keys = self.conversation_keys_for(&heads);
        let open = open_conversations_of(&heads, &keys, &owner_keyword(&self.config.advisor.id));
        let all = self.store.parked()?;
        let away = still_away(&all, &open, now_ms);
        for gone in all.keys().filter(|c| !away.contains_key(*c)) {
            self.store.unpark(gone)?;
        }
        Ok(away)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parked_conversations_come_back_at_their_time_or_when_closed() {
        let parked: BTreeMap<String, i64> = [("a@x".to_owned(), 1_000), ("b@x".to_owned(), 5_000), ("c@x".to_owned(), 9_000)].into();
        let open: HashSet<String> = ["a@x".to_owned(), "b@x".to_owned()].into();
        let away = still_away(&parked, &open, 2_000);
        assert_eq!(away.into_iter().collect::<Vec<_>>(), [("b@x".to_owned(), 5_000)], "a is due, c is closed");
        assert!(still_away(&parked, &open, 5_000).is_empty(), "due exactly at its time");
    }
}
