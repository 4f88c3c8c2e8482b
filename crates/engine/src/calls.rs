//! Calls as data: a call event (from the softphone's socket or the window) changes the
//! advisor's state, and the call itself — the softphone's id, the customer's number,
//! the direction, the talk time — waits through wrap-up for the advisor's disposition
//! (resolved, follow-up, transfer), then goes into the activity log (`activity.rs`),
//! with its hold time (the softphone's hold/resume events; talk time leaves it out),
//! where the team's history and the first-contact-resolution rule read it. A call whose
//! wrap-up ends without a disposition is recorded without one.

use crate::engine::{Engine, EngineError, Result};
use blendesk_domain::activity::{ActivityKind, Disposition};
use blendesk_domain::blending::{AdvisorEvent, AdvisorState};
use serde::Serialize;

/// What the softphone said of a call (all optional: a window toggle knows nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallInfo {
    pub id: Option<String>,
    pub number: Option<String>,
    pub direction: Option<String>,
}

#[derive(Debug, Clone)]
struct Ongoing {
    info: CallInfo,
    started_ms: i64,
    /// Hold time so far, and when the current hold began.
    hold_ms: i64,
    held_since: Option<i64>,
}

/// The call that ended and waits for its disposition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct EndedCall {
    pub call_id: Option<String>,
    pub number: Option<String>,
    pub direction: Option<String>,
    pub started_ms: i64,
    /// Connected time on the call, hold left out.
    pub talk_ms: i64,
    pub hold_ms: i64,
}

#[derive(Debug, Default)]
pub(crate) struct CallState {
    ongoing: Option<Ongoing>,
    ended: Option<EndedCall>,
}

impl Engine {
    fn calls(&self) -> std::sync::MutexGuard<'_, CallState> {
        self.team.calls.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A call starts (`start`) or ends, with what is known of it: the one entry for the
    /// call socket and the window. Returns the advisor's state after it.
    pub fn call_event(&self, start: bool, info: CallInfo) -> AdvisorState {
        let now = self.now_ms();
        if start {
            // A new call before the last one's disposition: the last goes without one.
            self.record_ended_call(None);
            let mut calls = self.calls();
            if calls.ongoing.is_none() {
                calls.ongoing = Some(Ongoing { info, started_ms: now, hold_ms: 0, held_since: None });
            }
            drop(calls);
            self.presence_event(AdvisorEvent::CallStart)
        } else {
            let mut calls = self.calls();
            if let Some(call) = calls.ongoing.take() {
                // The end event may say more than the start did (a number found later).
                let pick = |a: Option<String>, b: Option<String>| b.or(a);
                // A call that ends on hold: the hold lasted until the end.
                let hold_ms = call.hold_ms + call.held_since.map_or(0, |since| (now - since).max(0));
                let length = (now - call.started_ms).max(0);
                calls.ended = Some(EndedCall {
                    call_id: pick(call.info.id, info.id),
                    number: pick(call.info.number, info.number),
                    direction: pick(call.info.direction, info.direction),
                    started_ms: call.started_ms,
                    talk_ms: (length - hold_ms).max(0),
                    hold_ms: hold_ms.min(length),
                });
            }
            drop(calls);
            self.presence_event(AdvisorEvent::CallEnd)
        }
    }

    /// The customer is put on hold (`on`) or taken off it, on the call going on (none:
    /// ignored). The advisor stays on the call either way. Returns the state.
    pub fn call_hold(&self, on: bool) -> AdvisorState {
        let now = self.now_ms();
        if let Some(call) = self.calls().ongoing.as_mut() {
            match (on, call.held_since) {
                (true, None) => call.held_since = Some(now),
                (false, Some(since)) => {
                    call.hold_ms += (now - since).max(0);
                    call.held_since = None;
                }
                _ => {} // already so
            }
        }
        self.advisor_state()
    }

    /// The call that ended and waits for the advisor's disposition, if any.
    pub fn call_to_dispose(&self) -> Option<EndedCall> {
        self.calls().ended.clone()
    }

    /// The advisor's disposition of the call that just ended: recorded with the call.
    pub fn set_call_disposition(&self, disposition: Disposition) -> Result<EndedCall> {
        let call = self.call_to_dispose().ok_or_else(|| EngineError::Conversation("no call waits for a disposition".into()))?;
        self.record_ended_call(Some(disposition));
        Ok(call)
    }

    /// Record the ended call (if any) with `disposition`.
    fn record_ended_call(&self, disposition: Option<Disposition>) {
        let Some(call) = self.calls().ended.take() else { return };
        self.record(ActivityKind::Call {
            call_id: call.call_id,
            number: call.number,
            direction: call.direction,
            started_ms: call.started_ms,
            talk_ms: call.talk_ms,
            hold_ms: (call.hold_ms > 0).then_some(call.hold_ms),
            disposition,
        });
    }

    /// After a state change: once the advisor is past wrap-up, a call still without a
    /// disposition is recorded without one.
    pub(crate) fn settle_call_after(&self, state: AdvisorState) {
        if !matches!(state, AdvisorState::OnCall | AdvisorState::WrapUp) {
            self.record_ended_call(None);
        }
    }
}
