//! The refresh token lives in the OS keyring: a real Secret Service (gnome-keyring on a
//! private D-Bus session, `tests/keyring-session.sh`), the sign-in through the test
//! authorization server, `Engine::open` reading the token back from the keyring and
//! logging in to the OAuth2 Dovecot with it; and the token in no file Blendesk wrote.
//! Its own test binary: it points this process at the private bus.

use blendesk_engine::oauth;
use blendesk_testkit::oauth_server::browse;
use blendesk_testkit::{Desk, KeyringSession};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresh_token_is_kept_in_the_keyring_and_nowhere_else() {
    let session = KeyringSession::start();
    // The only test in this binary, before any thread reads the environment.
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &session.bus);
    std::env::remove_var(oauth::REFRESH_ENV);

    let desk = Desk::with_oauth("oa_keyring");
    let (user, host) = (desk.config.imap.username.clone(), desk.config.imap.host.clone());
    let section = desk.config.oauth.clone().unwrap();
    let u = user.clone();
    let grant = tokio::task::spawn_blocking(move || oauth::sign_in_blocking(&section, &u, browse)).await.unwrap().expect("signed in");
    let refresh = grant.refresh_token.expect("refresh token");
    let (u, h, t) = (user.clone(), host.clone(), refresh.clone());
    tokio::task::spawn_blocking(move || oauth::store_refresh_token(&u, &h, &t)).await.unwrap().expect("stored in the keyring");

    // Read back from the Secret Service, and the engine opens and logs in with it.
    let (u, h) = (user.clone(), host.clone());
    let (found, in_keyring) = tokio::task::spawn_blocking(move || oauth::refresh_token(&u, &h)).await.unwrap().expect("in the keyring");
    assert_eq!((found.as_str(), in_keyring), (refresh.as_str(), true));
    let engine = blendesk_engine::Engine::open(desk.config.clone()).await.expect("engine opens from the keyring");
    engine.test_connection().await.expect("logs in with the keyring's token");
    assert!(engine.sync_once().await.is_ok());
    drop(engine);

    // Nowhere in the config file, the database or its WAL.
    let mut checked = 0;
    for entry in std::fs::read_dir(desk.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(refresh.len()).any(|w| w == refresh.as_bytes()), "{} holds the refresh token", path.display());
        checked += 1;
    }
    assert!(checked >= 2, "config and database checked");
    // Without the keyring (no bus), a clear error naming the way out; no plaintext fallback.
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    let err = tokio::task::spawn_blocking(move || oauth::refresh_token(&user, &host)).await.unwrap().unwrap_err();
    assert!(err.to_string().contains(oauth::REFRESH_ENV), "{err}");
    drop(session);
}
