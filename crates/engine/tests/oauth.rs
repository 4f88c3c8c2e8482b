//! OAuth2 sign-in against the real stack: the OAuth2-only Dovecot (its oauth2 passdb
//! introspects every bearer token at `tests/oauth-server.py`) and that authorization
//! server. The sign-in is the engine's own (PKCE, loopback redirect); the "browser" only
//! follows the server's redirects. The server counts every request, so the tests see
//! how often the engine asked for tokens and how often Dovecot was shown one.

use blendesk_engine::errors::ErrorCode;
use blendesk_engine::events::{ConnectionState, Event};
use blendesk_engine::oauth;
use blendesk_engine::runtime::{Mode, OnTeamFailure, Runtime};
use blendesk_engine::EngineError;
use blendesk_testkit::oauth_server::{admin, browse, count};
use blendesk_testkit::{customer_mail, smtp_send, stack, wait_for_event, Customer, Desk};
use std::sync::Arc;
use std::time::Duration;

/// Sign in through the authorization server as the desk's user; the refresh token.
async fn sign_in(desk: &Desk) -> String {
    let section = desk.config.oauth.clone().expect("an [oauth] section");
    let user = desk.user.clone();
    let grant = tokio::task::spawn_blocking(move || oauth::sign_in_blocking(&section, &user, browse)).await.unwrap().expect("signed in");
    grant.refresh_token.expect("a refresh token")
}

/// End the user's IMAP sessions on the OAuth2 Dovecot (as a server restart would).
fn kick(user: &str) {
    let conf = stack().dir.join("dovecot-oauth.conf");
    let out = std::process::Command::new("doveadm").arg("-c").arg(&conf).args(["kick", user]).output().expect("doveadm");
    assert!(out.status.success(), "doveadm kick: {}", String::from_utf8_lossy(&out.stderr));
}

