//! Team mode where the mailbox cannot coordinate: the mail on the stack's second Dovecot,
//! which offers no CONDSTORE and refuses every custom keyword, and claims, duties, presence and the policy in the team's
//! PostgreSQL (`[coordination] backend = "postgres"`). Twenty apps (each its own advisor,
//! login role and database connection, their real watch and claim loops) race for 200
//! emails from 200 customers. Checked on the database and on the mailbox:
//! - every email has exactly one owner in the database, and it is the app that reported
//!   the claim (no app reports an email the database gives to another);
//! - caps held, and the advisor on a call claims nothing;
//! - every app's mirror shows the database's owners (the overlay of `coordination.rs`);
//! - no keyword was written to the mailbox, and no Blendesk folder was made in it;
//! - each app holds two IMAP connections (its queue's IDLE and the chores'), not three;
//! - the policy is refused to an advisor's role by the database itself.

use blendesk_coord_pg::AdvisorSession;
use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::blending::{AdvisorEvent, ManualState, Policy};
use blendesk_domain::claim::owners;
use blendesk_engine::config::Config;
use blendesk_engine::events::Event;
use blendesk_engine::{Engine, EngineError};
use blendesk_mail::imap;
use blendesk_testkit::pg::PgTeam;
use blendesk_testkit::{eventually, login, stack, Desk, TEST_PASSWORD};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

const APPS: usize = 20;
const EMAILS: u32 = 200;
const CAP: u32 = 15;
/// This one is on a call the whole time.
const ON_CALL: &str = "a19";

