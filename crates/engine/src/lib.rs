//! Blendesk's engine: ties the domain rules, the store and the mail protocols together
//! into long-running tasks (sync, live updates, the outbox) that report through events.
//! One API for every caller: the desktop shell, the `blendesk` command and the tests.

pub mod activity;
pub mod analytics;
pub mod callback;
pub mod calls;
mod chores;
mod claim_loop;
pub mod claims;
pub mod clock;
pub mod config;
pub mod connections;
pub mod conversation;
pub mod coordination;
mod coordination_docs;
pub mod credentials;
pub mod docs;
mod duties;
pub mod duty_bids;
mod engine;
pub mod errors;
pub mod events;
pub mod hand_back;
pub mod handover;
pub mod history;
pub mod keywords;
pub mod knowledge;
mod migrate_team;
mod mirror;
pub mod oauth;
mod outbox;
pub mod parking;
pub mod presence;
pub mod quality;
mod reports;
pub mod runtime;
pub mod sla;
pub mod surveys;
mod sync;
pub mod tags;
pub mod team;
pub mod templates;
mod watch;
pub mod workspace;

pub use blendesk_mail::imap::logout;
pub use duties::{AutomationAlerts, BreakerAlert};
pub use engine::{Engine, EngineError, Status};
pub use migrate_team::TeamMigration;
pub use outbox::OutboxReport;
pub use sync::{FolderReport, SyncReport};
