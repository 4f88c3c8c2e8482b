//! `blendesk coordination init|add-advisor`: the administrator's side of team mode on
//! PostgreSQL, on the database the config's `[coordination]` section names, logged in as
//! the database's owner (`--admin-user`, password from `BLENDESK_PG_ADMIN_PASSWORD`).
//! No engine, no mailbox: these only shape the database. (`migrate`, the supervisor's
//! move of a team's coordination, runs through the engine.)

use anyhow::{bail, Context, Result};
use blendesk_coord_pg::{Admin, TeamRole};
use blendesk_domain::advisor::AdvisorId;
use blendesk_engine::config::Config;
use blendesk_engine::coordination::CoordinationSection;

pub const ADMIN_PASSWORD_ENV: &str = "BLENDESK_PG_ADMIN_PASSWORD";
pub const NEW_PASSWORD_ENV: &str = "BLENDESK_PG_NEW_PASSWORD";

fn secret(env: &str, what: &str) -> Result<String> {
    match std::env::var(env) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => bail!("set {env} to {what} (passwords are never command-line arguments: they would show in the process list)"),
    }
}

async fn admin(config: &Config, admin_user: &str) -> Result<Admin> {
    let Some(CoordinationSection::Postgres(section)) = &config.coordination else {
        bail!("the configuration has no [coordination] section with backend = \"postgres\" (README: Team mode on PostgreSQL)");
    };
    let password = secret(ADMIN_PASSWORD_ENV, "the administrator's password")?;
    let settings = section.settings(&password).with_login(admin_user, &password);
    Admin::connect(&settings).await.with_context(|| format!("connecting to the team database as {admin_user}"))
}

/// Creates or upgrades the schema; prints the versions applied now.
pub async fn init(config: &Config, admin_user: &str) -> Result<()> {
    let mut admin = admin(config, admin_user).await?;
    let applied = admin.migrate().await.context("migrating the team database")?;
    if applied.is_empty() {
        println!("the team database's schema is up to date");
    } else {
        println!("applied schema versions {applied:?}");
    }
    Ok(())
}

/// Registers advisor `id` under login role `login` (created, or its password and role
/// changed when it exists).
pub async fn add_advisor(config: &Config, admin_user: &str, id: &str, login: &str, supervisor: bool) -> Result<()> {
    let advisor = AdvisorId::parse(id).map_err(|e| anyhow::anyhow!("advisor id {id:?}: {e}"))?;
    let password = secret(NEW_PASSWORD_ENV, "the new login role's password")?;
    let role = if supervisor { TeamRole::Supervisor } else { TeamRole::Advisor };
    admin(config, admin_user).await?.add_advisor(&advisor, login, &password, role).await.context("registering the advisor")?;
    println!("{advisor} logs in as {login}{}", if supervisor { " (supervisor)" } else { "" });
    Ok(())
}
