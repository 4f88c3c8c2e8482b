//! The stack's PostgreSQL (`tests/pg-stack.sh`, started on first use) and a team on it
//! for engine and CLI tests of the database backend: a database of its own, migrated,
//! and a login role per advisor, all with `TEST_PASSWORD` (so one
//! `BLENDESK_PG_PASSWORD` serves every app of a test).

use crate::{repo_root, TEST_PASSWORD};
use blendesk_coord_pg::{Admin, PgSettings, TeamRole, Tls};
use blendesk_domain::advisor::AdvisorId;
use std::sync::OnceLock;

/// The administrator's settings, from `tests/pg-stack.sh start` (run once per process).
pub fn admin_settings() -> PgSettings {
    static ENV: OnceLock<String> = OnceLock::new();
    let env = ENV.get_or_init(|| {
        let out =
            std::process::Command::new(repo_root().join("tests/pg-stack.sh")).arg("start").output().expect("running tests/pg-stack.sh");
        assert!(out.status.success(), "tests/pg-stack.sh start failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    });
    let get = |key: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .map(|v| v.trim_matches('\'').trim_matches('"').to_owned())
            .unwrap_or_else(|| panic!("tests/pg-stack.sh start printed no {key}"))
    };
    PgSettings {
        host: get("BLENDESK_PG_HOST"),
        port: get("BLENDESK_PG_PORT").parse().expect("BLENDESK_PG_PORT is a number"),
        database: get("BLENDESK_PG_DATABASE"),
        user: get("BLENDESK_PG_ADMIN_USER"),
        password: get("BLENDESK_PG_ADMIN_PASSWORD"),
        tls: Tls::Off,
    }
}

/// A team database: `advisors` and `supervisors` registered under login roles
/// `<database>_<id>`.
pub struct PgTeam {
    pub settings: PgSettings,
    pub database: String,
}

impl PgTeam {
    /// A new, empty database (no schema, nobody registered): what an administrator starts from.
    pub async fn unmigrated() -> PgTeam {
        let settings = admin_settings();
        let database = format!("t{:08x}", rand::random::<u32>());
        Admin::connect(&settings)
            .await
            .expect("the test PostgreSQL answers")
            .create_database(&database)
            .await
            .expect("creating a database");
        PgTeam { settings: settings.with_database(&database), database }
    }

    pub async fn new(advisors: &[&str], supervisors: &[&str]) -> PgTeam {
        let PgTeam { settings, database } = Self::unmigrated().await;
        let mut admin = Admin::connect(&settings).await.expect("connecting to the new database");
        admin.migrate().await.expect("migrating");
        for (ids, role) in [(advisors, TeamRole::Advisor), (supervisors, TeamRole::Supervisor)] {
            for id in ids {
                let advisor = AdvisorId::parse(id).expect("a valid advisor id");
                admin.add_advisor(&advisor, &format!("{database}_{id}"), TEST_PASSWORD, role).await.expect("adding an advisor");
            }
        }
        PgTeam { settings, database }
    }

    /// The `[coordination]` section for advisor `id`'s config.
    pub fn section(&self, id: &str) -> String {
        format!(
            "[coordination]\nbackend = \"postgres\"\nhost = \"{}\"\nport = {}\ndatabase = \"{}\"\nuser = \"{}_{id}\"\ntls = false\n",
            self.settings.host, self.settings.port, self.database, self.database
        )
    }

    /// The administrator's connection to this team's database.
    pub async fn admin(&self) -> Admin {
        Admin::connect(&self.settings).await.expect("connecting as the administrator")
    }
}
