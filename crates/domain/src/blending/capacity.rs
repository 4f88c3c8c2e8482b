//! Capacity: how many conversations an advisor may own, and parking.
//!
//! Load is the number of *active* conversations. Conversations waiting on the customer
//! and parked ones do not count, so an advisor is not blocked by customers who have
//! not answered. Parking is limited in number so it cannot be used to dodge the cap.
//!
//! The cap limits *claims*, not ownership: lowering it stops new claims and takes
//! nothing away, and a parked conversation returning (or a customer replying) may push
//! the load above the cap. Only automatic claims must keep load within the cap.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::policy::Policy;
use super::state::{may_claim, AdvisorState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ConversationStatus {
    Active,
    WaitingOnCustomer,
    /// Set aside until `return_at_ms`, when it becomes active again by itself.
    Parked {
        return_at_ms: i64,
    },
    Resolved,
}

impl ConversationStatus {
    /// Whether this conversation counts toward the advisor's load.
    pub fn counts_toward_load(self) -> bool {
        self == Self::Active
    }

    pub fn is_parked(self) -> bool {
        matches!(self, Self::Parked { .. })
    }
}

/// The advisor's load: their active conversations.
pub fn load<'a>(statuses: impl IntoIterator<Item = &'a ConversationStatus>) -> u32 {
    count(statuses, |s| s.counts_toward_load())
}

/// How many of the advisor's conversations are parked.
pub fn parked_count<'a>(statuses: impl IntoIterator<Item = &'a ConversationStatus>) -> u32 {
    count(statuses, |s| s.is_parked())
}

fn count<'a>(statuses: impl IntoIterator<Item = &'a ConversationStatus>, keep: impl Fn(ConversationStatus) -> bool) -> u32 {
    let n = statuses.into_iter().filter(|s| keep(**s)).count();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Whether one more conversation may be claimed: the advisor is available and below
/// their cap. A cap of 0 turns email off.
pub fn can_claim(cap: u32, load: u32, state: AdvisorState) -> bool {
    may_claim(state) && load < cap
}

/// Whether this email may be claimed. An email that joins one of the advisor's open
/// conversations (a chaser from the same customer, or a reply into it) adds no
/// conversation, so only the state matters, even at or over the cap; anything else starts
/// a conversation and needs [`can_claim`].
pub fn can_take(cap: u32, load: u32, state: AdvisorState, joins_open_conversation: bool) -> bool {
    if joins_open_conversation {
        may_claim(state)
    } else {
        can_claim(cap, load, state)
    }
}

/// How many more conversations may be claimed before reaching the cap (0 when at or
/// above it, e.g. after the cap was lowered).
pub fn free_slots(cap: u32, load: u32) -> u32 {
    cap.saturating_sub(load)
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParkRefused {
    #[error(
        "cannot park: {parked} conversations are already parked and the limit is {limit}; \
         reopen or resolve a parked one first"
    )]
    LimitReached { parked: u32, limit: u32 },
    #[error("cannot park a resolved conversation")]
    Resolved,
    #[error("cannot park until {return_at_ms}: that time is not after now ({now_ms})")]
    ReturnNotInFuture { return_at_ms: i64, now_ms: i64 },
}

/// Decide a request to park a conversation until `return_at_ms` (or, when `None`, for
/// the policy's return time). `parked_now` is how many the advisor has parked already.
/// Re-parking an already parked conversation only moves its return time, so it is not
/// held against the limit.
pub fn park(
    current: ConversationStatus,
    parked_now: u32,
    return_at_ms: Option<i64>,
    now_ms: i64,
    policy: &Policy,
) -> Result<ConversationStatus, ParkRefused> {
    if current == ConversationStatus::Resolved {
        return Err(ParkRefused::Resolved);
    }
    if !current.is_parked() && parked_now >= policy.park_limit {
        return Err(ParkRefused::LimitReached { parked: parked_now, limit: policy.park_limit });
    }
    let return_at_ms = return_at_ms.unwrap_or_else(|| now_ms.saturating_add(policy.park_return_ms()));
    if return_at_ms <= now_ms {
        return Err(ParkRefused::ReturnNotInFuture { return_at_ms, now_ms });
    }
    Ok(ConversationStatus::Parked { return_at_ms })
}

/// The status at `now_ms`: a parked conversation whose time has come is active again.
/// This is a return, not a claim, so it happens even when it takes the load over the cap.
pub fn return_if_due(status: ConversationStatus, now_ms: i64) -> ConversationStatus {
    match status {
        ConversationStatus::Parked { return_at_ms } if return_at_ms <= now_ms => ConversationStatus::Active,
        other => other,
    }
}

