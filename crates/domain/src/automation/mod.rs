//! Email automation: the pure rules behind acknowledgements, SLA clocks, chaser grouping,
//! "pick up the phone" and templates.
//!
//! - [`autoreply`]: may we acknowledge this inbound email (RFC 3834), and the headers our
//!   own automatic mail carries;
//! - [`limiter`]: one acknowledgement per sender per window, a per-conversation cap and a
//!   global breaker;
//! - [`grouping`]: which conversation a new inbound email joins (threads, then chasers);
//! - [`callback`]: "pick up the phone" suggestions and the customer's number;
//! - [`sla`]: business-hours calendars with time zones, due times, pausing clocks, levels;
//! - [`conversation_sla`]: which clock a conversation runs on (first or next response,
//!   stopped while waiting on the customer);
//! - [`late`]: the "still working on it" note when a clock breaches;
//! - [`template`]: placeholders, rendering that blocks on missing values, default skeletons.
//!
//! Everything here is pure: times are passed in, nothing reads a clock, a file or the network.

pub mod ack;
pub mod autoreply;
pub mod callback;
pub mod conversation_sla;
pub mod grouping;
pub mod late;
pub mod limiter;
pub mod sla;
pub mod template;
pub mod template_doc;

#[cfg(test)]
mod loop_tests;

pub use autoreply::{
    automatic_headers, automatic_message_id, decide, is_automatic_message_id, Decision,
    InboundMail, OurMailbox, SkipReason,
};
pub use callback::{
    customer_phone, suggest_call, Author, CallReason, CallSuggestion, CallbackPolicy,
    HistoryMessage, PhoneNumber, Region,
};
pub use grouping::{group, ConversationSummary, Grouping, GroupingRules, NewEmail};
pub use limiter::{AutoReplyLimiter, AutoReplyLimits, Throttle};
pub use sla::{
    business_minutes_between, due_at, level_by_due, BusinessCalendar, CalendarError, OpenHours, SlaClock,
    SlaLevel, SlaTargets, Waiting,
};
pub use template::{bullets, lint, render, MissingValues, TemplateProblem};
