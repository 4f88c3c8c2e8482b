//! The advisor state machine: what the advisor is doing, and so whether email may be
//! claimed for them. Calls drive it (from the in-app toggle, the command line or the
//! local socket), the advisor sets it by hand, and ticks move it on with time.
//!
//! Decisions the design left open:
//! - Call start while **offline** is ignored: offline means the advisor has left
//!   blending (their conversations may be taken over after the grace period), and a call
//!   does not log them back in. A call end then has nothing to end.
//! - During a call, only call end and "offline" are honoured: "available" would let
//!   email be claimed mid-call, and "away" would lose the wrap-up that follows.
//! - During wrap-up, "available" is ignored (wrap-up length is the supervisor's policy);
//!   "away" and "offline" are honoured.
//! - A call started while away ends the away: the advisor is working, so after the call
//!   and its wrap-up they are available.
//! - "Away" while offline logs the advisor in without taking work.
//! - Idle away (from the OS idle time) ends with the next activity; manual away does not.
//! - Idle time counts from the later of the last activity and becoming available, so a
//!   long call without keyboard input does not send the advisor away as it ends.

use serde::{Deserialize, Serialize};

use super::policy::Policy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdvisorState {
    Available,
    OnCall,
    WrapUp,
    Away,
    Offline,
}

impl AdvisorState {
    pub const ALL: [AdvisorState; 5] = [Self::Available, Self::OnCall, Self::WrapUp, Self::Away, Self::Offline];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::OnCall => "on_call",
            Self::WrapUp => "wrap_up",
            Self::Away => "away",
            Self::Offline => "offline",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == s)
    }
}

/// Email may be claimed only while the advisor is available.
pub fn may_claim(state: AdvisorState) -> bool {
    state == AdvisorState::Available
}

/// Email is paused during a call and its wrap-up: no reply goes out, nothing is resolved,
/// no email notification shows (the advisor's attention belongs to the caller).
pub fn email_paused(state: AdvisorState) -> bool {
    matches!(state, AdvisorState::OnCall | AdvisorState::WrapUp)
}

/// A state the advisor picks by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManualState {
    Available,
    Away,
    Offline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvisorEvent {
    /// The advisor picked a state in the app.
    Set(ManualState),
    CallStart,
    CallEnd,
    /// Time passed: ends wrap-up at its deadline and detects idleness.
    Tick,
    /// The OS reported input from the advisor.
    Activity,
}

/// One advisor's state with the times the rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdvisorPresence {
    state: AdvisorState,
    since_ms: i64,
    wrap_up_until_ms: Option<i64>,
    last_activity_ms: i64,
    /// Away because idle (activity brings the advisor back), not by choice.
    idle_away: bool,
}

impl AdvisorPresence {
    /// An advisor who has not yet started blending: offline.
    pub fn new(now_ms: i64) -> Self {
        Self { state: AdvisorState::Offline, since_ms: now_ms, wrap_up_until_ms: None, last_activity_ms: now_ms, idle_away: false }
    }

    pub fn state(&self) -> AdvisorState {
        self.state
    }

    /// When the current state began (the supervisor view's "on call since").
    pub fn since_ms(&self) -> i64 {
        self.since_ms
    }

    /// The end of the current wrap-up, when in wrap-up.
    pub fn wrap_up_until_ms(&self) -> Option<i64> {
        self.wrap_up_until_ms
    }

    pub fn last_activity_ms(&self) -> i64 {
        self.last_activity_ms
    }

    /// Whether the current away state came from idleness rather than the advisor.
    pub fn is_idle_away(&self) -> bool {
        self.state == AdvisorState::Away && self.idle_away
    }

