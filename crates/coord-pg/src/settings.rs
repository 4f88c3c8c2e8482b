//! Where the team's database is and who connects to it.

use std::net::IpAddr;
use std::time::Duration;

use tokio_postgres::config::SslMode;

use crate::error::{with_causes, CoordError, Result};
use crate::tls::{client_config, MakeRustls, RustlsStream, Tls};

/// One login to the team's database. Advisors log in as their own role; the password
/// comes from the keyring or the environment, never from a file.
#[derive(Clone)]
pub struct PgSettings {
    /// A host name or address, or a Unix socket directory (starting with `/`).
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub password: String,
    /// `Tls::Off` only to loopback or a Unix socket; anything else is refused.
    pub tls: Tls,
}

impl std::fmt::Debug for PgSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("database", &self.database)
            .field("user", &self.user)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl PgSettings {
    /// The same server and login, another database.
    pub fn with_database(&self, database: &str) -> PgSettings {
        PgSettings { database: database.to_owned(), ..self.clone() }
    }

    /// The same server and database, another login.
    pub fn with_login(&self, user: &str, password: &str) -> PgSettings {
        PgSettings { user: user.to_owned(), password: password.to_owned(), ..self.clone() }
    }

    pub(crate) fn target(&self) -> String {
        format!("{}:{} (database {}, user {})", self.host, self.port, self.database, self.user)
    }

    /// Connects — without TLS only where nobody can listen in: a loopback address or a
    /// Unix socket. The connection is driven by a task of its own.
    pub(crate) async fn connect(&self) -> Result<tokio_postgres::Client> {
        let (client, connection) = self.open().await?;
        let target = self.target();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!("PostgreSQL connection to {target} ended: {e}");
            }
        });
        Ok(client)
    }

    /// The client and its connection, for callers that drive the connection themselves
    /// (the change feed reads its notifications).
    pub(crate) async fn open(
        &self,
    ) -> Result<(tokio_postgres::Client, tokio_postgres::Connection<tokio_postgres::Socket, RustlsStream<tokio_postgres::Socket>>)> {
        if self.tls == Tls::Off && !is_local(&self.host) {
            return Err(CoordError::PlaintextRefused(self.host.clone()));
        }
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .dbname(&self.database)
            .user(&self.user)
            .password(&self.password)
            .application_name("blendesk")
            .connect_timeout(CONNECT_TIMEOUT)
            .ssl_mode(if self.tls == Tls::Off { SslMode::Disable } else { SslMode::Require });
        let tls = MakeRustls(client_config(&self.tls)?);
        config.connect(tls).await.map_err(|source| CoordError::Connect { target: self.target(), detail: with_causes(&source), source })
    }
}

fn is_local(host: &str) -> bool {
    host.starts_with('/') || host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_connections_only_to_this_machine() {
        for ok in ["127.0.0.1", "::1", "localhost", "/tmp/pg/run", "127.3.4.5"] {
            assert!(is_local(ok), "{ok}");
        }
        for bad in ["db.example.com", "10.0.0.5", "192.168.1.2", ""] {
            assert!(!is_local(bad), "{bad}");
        }
    }

    #[test]
    fn the_password_is_never_printed() {
        let s = PgSettings {
            host: "127.0.0.1".into(),
            port: 5432,
            database: "team".into(),
            user: "alice".into(),
            password: "Canary-secret".into(),
            tls: Tls::Off,
        };
        assert!(!format!("{s:?}").contains("Canary"));
    }
}