/// Return every parked conversation that is due; returns how many came back.
pub fn return_due_parked<'a>(statuses: impl IntoIterator<Item = &'a mut ConversationStatus>, now_ms: i64) -> u32 {
    let mut returned = 0u32;
    for status in statuses {
        let next = return_if_due(*status, now_ms);
        if next != *status {
            *status = next;
            returned = returned.saturating_add(1);
        }
    }
    returned
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConversationStatus as C;

    fn policy(park_limit: u32) -> Policy {
        Policy { park_limit, park_return_minutes: 60, ..Policy::default() }
    }

    #[test]
    fn only_active_conversations_count_toward_load() {
        let convs = [C::Active, C::WaitingOnCustomer, C::Parked { return_at_ms: 10 }, C::Resolved, C::Active];
        assert_eq!(load(&convs), 2);
        assert_eq!(parked_count(&convs), 1);
    }

    #[test]
    fn can_claim_needs_available_and_room() {
        assert!(can_claim(3, 2, AdvisorState::Available));
        assert!(!can_claim(3, 3, AdvisorState::Available));
        for state in [AdvisorState::OnCall, AdvisorState::WrapUp, AdvisorState::Away, AdvisorState::Offline] {
            assert!(!can_claim(3, 0, state), "{state:?}");
        }
    }

    #[test]
    fn a_chaser_joins_an_open_conversation_even_at_the_cap_but_never_during_a_call() {
        assert!(can_take(3, 3, AdvisorState::Available, true));
        assert!(can_take(1, 4, AdvisorState::Available, true), "a lowered cap keeps chasers with their owner");
        assert!(!can_take(3, 3, AdvisorState::Available, false), "a new conversation needs room");
        assert!(can_take(3, 2, AdvisorState::Available, false));
        for state in [AdvisorState::OnCall, AdvisorState::WrapUp, AdvisorState::Away, AdvisorState::Offline] {
            assert!(!can_take(3, 0, state, true), "{state:?}");
        }
    }

    #[test]
    fn cap_zero_turns_email_off() {
        assert!(!can_claim(0, 0, AdvisorState::Available));
        assert_eq!(free_slots(0, 0), 0);
    }

    #[test]
    fn lowered_cap_stops_claims_and_takes_nothing_away() {
        let convs = [C::Active, C::Active, C::Active];
        let load_now = load(&convs);
        assert!(!can_claim(1, load_now, AdvisorState::Available));
        assert_eq!(free_slots(1, load_now), 0);
        assert_eq!(load(&convs), 3, "the conversations are still there");
    }

    #[test]
    fn park_is_limited() {
        let p = policy(2);
        assert!(park(C::Active, 1, Some(100), 0, &p).is_ok());
        let refused = park(C::Active, 2, Some(100), 0, &p).unwrap_err();
        assert_eq!(refused, ParkRefused::LimitReached { parked: 2, limit: 2 });
        assert!(refused.to_string().contains("limit is 2"));
        assert!(park(C::WaitingOnCustomer, 0, Some(100), 0, &p).is_ok());
        assert_eq!(park(C::Active, 0, Some(100), 0, &policy(0)).unwrap_err(), ParkRefused::LimitReached { parked: 0, limit: 0 });
    }

    #[test]
    fn re_parking_moves_the_return_time_even_at_the_limit() {
        let p = policy(1);
        assert_eq!(park(C::Parked { return_at_ms: 50 }, 1, Some(200), 0, &p), Ok(C::Parked { return_at_ms: 200 }));
    }

    #[test]
    fn park_defaults_to_the_policy_return_time() {
        assert_eq!(park(C::Active, 0, None, 1_000, &policy(3)), Ok(C::Parked { return_at_ms: 3_601_000 }));
    }

    #[test]
    fn park_refuses_resolved_and_past_times() {
        assert_eq!(park(C::Resolved, 0, None, 0, &policy(3)), Err(ParkRefused::Resolved));
        assert_eq!(park(C::Active, 0, Some(5), 5, &policy(3)), Err(ParkRefused::ReturnNotInFuture { return_at_ms: 5, now_ms: 5 }));
        let p = Policy { park_return_minutes: 0, ..policy(3) };
        assert!(park(C::Active, 0, None, 5, &p).is_err(), "a zero return time is not a park");
    }

    #[test]
    fn parked_conversations_return_when_due() {
        assert_eq!(return_if_due(C::Parked { return_at_ms: 10 }, 9), C::Parked { return_at_ms: 10 });
        assert_eq!(return_if_due(C::Parked { return_at_ms: 10 }, 10), C::Active);
        assert_eq!(return_if_due(C::WaitingOnCustomer, 10), C::WaitingOnCustomer);
    }

    #[test]
    fn returning_parked_conversations_may_exceed_the_cap() {
        let mut convs = vec![C::Active, C::Active, C::Parked { return_at_ms: 10 }, C::Parked { return_at_ms: 20 }];
        let cap = 2;
        assert_eq!(return_due_parked(&mut convs, 15), 1);
        assert_eq!(load(&convs), 3, "above the cap of {cap}: a return, not a claim");
        assert!(!can_claim(cap, load(&convs), AdvisorState::Available));
        assert_eq!(return_due_parked(convs.iter_mut(), 20), 1);
        assert_eq!(parked_count(&convs), 0);
    }

    #[test]
    fn status_serialises_with_a_tag() {
        let json = serde_json::to_string(&C::Parked { return_at_ms: 7 }).expect("serialises");
        assert_eq!(json, r#"{"status":"parked","return_at_ms":7}"#);
    }
}