    /// Apply one event at `now_ms`. Returns the new state when it changed.
    pub fn apply(&mut self, event: AdvisorEvent, now_ms: i64, policy: &Policy) -> Option<AdvisorState> {
        use AdvisorState as S;
        let before = self.state;
        match (event, self.state) {
            (AdvisorEvent::Set(ManualState::Offline), S::Offline) => {}
            (AdvisorEvent::Set(ManualState::Offline), _) => self.enter(S::Offline, now_ms),

            (AdvisorEvent::Set(ManualState::Away), S::OnCall) => {}
            // Already away from idleness: now it is a choice, so activity will not undo it.
            (AdvisorEvent::Set(ManualState::Away), S::Away) => self.idle_away = false,
            (AdvisorEvent::Set(ManualState::Away), _) => self.enter(S::Away, now_ms),

            (AdvisorEvent::Set(ManualState::Available), S::Away | S::Offline) => {
                self.last_activity_ms = self.last_activity_ms.max(now_ms);
                self.enter(S::Available, now_ms);
            }
            (AdvisorEvent::Set(ManualState::Available), S::Available | S::OnCall | S::WrapUp) => {}

            (AdvisorEvent::CallStart, S::Offline | S::OnCall) => {}
            (AdvisorEvent::CallStart, _) => self.enter(S::OnCall, now_ms),

            (AdvisorEvent::CallEnd, S::OnCall) => {
                let wrap_up_ms = policy.wrap_up_ms();
                if wrap_up_ms == 0 {
                    self.enter(S::Available, now_ms);
                } else {
                    self.enter(S::WrapUp, now_ms);
                    self.wrap_up_until_ms = Some(now_ms.saturating_add(wrap_up_ms));
                }
            }
            (AdvisorEvent::CallEnd, _) => {}

            (AdvisorEvent::Tick, S::WrapUp) => {
                if self.wrap_up_until_ms.is_none_or(|until| now_ms >= until) {
                    self.enter(S::Available, now_ms);
                }
            }
            (AdvisorEvent::Tick, S::Available) => {
                let idle_to_away_ms = policy.idle_to_away_ms();
                let idle_from = self.last_activity_ms.max(self.since_ms);
                if idle_to_away_ms > 0 && now_ms.saturating_sub(idle_from) >= idle_to_away_ms {
                    self.enter(S::Away, now_ms);
                    self.idle_away = true;
                }
            }
            (AdvisorEvent::Tick, _) => {}

            (AdvisorEvent::Activity, state) => {
                self.last_activity_ms = self.last_activity_ms.max(now_ms);
                if state == S::Away && self.idle_away {
                    self.enter(S::Available, now_ms);
                }
            }
        }
        (self.state != before).then_some(self.state)
    }

