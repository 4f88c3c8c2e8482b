//! Team coordination on PostgreSQL, for teams whose mailbox cannot coordinate (no
//! CONDSTORE or custom keywords, or too few connections): claims, duties, presence,
//! policy, shared documents, conversation tokens and events live in schema `blendesk`.
//!
//! - A claim is one conditional statement (`INSERT … ON CONFLICT DO NOTHING`): the
//!   primary key decides between racers.
//! - Every advisor connects with their own login role; row-level security lets them write
//!   claims, duties and presence only under their own name, and only supervisors publish
//!   the policy. The database refuses the rest (SQLSTATE 42501, [`CoordError::NotPermitted`]).
//! - Apps hear each other through LISTEN/NOTIFY ([`AdvisorSession::listen`]).
//!
//! [`Admin`] creates databases, applies the migrations and adds advisors' roles;
//! [`AdvisorSession`] is an advisor's connection.

mod admin;
mod changes;
mod claims;
mod documents;
mod duties;
mod error;
mod events;
mod import;
mod marks;
mod migrate;
mod policy;
mod presence;
mod session;
mod settings;
mod tls;
mod tokens;

pub use admin::{Admin, TeamRole};
pub use changes::{Change, ChangeFeed};
pub use claims::Claim;
pub use documents::{DocumentKind, StoredDocument};
pub use duties::Duty;
pub use error::{CoordError, Result};
pub use import::ImportReport;
pub use marks::EmailState;
pub use migrate::SCHEMA_VERSION;
pub use policy::PublishedPolicy;
pub use presence::PresenceRow;
pub use session::AdvisorSession;
pub use settings::PgSettings;
pub use tls::Tls;
