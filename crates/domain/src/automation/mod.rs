//! Email automation rules.