    fn enter(&mut self, state: AdvisorState, now_ms: i64) {
        self.state = state;
        self.since_ms = now_ms;
        self.wrap_up_until_ms = None;
        self.idle_away = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AdvisorEvent as E;
    use AdvisorState as S;

    fn policy() -> Policy {
        Policy { wrap_up_seconds: 30, idle_to_away_seconds: 300, ..Policy::default() }
    }

    #[test]
    fn email_pauses_for_a_call_and_its_wrap_up_only() {
        let paused: Vec<S> = S::ALL.into_iter().filter(|s| email_paused(*s)).collect();
        assert_eq!(paused, [S::OnCall, S::WrapUp]);
    }

    fn presence_in(state: S, now: i64) -> AdvisorPresence {
        let p = policy();
        let mut a = AdvisorPresence::new(now);
        match state {
            S::Offline => {}
            S::Available => {
                a.apply(E::Set(ManualState::Available), now, &p);
            }
            S::Away => {
                a.apply(E::Set(ManualState::Away), now, &p);
            }
            S::OnCall => {
                a.apply(E::Set(ManualState::Available), now, &p);
                a.apply(E::CallStart, now, &p);
            }
            S::WrapUp => {
                a.apply(E::Set(ManualState::Available), now, &p);
                a.apply(E::CallStart, now, &p);
                a.apply(E::CallEnd, now, &p);
            }
        }
        assert_eq!(a.state(), state);
        a
    }

    #[test]
    fn only_available_may_claim() {
        for state in S::ALL {
            assert_eq!(may_claim(state), state == S::Available, "{state:?}");
        }
    }

    #[test]
    fn states_round_trip_through_names() {
        for state in S::ALL {
            assert_eq!(S::parse(state.as_str()), Some(state));
        }
        assert_eq!(S::parse("busy"), None);
    }

    #[test]
    fn starts_offline() {
        assert_eq!(AdvisorPresence::new(0).state(), S::Offline);
    }

    #[test]
    fn call_start_goes_on_call_from_every_state_but_offline() {
        for state in [S::Available, S::WrapUp, S::Away, S::OnCall] {
            let mut a = presence_in(state, 0);
            a.apply(E::CallStart, 10, &policy());
            assert_eq!(a.state(), S::OnCall, "from {state:?}");
        }
        let mut a = presence_in(S::Offline, 0);
        assert_eq!(a.apply(E::CallStart, 10, &policy()), None);
        assert_eq!(a.state(), S::Offline);
    }

    #[test]
    fn call_end_starts_wrap_up_with_policy_deadline() {
        let mut a = presence_in(S::OnCall, 0);
        assert_eq!(a.apply(E::CallEnd, 1_000, &policy()), Some(S::WrapUp));
        assert_eq!(a.wrap_up_until_ms(), Some(31_000));
        assert_eq!(a.apply(E::Tick, 30_999, &policy()), None);
        assert_eq!(a.apply(E::Tick, 31_000, &policy()), Some(S::Available));
        assert_eq!(a.wrap_up_until_ms(), None);
    }

    #[test]
    fn zero_wrap_up_returns_to_available_at_call_end() {
        let p = Policy { wrap_up_seconds: 0, ..policy() };
        let mut a = presence_in(S::OnCall, 0);
        assert_eq!(a.apply(E::CallEnd, 5, &p), Some(S::Available));
    }

    #[test]
    fn call_end_outside_a_call_does_nothing() {
        for state in [S::Available, S::WrapUp, S::Away, S::Offline] {
            let mut a = presence_in(state, 0);
            assert_eq!(a.apply(E::CallEnd, 10, &policy()), None, "{state:?}");
        }
    }

    #[test]
    fn call_start_during_wrap_up_clears_the_deadline() {
        let mut a = presence_in(S::WrapUp, 0);
        a.apply(E::CallStart, 10, &policy());
        assert_eq!(a.wrap_up_until_ms(), None);
        assert_eq!(a.apply(E::Tick, 1_000_000, &policy()), None, "still on the call");
    }

    #[test]
    fn manual_available_is_refused_during_call_and_wrap_up() {
        for state in [S::OnCall, S::WrapUp] {
            let mut a = presence_in(state, 0);
            assert_eq!(a.apply(E::Set(ManualState::Available), 1, &policy()), None);
            assert_eq!(a.state(), state);
        }
    }

    #[test]
    fn manual_away_is_refused_during_call_but_honoured_in_wrap_up() {
        let mut a = presence_in(S::OnCall, 0);
        assert_eq!(a.apply(E::Set(ManualState::Away), 1, &policy()), None);
        let mut a = presence_in(S::WrapUp, 0);
        assert_eq!(a.apply(E::Set(ManualState::Away), 1, &policy()), Some(S::Away));
    }

    #[test]
    fn offline_is_always_honoured() {
        for state in [S::Available, S::OnCall, S::WrapUp, S::Away] {
            let mut a = presence_in(state, 0);
            assert_eq!(a.apply(E::Set(ManualState::Offline), 1, &policy()), Some(S::Offline));
        }
    }

    #[test]
    fn idle_moves_available_to_away_and_activity_brings_back() {
        let mut a = presence_in(S::Available, 0);
        assert_eq!(a.apply(E::Tick, 299_999, &policy()), None);
        assert_eq!(a.apply(E::Tick, 300_000, &policy()), Some(S::Away));
        assert!(a.is_idle_away());
        assert_eq!(a.apply(E::Activity, 300_500, &policy()), Some(S::Available));
    }

    #[test]
    fn activity_resets_the_idle_timer() {
        let mut a = presence_in(S::Available, 0);
        a.apply(E::Activity, 200_000, &policy());
        assert_eq!(a.apply(E::Tick, 300_000, &policy()), None);
        assert_eq!(a.apply(E::Tick, 500_000, &policy()), Some(S::Away));
    }

    #[test]
    fn idle_counts_from_becoming_available_after_a_long_call() {
        let mut a = presence_in(S::OnCall, 0);
        a.apply(E::CallEnd, 1_000_000, &policy());
        a.apply(E::Tick, 1_030_000, &policy());
        assert_eq!(a.state(), S::Available);
        assert_eq!(a.apply(E::Tick, 1_030_001, &policy()), None, "not idle yet");
    }

    #[test]
    fn idle_zero_disables_idle_detection() {
        let p = Policy { idle_to_away_seconds: 0, ..policy() };
        let mut a = presence_in(S::Available, 0);
        assert_eq!(a.apply(E::Tick, i64::MAX, &p), None);
    }

    #[test]
    fn manual_away_is_not_undone_by_activity() {
        let mut a = presence_in(S::Away, 0);
        assert_eq!(a.apply(E::Activity, 10, &policy()), None);
        assert_eq!(a.state(), S::Away);
        // Idle away confirmed by hand also sticks.
        let mut a = presence_in(S::Available, 0);
        a.apply(E::Tick, 300_000, &policy());
        a.apply(E::Set(ManualState::Away), 300_001, &policy());
        assert_eq!(a.apply(E::Activity, 300_002, &policy()), None);
    }

    #[test]
    fn time_going_backwards_changes_nothing_unexpected() {
        let mut a = presence_in(S::Available, 1_000);
        assert_eq!(a.apply(E::Tick, i64::MIN, &policy()), None);
        let mut a = presence_in(S::OnCall, i64::MAX - 5);
        a.apply(E::CallEnd, i64::MAX - 5, &policy());
        assert_eq!(a.wrap_up_until_ms(), Some(i64::MAX), "saturates instead of overflowing");
    }

    #[test]
    fn since_records_when_the_call_began() {
        let mut a = presence_in(S::Available, 0);
        a.apply(E::CallStart, 42, &policy());
        assert_eq!(a.since_ms(), 42);
        a.apply(E::CallStart, 99, &policy());
        assert_eq!(a.since_ms(), 42, "a repeated call start keeps the original time");
    }
}
