//! Email automation: the pure rules behind acknowledgements, SLA clocks, "pick up the
//! phone" and templates. (Conversations are grouped by `crate::conversation`; the
//! per-sender window and the breaker live with the acknowledgement rule in [`ack`].)
//!
//! - [`autoreply`]: may we acknowledge this inbound email (RFC 3834), and the headers our
//!   own automatic mail carries;
//! - [`ack`]: which message gets the team's one acknowledgement, the per-sender window,
//!   the breaker and the promised reply time;
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
pub mod duty;
pub mod late;
pub mod sla;
pub mod survey;
pub mod template;
pub mod template_doc;

pub use autoreply::{
    automatic_headers, automatic_message_id, decide, is_automatic_message_id, Decision, InboundMail, OurMailbox, SkipReason,
};
pub use callback::{customer_phone, suggest_call, Author, CallReason, CallSuggestion, CallbackPolicy, HistoryMessage, PhoneNumber, Region};
pub use sla::{
    business_minutes_between, due_at, level_by_due, BusinessCalendar, CalendarError, OpenHours, SlaClock, SlaLevel, SlaTargets, Waiting,
};
pub use template::{bullets, lint, render, MissingValues, TemplateProblem};
