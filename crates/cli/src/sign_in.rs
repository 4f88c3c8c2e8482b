//! `blendesk sign-in`: the OAuth2 browser sign-in for a headless machine or a script,
//! with the engine's own flow (`oauth::sign_in_blocking`, the window's too): prints the
//! authorization URL for the advisor to open (on any browser that can reach this
//! machine's loopback redirect), waits for the redirect, keeps the refresh token in the
//! OS keyring and tries the IMAP login with it. The token is never printed or logged.

use anyhow::{Context, Result};
use blendesk_engine::config::{Config, ConfigError};
use blendesk_engine::{oauth, Engine, EngineError};
use std::path::Path;

pub async fn run(path: &Path) -> Result<()> {
    let config = Config::load(path).map_err(EngineError::from)?;
    let Some(section) = config.oauth.clone() else {
        let reason = "this account logs in with a password; `blendesk sign-in` needs an [oauth] section".to_owned();
        return Err(EngineError::from(ConfigError::Invalid { path: path.to_owned(), reason }).into());
    };
    let (user, host) = (config.imap.username.clone(), config.imap.host.clone());
    let hint = user.clone();
    let grant = tokio::task::spawn_blocking(move || {
        oauth::sign_in_blocking(&section, &hint, |url| {
            // stdout, one line of its own: a script reads the URL from it.
            println!("Open this address in a browser to sign in as {hint} (waiting up to {} s):", oauth::SIGN_IN_TIMEOUT.as_secs());
            println!("{url}");
            Ok(())
        })
    })
    .await
    .context("the sign-in task failed")?
    .map_err(EngineError::from)?;
    let refresh = grant.refresh_token.unwrap_or_default();
    let (u, h, t) = (user.clone(), host.clone(), refresh.clone());
    tokio::task::spawn_blocking(move || oauth::store_refresh_token(&u, &h, &t))
        .await
        .context("the keyring task failed")?
        .map_err(EngineError::from)
        .context("signed in, but the refresh token could not be kept (it is not printed: run this where a keyring is available)")?;
    println!("Signed in; the refresh token is in the OS keyring (service \"blendesk\", user \"{}\").", oauth::keyring_user(&user, &host));
    let engine = Engine::with_refresh_token(config, refresh, true)?;
    engine.test_connection().await.context("signed in, but the IMAP login with the new token failed")?;
    println!("IMAP login to {host} as {user} works.");
    Ok(())
}
