//! Team blending: the pure rules that let email give way to calls.
//!
//! - [`state`]: the advisor state machine (available, on call, wrap-up, away, offline)
//!   and [`may_claim`];
//! - [`capacity`]: load, caps ([`can_claim`]) and parking;
//! - [`offer`]: the order in which waiting emails are offered to an advisor;
//! - [`pacing`]: gap-aware pacing and handing an email back during a long call;
//! - [`policy`]: the supervisor's versioned JSON policy and its defaults;
//! - [`sla_policy`]: its per-queue SLA targets and business-hours calendars;
//! - [`callback_policy`]: when to suggest a phone call;
//! - [`spread`]: which of the next emails each advisor with room tries, so the team
//!   claims in parallel instead of racing for the top one.
//!
//! Everything here is pure: times are unix milliseconds passed in, ids are passed in.
//! The engine owns the clock, the mailbox and the claim itself.

pub mod callback_policy;
pub mod capacity;
pub mod offer;
pub mod pacing;
pub mod policy;
pub mod sla_policy;
pub mod spread;
pub mod state;

pub use callback_policy::{CallbackPolicyError, CallbackSettings, FrustrationWords, RegionSetting};
pub use capacity::{
    can_claim, can_take, free_slots, load, park, parked_count, return_due_parked, return_if_due, ConversationStatus, ParkRefused,
};
pub use offer::{offer_order, sla_at_risk, CandidateEmail};
pub use policy::{
    AdvisorPolicy, Policy, PolicyDraft, PolicyError, PriorityRules, Skills, ALL_SKILLS, DEFAULT_CAP, POLICY_MAX_BYTES, POLICY_VERSION,
};
pub use sla_policy::{CalendarSpec, QueueSla, QueueSlaSettings, SlaPolicy, SlaPolicyError};
pub use spread::{my_share, Racer};
pub use state::{email_paused, may_claim, AdvisorEvent, AdvisorPresence, AdvisorState, ManualState};

#[cfg(test)]
mod properties;
