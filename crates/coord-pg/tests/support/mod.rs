//! The real PostgreSQL of `tests/pg-stack.sh` and an isolated team on it: a database of
//! its own (migrated) and login roles named `t<hex>_<advisor>`. A server that is not
//! reachable fails the test with what to do; nothing is skipped.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use blendesk_coord_pg::{Admin, AdvisorSession, PgSettings, TeamRole, Tls};
use blendesk_domain::advisor::AdvisorId;

/// The stack's settings: from the environment (`tests/pg-stack.sh start` prints them and
/// scripts/test.sh exports them), else from `tests/pg-stack.sh env`.
pub fn admin_settings() -> PgSettings {
    let from_script = || {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/pg-stack.sh");
        let out = Command::new(&script).arg("env").output().unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let script_env = std::env::var("BLENDESK_PG_PORT").is_err().then(from_script).unwrap_or_default();
    let get = |key: &str| {
        std::env::var(key)
            .ok()
            .or_else(|| script_env.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).map(str::to_owned))
            .unwrap_or_default()
    };
    let password = get("BLENDESK_PG_ADMIN_PASSWORD");
    assert!(
        !password.is_empty(),
        "no PostgreSQL administrator password: start the test database with `tests/pg-stack.sh start` (and export what it prints)"
    );
    PgSettings {
        host: get("BLENDESK_PG_HOST"),
        port: get("BLENDESK_PG_PORT").parse().expect("BLENDESK_PG_PORT is a port number"),
        database: get("BLENDESK_PG_DATABASE"),
        user: get("BLENDESK_PG_ADMIN_USER"),
        password,
        tls: Tls::Off,
    }
}

/// The stack's CA certificate (its server certificate names localhost and 127.0.0.1).
pub fn stack_ca() -> std::path::PathBuf {
    let ca = std::env::var("BLENDESK_PG_CA").unwrap_or_else(|_| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/pg-stack.sh");
        let out = Command::new(&script).arg("env").output().unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
        String::from_utf8_lossy(&out.stdout).lines().find_map(|l| l.strip_prefix("BLENDESK_PG_CA=")).unwrap_or_default().to_owned()
    });
    assert!(Path::new(&ca).is_file(), "no CA file {ca:?}: start the test database with `tests/pg-stack.sh start`");
    ca.into()
}

pub async fn admin(settings: &PgSettings) -> Admin {
    Admin::connect(settings).await.unwrap_or_else(|e| {
        panic!("the test PostgreSQL is not reachable ({e}): start it with `tests/pg-stack.sh start` and export what it prints")
    })
}

pub struct Member {
    pub id: AdvisorId,
    pub settings: PgSettings,
}

/// A team in a fresh database: advisors `a00…`, supervisors `s00…`.
pub struct Team {
    pub admin: Admin,
    pub advisors: Vec<Member>,
    pub supervisors: Vec<Member>,
}

impl Team {
    pub async fn new(advisors: usize, supervisors: usize) -> Team {
        let settings = admin_settings();
        let tag = format!("t{:08x}", rand::random::<u32>());
        admin(&settings).await.create_database(&tag).await.expect("creating the test database");
        let mut admin = admin(&settings.with_database(&tag)).await;
        admin.migrate().await.expect("migrating the test database");
        let mut team = Team { admin, advisors: Vec::new(), supervisors: Vec::new() };
        for (count, prefix, role) in [(advisors, "a", TeamRole::Advisor), (supervisors, "s", TeamRole::Supervisor)] {
            for i in 0..count {
                let id = AdvisorId::parse(&format!("{prefix}{i:02}")).unwrap();
                let login = format!("{tag}_{id}");
                let password = format!("{:016x}", rand::random::<u64>());
                team.admin.add_advisor(&id, &login, &password, role).await.expect("adding an advisor");
                let member = Member { id, settings: team.admin.settings().with_login(&login, &password) };
                match role {
                    TeamRole::Advisor => team.advisors.push(member),
                    TeamRole::Supervisor => team.supervisors.push(member),
                }
            }
        }
        team
    }

    /// The database as the administrator sees it (row-level security does not apply).
    pub async fn raw(&self) -> tokio_postgres::Client {
        raw_client(self.admin.settings()).await
    }
}

impl Member {
    pub async fn session(&self) -> AdvisorSession {
        AdvisorSession::connect(&self.settings, &self.id).await.unwrap_or_else(|e| panic!("{} connecting: {e}", self.id))
    }

    /// A plain connection under this member's login, for statements the API never makes.
    pub async fn raw(&self) -> tokio_postgres::Client {
        raw_client(&self.settings).await
    }
}

pub async fn raw_client(s: &PgSettings) -> tokio_postgres::Client {
    let mut config = tokio_postgres::Config::new();
    config.host(&s.host).port(s.port).dbname(&s.database).user(&s.user).password(&s.password);
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.expect("connecting");
    tokio::spawn(connection);
    client
}
