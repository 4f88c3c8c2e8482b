//! An advisor's connection to the team's database, under their own login role.

use blendesk_domain::advisor::AdvisorId;
use tokio_postgres::Statement;

use crate::claims::CLAIM_SQL;
use crate::error::{db, CoordError, Result};
use crate::migrate::{current_version, SCHEMA_VERSION};
use crate::settings::PgSettings;

pub struct AdvisorSession {
    pub(crate) client: tokio_postgres::Client,
    pub(crate) settings: PgSettings,
    advisor: AdvisorId,
    /// Prepared once: a claim is then one round trip.
    pub(crate) claim_stmt: Statement,
}

impl AdvisorSession {
    /// Connects and checks that the schema is this build's and that the login role is
    /// registered as `advisor` (the name row-level security compares writes with).
    pub async fn connect(settings: &PgSettings, advisor: &AdvisorId) -> Result<AdvisorSession> {
        let client = settings.connect().await?;
        let version = current_version(&client).await?;
        if version > SCHEMA_VERSION {
            return Err(CoordError::SchemaTooNew { found: version, known: SCHEMA_VERSION });
        }
        if version < SCHEMA_VERSION {
            return Err(CoordError::Invalid {
                what: "team database",
                problem: format!("its schema is version {version}, this app needs {SCHEMA_VERSION}: the administrator must migrate it"),
            });
        }
        let speaks_for: Option<String> =
            client.query_one("SELECT blendesk.current_advisor()", &[]).await.map_err(db("reading which advisor this login is"))?.get(0);
        if speaks_for.as_deref() != Some(advisor.as_str()) {
            return Err(CoordError::Invalid {
                what: "login",
                problem: format!(
                    "{} is registered as {}, not as advisor {advisor}",
                    settings.user,
                    speaks_for.as_deref().unwrap_or("no advisor")
                ),
            });
        }
        let claim_stmt = client.prepare(CLAIM_SQL).await.map_err(db("preparing the claim statement"))?;
        Ok(AdvisorSession { client, settings: settings.clone(), advisor: advisor.clone(), claim_stmt })
    }

    /// Whether the connection broke (the caller connects again).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// The database server's clock, unix seconds: the time presence ages are measured on.
    pub async fn server_time_s(&self) -> Result<i64> {
        let row = self.client.query_one("SELECT extract(epoch FROM now())::bigint", &[]).await.map_err(db("reading the server's time"))?;
        Ok(row.get(0))
    }

    /// The advisor this session's login role speaks for.
    pub fn advisor(&self) -> &AdvisorId {
        &self.advisor
    }
}

/// An advisor id read back from the database (the schema's CHECK keeps them valid).
pub(crate) fn advisor_from_db(name: String) -> Result<AdvisorId> {
    AdvisorId::parse(&name).map_err(|e| CoordError::Corrupt(e.to_string()))
}
