//! The administrator's side: databases, migrations and advisors' login roles. Run with a
//! role that owns the database and may create roles (the test stack's superuser, or a
//! team's DBA); advisors never connect this way.

use blendesk_domain::advisor::AdvisorId;

use crate::error::{db, CoordError, Result};
use crate::migrate;
use crate::settings::PgSettings;

/// What an advisor's login role may do beyond claiming: supervisors also publish the
/// policy, knowledge articles and template approvals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamRole {
    Advisor,
    Supervisor,
}

pub struct Admin {
    client: tokio_postgres::Client,
    settings: PgSettings,
}

impl Admin {
    pub async fn connect(settings: &PgSettings) -> Result<Admin> {
        Ok(Admin { client: settings.connect().await?, settings: settings.clone() })
    }

    pub fn settings(&self) -> &PgSettings {
        &self.settings
    }

    /// Whether this connection is encrypted (the server's view).
    pub async fn ssl_in_use(&self) -> Result<bool> {
        let row = self
            .client
            .query_one("SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false)", &[])
            .await
            .map_err(db("asking whether the connection is encrypted"))?;
        Ok(row.get(0))
    }

    /// Creates an empty database (a team's, or a test's own).
    pub async fn create_database(&self, name: &str) -> Result<()> {
        check_identifier("database name", name)?;
        self.client.batch_execute(&format!("CREATE DATABASE {name}")).await.map_err(db("creating a database"))
    }

    /// Brings the connected database's schema up to this build's version.
    pub async fn migrate(&mut self) -> Result<Vec<i32>> {
        migrate::migrate(&mut self.client).await
    }

    /// Creates (or updates) `login` with `password`, in the advisor group — and the
    /// supervisor group for a supervisor — and records that it speaks for `advisor`.
    pub async fn add_advisor(&self, advisor: &AdvisorId, login: &str, password: &str, role: TeamRole) -> Result<()> {
        check_identifier("login role name", login)?;
        if password.is_empty() || password.contains('\0') {
            return Err(CoordError::Invalid { what: "password", problem: "it is empty or contains a NUL character".into() });
        }
        let exists = self
            .client
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&login])
            .await
            .map_err(db("looking up a login role"))?
            .is_some();
        // Role statements take no parameters: the name is checked above, the password quoted.
        let verb = if exists { "ALTER" } else { "CREATE" };
        let (grant, revoke) = match role {
            TeamRole::Supervisor => ("GRANT blendesk_supervisor", String::new()),
            TeamRole::Advisor => ("GRANT blendesk_advisor", format!("REVOKE blendesk_supervisor FROM {login};")),
        };
        let sql = format!("{verb} ROLE {login} LOGIN PASSWORD {}; {grant} TO {login}; {revoke}", quote_literal(password));
        self.client.batch_execute(&sql).await.map_err(db("creating an advisor's login role"))?;
        self.client
            .execute(
                "INSERT INTO blendesk.advisors (advisor, login) VALUES ($1, $2)
                 ON CONFLICT (advisor) DO UPDATE SET login = EXCLUDED.login",
                &[&advisor.as_str(), &login],
            )
            .await
            .map_err(db("registering an advisor"))?;
        Ok(())
    }
}

/// Lower-case SQL identifiers only: they are spliced into statements that take no
/// parameters (CREATE DATABASE, CREATE ROLE).
fn check_identifier(what: &'static str, name: &str) -> Result<()> {
    let ok = (1..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(CoordError::Invalid {
            what,
            problem: format!("{name:?}: use 1 to 63 characters from a-z, 0-9 and _, not starting with a digit"),
        })
    }
}

/// A string literal for the statements above (standard_conforming_strings: a quote is doubled).
fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_that_need_no_quoting() {
        for ok in ["alice", "t_1a2b_a01", "_x", &"a".repeat(63)] {
            assert!(check_identifier("name", ok).is_ok(), "{ok}");
        }
        for bad in ["", "1abc", "Alice", "a-b", "a;drop", "a b", &"a".repeat(64)] {
            assert!(check_identifier("name", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn literals_double_their_quotes() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b"), "'a\\b'");
    }
}
