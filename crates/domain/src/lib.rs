//! Blendesk's domain rules. Pure Rust: no I/O, no clocks, no randomness — time and
//! jitter are passed in, so every rule is tested exhaustively and fast.

pub mod activity;
pub mod advisor;
pub mod automation;
pub mod backoff;
pub mod blending;
pub mod claim;
pub mod conversation;
pub mod csv;
pub mod draft;
pub mod fts;
pub mod history;
pub mod identity;
pub mod keywords;
pub mod knowledge;
pub mod limits;
pub mod metrics;
pub mod oauth;
pub mod outbox;
pub mod quality;
pub mod reply;
pub mod simulate;
pub mod tags;
pub mod transport;