fn policy() -> Policy {
    let json = format!(r#"{{"version": 1, "default_cap": {CAP}, "wrap_up_seconds": 0, "idle_to_away_seconds": 0}}"#);
    Policy::parse(json.as_bytes()).expect("test policy is valid")
}

/// An app of advisor `id` on the no-CONDSTORE Dovecot, coordinated by `team`'s database.
fn engine_for(desk: &Desk, team: &PgTeam, id: &str, nocondstore_port: u16) -> Arc<Engine> {
    let path = desk.config_for(id, id);
    let text =
        std::fs::read_to_string(&path).unwrap().replace(&format!("port = {}", stack().imap_port), &format!("port = {nocondstore_port}"))
            + &team.section(id);
    let config = Config::parse(&text).expect("config with a coordination section");
    Engine::with_passwords(config, TEST_PASSWORD.into(), None).unwrap()
}

fn run(engine: &Arc<Engine>) -> Vec<tokio::task::JoinHandle<()>> {
    let (w, c) = (engine.clone(), engine.clone());
    vec![
        tokio::spawn(async move { w.watch_queues().await }),
        tokio::spawn(async move {
            c.run_claims().await.expect("the claim loop runs without CONDSTORE when the database coordinates");
        }),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_apps_on_a_server_without_condstore_claim_through_postgresql_and_write_no_keyword() {
    // Every app's login role has the test password.
    std::env::set_var("BLENDESK_PG_PASSWORD", TEST_PASSWORD);
    let nocondstore: u16 = blendesk_testkit::nocondstore_port();
    let desk = Desk::new("pgteam");
    let ids: Vec<String> = (0..APPS).map(|i| format!("a{i:02}")).collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let team = PgTeam::new(&id_refs, &["s00"]).await;

    let mut s = login(&desk.user).await.unwrap();
    for i in 0..EMAILS {
        let raw = format!(
            "From: Customer {i} <c{i}@example.com>\r\nTo: {}\r\nSubject: order {i}\r\nMessage-ID: <pg{i}@example.com>\r\n\r\nWhere is order {i}?\r\n",
            desk.address
        );
        imap::append(&mut s, "INBOX", "()", raw.as_bytes()).await.unwrap();
    }
    imap::logout(s).await;
    // The server the apps use keeps no keyword (as Microsoft 365): a STORE of one is refused.
    let endpoint = imap::Endpoint {
        host: stack().host.clone(),
        port: nocondstore,
        security: blendesk_domain::transport::Security::Plain,
        username: desk.user.clone(),
        ca_pem: None,
    };
    let mut s = imap::connect(&endpoint, TEST_PASSWORD).await.unwrap().session;
    imap::select(&mut s, "INBOX", false).await.unwrap();
    assert!(imap::store(&mut s, 1, "+FLAGS.SILENT ($bd_probe)").await.is_err(), "the no-CONDSTORE Dovecot stores keywords");
    imap::logout(s).await;

    let supervisor = engine_for(&desk, &team, "s00", nocondstore);
    supervisor.publish_policy(&policy()).await.expect("a supervisor publishes the policy");
    // An advisor's policy is refused by the database, whatever the app would allow.
    let advisor = engine_for(&desk, &team, "a00", nocondstore);
    match advisor.publish_policy(&policy()).await {
        Err(EngineError::NotPermitted { action, .. }) => assert_eq!(action, "change the team policy"),
        other => panic!("an advisor published the policy: {other:?}"),
    }
    drop(advisor);

    let apps: Vec<Arc<Engine>> = ids.iter().map(|id| engine_for(&desk, &team, id, nocondstore)).collect();
    let mut claimed_events = Vec::new();
    let mut tasks = Vec::new();
    for (id, app) in ids.iter().zip(&apps) {
        if id == ON_CALL {
            app.presence_event(AdvisorEvent::CallStart);
        } else {
            app.presence_event(AdvisorEvent::Set(ManualState::Available));
        }
        claimed_events.push(app.subscribe());
        tasks.extend(run(app));
    }

    let db = AdvisorSession::connect(
        &team.settings.with_login(&format!("{}_s00", team.database), TEST_PASSWORD),
        &AdvisorId::parse("s00").unwrap(),
    )
    .await
    .unwrap();
    let owners_in_db = eventually("every email owned in the database", Duration::from_secs(120), || async {
        let owners = db.owners().await?;
        Ok((owners.len() == EMAILS as usize).then_some(owners))
    })
    .await
    .unwrap();

    // Each owner's count within the cap; the advisor on a call owns nothing.
    let mut per_owner: HashMap<String, u32> = HashMap::new();
    for (_, owner) in &owners_in_db {
        *per_owner.entry(owner.to_string()).or_default() += 1;
    }
    println!("owned per advisor: {per_owner:?}");
    assert!(per_owner.values().all(|n| *n <= CAP), "a cap was exceeded: {per_owner:?}");
    assert!(!per_owner.contains_key(ON_CALL), "{ON_CALL} claimed during a call");

    // Every app's mirror agrees with the database (the feed's overlay).
    let uid_owner: HashMap<u32, String> = owners_in_db
        .iter()
        .map(|(key, owner)| (blendesk_engine::coordination::parse_email_key(key).expect("keys this build wrote").2, owner.to_string()))
        .collect();
    let mirrored = |app: &Arc<Engine>| -> HashMap<u32, String> {
        let heads = app.store().queue_heads(&["INBOX".to_string()]).unwrap();
        heads.iter().filter_map(|h| Some((h.uid, owners(&h.flags).next()?.to_owned()))).collect()
    };
    for (id, app) in ids.iter().zip(&apps) {
        let converged = eventually("the mirror shows the database's owners", Duration::from_secs(30), || async {
            Ok((mirrored(app) == uid_owner).then_some(()))
        })
        .await;
        if converged.is_err() {
            let seen = mirrored(app);
            let wrong: Vec<_> = uid_owner.iter().filter(|(u, o)| seen.get(u) != Some(o)).take(5).collect();
            panic!("{id}'s mirror differs from the database ({} owners mirrored): e.g. {wrong:?}", seen.len());
        }
    }

    // An app needs only the connections its mail needs: one IDLE per queue and the
    // chores' (Sent, the event log) — the claim loop holds none.
    for (id, app) in ids.iter().zip(&apps) {
        eventually("two IMAP connections per app", Duration::from_secs(30), || async { Ok((app.imap_connections() == 2).then_some(())) })
            .await
            .unwrap_or_else(|e| panic!("{id}: {e} ({} open)", app.imap_connections()));
    }

    for app in &apps {
        app.shutdown();
    }
    for t in tasks {
        t.await.unwrap();
    }
    // What each app reported claiming is what the database says it owns.
    let mut reported: HashMap<u32, String> = HashMap::new();
    for (id, rx) in ids.iter().zip(claimed_events.iter_mut()) {
        while let Ok(e) = rx.try_recv() {
            if let Event::Claimed { uid, .. } = e {
                if let Some(other) = reported.insert(uid, id.clone()) {
                    panic!("UID {uid} reported claimed by {other} and {id}");
                }
            }
        }
    }
    assert_eq!(reported, uid_owner, "the apps' reported claims are the database's owners");

    // The mailbox carried only mail: no keyword, no team folder.
    let mut s = login(&desk.user).await.unwrap();
    imap::select(&mut s, "INBOX", true).await.unwrap();
    let flags = imap::fetch_flags(&mut s, None).await.unwrap();
    assert_eq!(flags.len(), EMAILS as usize);
    for (uid, f, _) in &flags {
        assert!(f.iter().all(|f| f.starts_with('\\')), "UID {uid} has a keyword: {f:?}");
    }
    let team_folders = imap::list_children(&mut s, "Blendesk").await.unwrap_or_default();
    assert!(!team_folders.iter().any(|f| f.contains("Presence") || f.contains("Duties") || f.contains("Policy")), "{team_folders:?}");
    imap::logout(s).await;
}

/// What an advisor and a supervisor do by hand, on the database backend: a transfer, a
/// merge, a resolve and a release each land in the database (owners, token marks,
/// `$Resolved`, the release record), show in the apps' mirrors, and write no keyword.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_merges_resolves_and_releases_go_to_the_database() {
    std::env::set_var("BLENDESK_PG_PASSWORD", TEST_PASSWORD);
    let nocondstore = blendesk_testkit::nocondstore_port();
    let desk = Desk::new("pgacts");
    let team = PgTeam::new(&["a1", "a2"], &["s00"]).await;
    let mut s = login(&desk.user).await.unwrap();
    for c in 1..=4 {
        let raw = format!(
            "From: <c{c}@example.com>\r\nTo: {}\r\nSubject: case {c}\r\nMessage-ID: <act{c}@example.com>\r\n\r\nhelp {c}\r\n",
            desk.address
        );
        imap::append(&mut s, "INBOX", "()", raw.as_bytes()).await.unwrap();
    }
    imap::logout(s).await;
    let supervisor = engine_for(&desk, &team, "s00", nocondstore);
    let policy = r#"{"version": 1, "default_cap": 10, "wrap_up_seconds": 0, "idle_to_away_seconds": 0, "supervisors": ["s00"]}"#;
    supervisor.publish_policy(&Policy::parse(policy.as_bytes()).unwrap()).await.unwrap();
    let a1 = engine_for(&desk, &team, "a1", nocondstore);
    a1.presence_event(AdvisorEvent::Set(ManualState::Available));
    let tasks = run(&a1);
    let db = AdvisorSession::connect(
        &team.settings.with_login(&format!("{}_s00", team.database), TEST_PASSWORD),
        &AdvisorId::parse("s00").unwrap(),
    )
    .await
    .unwrap();
    eventually("a1 owns the four", Duration::from_secs(60), || async { Ok((db.owners().await?.len() == 4).then_some(())) }).await.unwrap();
    let key_of = |c: u32| -> String {
        let h = a1
            .store()
            .queue_heads(&["INBOX".to_string()])
            .unwrap()
            .iter()
            .find(|h| {
                h.message_id.as_deref() == Some(&format!("act{c}@example.com"))
                    || h.message_id.as_deref() == Some(&format!("<act{c}@example.com>"))
            })
            .cloned()
            .expect("mirrored");
        blendesk_engine::coordination::email_key(&h.folder, h.uidvalidity, h.uid)
    };

    // A supervisor's transfer: the database's owner moves.
    // The supervisor's app runs no claim loop (so no feed): the transfer reads the
    // database's owners itself.
    supervisor.sync_once().await.unwrap();
    let moved = supervisor.transfer("c1@example.com", &AdvisorId::parse("a2").unwrap()).await.unwrap();
    assert_eq!(moved.moved, 1);
    assert_eq!(db.owner_of(&key_of(1)).await.unwrap().map(|(o, _)| o.to_string()).as_deref(), Some("a2"));

    // A merge: one token spelled in marks on both conversations' emails.
    let merged = a1.merge_conversations("c4@example.com", "c3@example.com").await.unwrap();
    assert_eq!(merged.changed, 2, "{merged:?}");
    let (m3, m4) = (db.email_state(&key_of(3)).await.unwrap().marks, db.email_state(&key_of(4)).await.unwrap().marks);
    assert!(!m3.is_empty() && m3 == m4, "token marks {m3:?} / {m4:?}");
    let keys = a1.conversation_keys().unwrap();
    let ids: Vec<i64> = a1.store().queue_heads(&["INBOX".to_string()]).unwrap().iter().map(|h| h.id).collect();
    let key_set: std::collections::HashSet<&String> = ids.iter().filter_map(|id| keys.get(id)).collect();
    assert_eq!(key_set.len(), 3, "c1, c2 and the merged c3+c4: {keys:?}");

    // A resolve closes the merged conversation: $Resolved on both of its emails.
    let c3_id = a1.store().queue_heads(&["INBOX".to_string()]).unwrap().iter().find(|h| h.subject == "case 3").unwrap().id;
    assert_eq!(a1.resolve_conversation(c3_id).await.unwrap(), 2);
    for c in [3, 4] {
        assert!(db.email_state(&key_of(c)).await.unwrap().marks.iter().any(|m| m == "$Resolved"), "c{c} resolved in the database");
    }

    // A release: nobody owns it, and the database records who gave it back.
    let released = a1.release("c2@example.com").await.unwrap();
    assert_eq!(released.moved, 1);
    let state = db.email_state(&key_of(2)).await.unwrap();
    assert!(state.declined.iter().any(|a| a.as_str() == "a1"), "{state:?}");
    // a1's own app does not take it back (it holds the declined mark in its mirror).
    let declined_in_mirror = a1
        .store()
        .queue_heads(&["INBOX".to_string()])
        .unwrap()
        .iter()
        .any(|h| h.subject == "case 2" && h.flags.iter().any(|f| f == "$bd_declined_a1"));
    assert!(declined_in_mirror);

    a1.shutdown();
    for t in tasks {
        t.await.unwrap();
    }
    let mut s = login(&desk.user).await.unwrap();
    imap::select(&mut s, "INBOX", true).await.unwrap();
    for (uid, f, _) in imap::fetch_flags(&mut s, None).await.unwrap() {
        assert!(f.iter().all(|f| f.starts_with('\\')), "UID {uid} has a keyword: {f:?}");
    }
    imap::logout(s).await;
}

/// Knowledge, usage and templates on the database backend: a supervisor publishes an
/// article and a template and approves the template; an advisor's app mirrors both (the
/// approval included), its use of the article counts for the supervisor's app, and the
/// database refuses an advisor's article. Nothing goes to the mailbox's Blendesk folders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knowledge_and_templates_live_in_the_database() {
    std::env::set_var("BLENDESK_PG_PASSWORD", TEST_PASSWORD);
    let nocondstore = blendesk_testkit::nocondstore_port();
    let desk = Desk::new("pgdocs");
    let team = PgTeam::new(&["a1"], &["s00"]).await;
    let supervisor = engine_for(&desk, &team, "s00", nocondstore);
    let policy = r#"{"version": 1, "supervisors": ["s00"]}"#;
    supervisor.publish_policy(&Policy::parse(policy.as_bytes()).unwrap()).await.unwrap();
    let article = supervisor
        .publish_article(None, "Returns within 30 days", &["returns".into()], "Send the parcel back within 30 days.")
        .await
        .unwrap();
    supervisor.publish_template("refund", "INBOX", "en", "Your refund is on its way.", false).await.unwrap();
    supervisor.approve_template("refund").await.unwrap();

    let a1 = engine_for(&desk, &team, "a1", nocondstore);
    a1.refresh_shared_docs().await.unwrap();
    a1.load_policy().await.unwrap();
    let articles = a1.knowledge_articles().unwrap();
    assert_eq!(articles.iter().map(|a| a.title.as_str()).collect::<Vec<_>>(), ["Returns within 30 days"]);
    let templates = a1.templates(false).unwrap();
    assert!(templates.iter().any(|t| t.name == "refund"), "the approved template is offered: {templates:?}");

    assert_eq!(a1.mark_article_used(&article).await.unwrap(), 1);
    supervisor.refresh_shared_docs().await.unwrap();
    assert_eq!(supervisor.knowledge_article(&article).unwrap().map(|a| a.uses), Some(1));

    match a1.publish_article(None, "Mine", &[], "An advisor's article.").await {
        Err(EngineError::Policy(_) | EngineError::NotPermitted { .. }) => {}
        other => panic!("an advisor published an article: {other:?}"),
    }

    // With its change feed running, a1's periodic refresh reads the database only when
    // the feed announces a document or approval; a new approved template still shows.
    let mut tasks = run(&a1);
    let docs = a1.clone();
    tasks.push(tokio::spawn(async move { docs.run_shared_docs().await }));
    supervisor.publish_template("late", "INBOX", "en", "Your parcel is late; here is why.", false).await.unwrap();
    supervisor.approve_template("late").await.unwrap();
    eventually("a1 offers the newly approved template", Duration::from_secs(30), || async {
        Ok(a1.templates(false)?.iter().any(|t| t.name == "late").then_some(()))
    })
    .await
    .unwrap();
    a1.shutdown();
    for t in tasks {
        t.await.unwrap();
    }

    let mut s = login(&desk.user).await.unwrap();
    let folders = imap::list_children(&mut s, "Blendesk").await.unwrap_or_default();
    assert!(!folders.iter().any(|f| f.contains("Knowledge") || f.contains("Templates") || f.contains("Usage")), "{folders:?}");
    imap::logout(s).await;
}

/// The team's event log on the database backend: what one app records reaches another
/// app's history once (read again, nothing is added twice), and no Blendesk/Events folder
/// appears in the mailbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_log_lives_in_the_database() {
    std::env::set_var("BLENDESK_PG_PASSWORD", TEST_PASSWORD);
    let nocondstore = blendesk_testkit::nocondstore_port();
    let desk = Desk::new("pgevents");
    let team = PgTeam::new(&["a1", "a2"], &[]).await;
    let (a1, a2) = (engine_for(&desk, &team, "a1", nocondstore), engine_for(&desk, &team, "a2", nocondstore));
    a1.presence_event(AdvisorEvent::Set(ManualState::Available));
    a1.presence_event(AdvisorEvent::Set(ManualState::Away));
    let (sent, _) = a1.sync_activity().await.unwrap();
    assert!(sent >= 2, "a1's state changes recorded: {sent}");
    let (_, read) = a2.sync_activity().await.unwrap();
    assert!(read >= sent, "a2 read {read} of a1's {sent}");
    let from_a1 = a2.team_activity(0, i64::MAX).unwrap().into_iter().filter(|e| e.advisor == "a1").count();
    assert_eq!(from_a1, sent);
    let (_, again) = a2.sync_activity().await.unwrap();
    assert_eq!(again, 0, "read again: nothing twice");
    assert_eq!(a2.team_activity(0, i64::MAX).unwrap().into_iter().filter(|e| e.advisor == "a1").count(), sent);

    let mut s = login(&desk.user).await.unwrap();
    let folders = imap::list_children(&mut s, "Blendesk").await.unwrap_or_default();
    assert!(!folders.iter().any(|f| f.contains("Events")), "{folders:?}");
    imap::logout(s).await;
}