async fn send(customer: &Customer, desk: &Desk, subject: &str) -> String {
    let (id, raw) = customer_mail(&customer.address, &desk.address, subject, "hello?");
    smtp_send(&customer.address, &[&desk.address], &raw).await.expect("smtp");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_pkce_then_mail_is_mirrored_over_xoauth2() {
    let desk = Desk::with_oauth("oa_in");
    let customer = Customer::new("cust");
    let refresh = sign_in(&desk).await;
    assert_eq!(count(&desk.user, "authorize"), 1);
    assert_eq!(count(&desk.user, "code_grant"), 1, "one code exchanged (with its PKCE verifier)");
    let engine = blendesk_engine::Engine::with_refresh_token(desk.config.clone(), refresh, false).unwrap();
    send(&customer, &desk, "overoauth").await;
    blendesk_testkit::eventually("delivery and sync", Duration::from_secs(20), || async {
        engine.sync_once().await?;
        Ok(engine.store().search("overoauth", 10)?.iter().any(|h| h.subject == "overoauth").then_some(()))
    })
    .await
    .unwrap();
    assert!(count(&desk.user, "introspect_active") >= 1, "Dovecot checked the bearer token at the server");
    assert_eq!(count(&desk.user, "introspect_inactive"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauthbearer_logs_in_too() {
    let mut desk = Desk::with_oauth("oa_bearer");
    desk.config.oauth.as_mut().unwrap().mechanism = blendesk_domain::oauth::Mechanism::Oauthbearer;
    let refresh = sign_in(&desk).await;
    let engine = blendesk_engine::Engine::with_refresh_token(desk.config.clone(), refresh, false).unwrap();
    engine.test_connection().await.expect("OAUTHBEARER login");
    assert_eq!(count(&desk.user, "introspect_active"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_that_expires_mid_session_is_refreshed_and_mail_keeps_flowing() {
    let desk = Desk::with_oauth("oa_exp");
    let customer = Customer::new("cust");
    let refresh = sign_in(&desk).await;
    let engine = blendesk_engine::Engine::with_refresh_token(desk.config.clone(), refresh, false).unwrap();
    let mut events = engine.subscribe();
    let watcher = tokio::spawn({
        let e = engine.clone();
        async move { e.watch().await }
    });
    let first = send(&customer, &desk, "before expiry").await;
    wait_for_event(&mut events, Duration::from_secs(30), |e| matches!(e, Event::MessageArrived { message_id: Some(m), .. } if *m == first))
        .await;
    let oauth = engine.oauth().unwrap().clone();
    let before = oauth.refreshes();

    // The server expires the token early (the engine believes it has minutes left) and
    // the session ends, as when a server restarts: the watcher logs in again, is
    // refused, refreshes once and carries on.
    admin("expire", &desk.user, "").unwrap();
    kick(&desk.user);
    let second = send(&customer, &desk, "after expiry").await;
    wait_for_event(&mut events, Duration::from_secs(60), |e| {
        assert!(
            !matches!(e, Event::Connection { state: ConnectionState::SignInNeeded, .. }),
            "the advisor must not be asked to sign in: {e:?}"
        );
        matches!(e, Event::MessageArrived { message_id: Some(m), .. } if *m == second)
    })
    .await;
    assert_eq!(oauth.refreshes(), before + 1, "one refresh after the refused login");
    assert!(oauth.revoked().is_none());

    // Before expiry: with the engine's clock moved to the token's last seconds, the next
    // login refreshes first and Dovecot is never shown an expired token.
    let inactive = count(&desk.user, "introspect_inactive");
    let later = engine.now_ms() + 10 * 60 * 1000;
    engine.use_clock(Arc::new(blendesk_engine::clock::ManualClock::starting_at(later)));
    engine.test_connection().await.expect("login with a refreshed token");
    assert_eq!(oauth.refreshes(), before + 2, "refreshed before expiry");
    assert_eq!(count(&desk.user, "introspect_inactive"), inactive, "no refused login");
    engine.shutdown();
    watcher.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_grant_ends_in_a_clear_error_and_no_retry_loop() {
    let desk = Desk::with_oauth("oa_rev");
    let refresh = sign_in(&desk).await;
    let engine = blendesk_engine::Engine::with_refresh_token(desk.config.clone(), refresh, false).unwrap();
    let mut events = engine.subscribe();
    let watcher = tokio::spawn({
        let e = engine.clone();
        async move { e.watch().await }
    });
    wait_for_event(&mut events, Duration::from_secs(30), |e| matches!(e, Event::SyncFinished { .. })).await;

    admin("revoke", &desk.user, "").unwrap();
    kick(&desk.user);
    let detail = wait_for_event(&mut events, Duration::from_secs(60), |e| {
        matches!(e, Event::Connection { state: ConnectionState::SignInNeeded, .. })
    })
    .await;
    let Event::Connection { detail: Some(detail), .. } = detail else { panic!("no detail: {detail:?}") };
    assert!(detail.contains("sign in again") && detail.contains("revoked"), "{detail}");
    // The watcher stopped by itself: it does not wait to reconnect.
    tokio::time::timeout(Duration::from_secs(10), watcher).await.expect("the watcher stops").unwrap();

    let refresh_grants = count(&desk.user, "refresh_grant");
    let refused = count(&desk.user, "introspect_inactive");
    // Every later attempt fails at once, with the code the window localises, sending nothing.
    for _ in 0..5 {
        match engine.test_connection().await {
            Err(e @ EngineError::SignInRevoked(_)) => assert_eq!(e.code(), ErrorCode::SignInRevoked),
            other => panic!("expected SignInRevoked, got {other:?}"),
        }
    }
    assert_eq!(count(&desk.user, "refresh_grant"), refresh_grants, "no more token requests");
    assert_eq!(count(&desk.user, "introspect_inactive"), refused, "no more logins");
    assert!(refresh_grants <= 3 && refused <= 2, "bounded: {refresh_grants} refreshes, {refused} refused logins");
}

/// After a revocation, the advisor signs in again (a new grant) and the runtime restarts:
/// the watcher that stopped runs again and new mail is mirrored over the new grant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_again_after_a_revocation_restarts_the_tasks() {
    let desk = Desk::with_oauth("oa_again");
    let customer = Customer::new("cust_again");
    let refresh = sign_in(&desk).await;
    let engine = blendesk_engine::Engine::with_refresh_token(desk.config.clone(), refresh.clone(), false).unwrap();
    let mut events = engine.subscribe();
    let runtime = Runtime::start(engine.clone(), Mode::Solo, OnTeamFailure::ContinueSolo).await.unwrap();
    wait_for_event(&mut events, Duration::from_secs(30), |e| matches!(e, Event::SyncFinished { .. })).await;

    admin("revoke", &desk.user, "").unwrap();
    kick(&desk.user);
    wait_for_event(&mut events, Duration::from_secs(60), |e| matches!(e, Event::Connection { state: ConnectionState::SignInNeeded, .. }))
        .await;
    assert!(matches!(engine.test_connection().await, Err(EngineError::SignInRevoked(_))));

    let again = sign_in(&desk).await;
    assert_ne!(again, refresh, "a new grant");
    engine.sign_in_again(again).await.unwrap();
    let runtime = runtime.restart(Duration::from_secs(5)).await.expect("restarted");
    assert!(runtime.tasks().contains(&blendesk_engine::runtime::Task::Watch), "{:?}", runtime.tasks());
    wait_for_event(
        &mut events,
        Duration::from_secs(30),
        |e| matches!(e, Event::Connection { state: ConnectionState::Online, folder, .. } if folder == "INBOX"),
    )
    .await;
    send(&customer, &desk, "After signing in again").await;
    wait_for_event(
        &mut events,
        Duration::from_secs(30),
        |e| matches!(e, Event::MessageArrived { subject, .. } if subject == "After signing in again"),
    )
    .await;
    assert!(engine.oauth().unwrap().revoked().is_none());
    let stopped = runtime.shutdown(Duration::from_secs(5)).await;
    assert!(stopped.aborted.is_empty(), "{stopped:?}");

    // A password account has no sign-in to renew.
    let plain_desk = Desk::new("oa_again_pw");
    let plain = plain_desk.engine();
    assert!(matches!(plain.sign_in_again("x".into()).await, Err(EngineError::SignIn(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_consent_and_bad_config_are_clear_errors() {
    let desk = Desk::with_oauth("oa_deny");
    admin("deny", &desk.user, "").unwrap();
    let section = desk.config.oauth.clone().unwrap();
    let user = desk.user.clone();
    let err = tokio::task::spawn_blocking(move || oauth::sign_in_blocking(&section, &user, browse)).await.unwrap().unwrap_err();
    assert!(err.to_string().contains("cancelled"), "{err}");
    // A refresh token the server never issued: a revoked grant, not a panic or a loop.
    let engine = blendesk_engine::Engine::with_refresh_token(desk.config.clone(), "made-up".into(), false).unwrap();
    assert!(matches!(engine.test_connection().await, Err(EngineError::SignInRevoked(_))));
    assert_eq!(count(&desk.user, "introspect_active") + count(&desk.user, "introspect_inactive"), 0, "Dovecot was never asked");
}

/// Mail goes out as Microsoft 365 and Gmail take it: STARTTLS to the submission server,
/// whose certificate is signed by the team's own CA (the config's `ca_file`), then SASL
/// XOAUTH2 with the same bearer token as IMAP (itself over STARTTLS with that CA); the
/// reply reaches the customer through the server's relay. Without the CA, the certificate
/// is refused by name and nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_go_out_by_smtp_xoauth2_after_starttls_trusting_the_teams_ca() {
    let desk = Desk::with_oauth_tls("oa_smtp");
    let customer = Customer::new("cust");
    let refresh = sign_in(&desk).await;
    let engine = blendesk_engine::Engine::with_refresh_token(desk.config.clone(), refresh.clone(), false).unwrap();
    let mid = send(&customer, &desk, "needs an answer").await;
    let id = blendesk_testkit::eventually("the question mirrored over IMAP STARTTLS", Duration::from_secs(20), || async {
        engine.sync_once().await?;
        let found = engine.store().list_messages("INBOX", 50)?.into_iter().find(|m| m.message_id.as_deref() == Some(mid.as_str()));
        Ok(found.map(|m| m.id))
    })
    .await
    .unwrap();
    let before = count(&desk.user, "introspect_active");
    engine.queue_reply(id, "Here is your answer.").unwrap();
    let r = engine.flush_outbox(Duration::from_secs(30)).await.unwrap();
    assert_eq!((r.sent, r.failed, r.retrying), (1, 0, 0), "{r:?}");
    assert!(count(&desk.user, "introspect_active") > before, "the submission server checked the bearer token");
    blendesk_testkit::eventually("the reply in the customer's mailbox", Duration::from_secs(20), || async {
        Ok((blendesk_testkit::count_messages(&customer.user, "INBOX").await? == 1).then_some(()))
    })
    .await
    .unwrap();

    // The same server without the team's CA: refused as an unknown issuer, nothing sent.
    let mut config = desk.config.clone();
    config.smtp.ca_file = None;
    config.store.path = desk.dir.path().join("no-ca.db");
    let untrusting = blendesk_engine::Engine::with_refresh_token(config, refresh, false).unwrap();
    let id = blendesk_testkit::eventually("mirrored again", Duration::from_secs(20), || async {
        untrusting.sync_once().await?;
        let found = untrusting.store().list_messages("INBOX", 50)?.into_iter().find(|m| m.message_id.as_deref() == Some(mid.as_str()));
        Ok(found.map(|m| m.id))
    })
    .await
    .unwrap();
    untrusting.queue_reply(id, "This one cannot leave.").unwrap();
    let r = untrusting.flush_outbox(Duration::from_secs(5)).await.unwrap();
    assert_eq!(r.sent, 0, "{r:?}");
    let item = untrusting.store().outbox_list(10).unwrap().pop().expect("the reply stays in the outbox");
    let why = item.last_error.unwrap_or_default();
    assert!(why.to_lowercase().contains("certificate"), "the refusal names the certificate: {why}");
    assert_eq!(blendesk_testkit::count_messages(&customer.user, "INBOX").await.unwrap(), 1);
}
