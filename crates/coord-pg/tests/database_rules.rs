//! Who may write what is the database's job: row-level security and grants refuse an
//! advisor's policy, claims under another's name and another's presence (SQLSTATE
//! 42501). Also: the change feed, the idempotent import, migrations.

mod support;

use std::time::Duration;

use blendesk_coord_pg::{AdvisorSession, Change, Claim, CoordError, DocumentKind, PgSettings, Tls, SCHEMA_VERSION};
use blendesk_domain::blending::policy::Policy;
use support::Team;

fn refused(result: Result<impl std::fmt::Debug, CoordError>) -> String {
    match result {
        Err(e @ CoordError::NotPermitted { .. }) => {
            assert_eq!(e.sqlstate(), Some("42501"));
            e.to_string()
        }
        other => panic!("expected the database to refuse (42501), got {other:?}"),
    }
}

/// The SQLSTATE of a raw statement's error.
fn sqlstate(e: tokio_postgres::Error) -> String {
    e.code().map(|c| c.code().to_owned()).unwrap_or_else(|| panic!("not a database error: {e}"))
}

#[tokio::test]
async fn only_supervisors_publish_the_policy() {
    let team = Team::new(1, 1).await;
    let (alice, sam) = (&team.advisors[0], &team.supervisors[0]);
    let (a, s) = (alice.session().await, sam.session().await);
    let mut policy = Policy { default_cap: 4, ..Policy::default() };

    let message = refused(a.publish_policy(&policy, &alice.id).await);
    assert!(message.contains("row-level security"), "{message}");
    // Signing with the supervisor's name does not help an advisor.
    refused(a.publish_policy(&policy, &sam.id).await);
    // Nor does a supervisor sign for someone else.
    refused(s.publish_policy(&policy, &alice.id).await);
    assert_eq!(a.latest_policy().await.unwrap(), None, "nothing was written");

    let v1 = s.publish_policy(&policy, &sam.id).await.expect("a supervisor publishes");
    policy.default_cap = 6;
    let v2 = s.publish_policy(&policy, &sam.id).await.expect("a supervisor publishes again");
    assert!(v2 > v1);
    let latest = a.latest_policy().await.unwrap().expect("advisors read the policy");
    assert_eq!((latest.version, latest.policy.default_cap, latest.published_by), (v2, 6, sam.id.clone()));

    // Versions are never edited: not by advisors, not by supervisors.
    for member in [alice, sam] {
        let raw = member.raw().await;
        let e = raw.execute("UPDATE blendesk.policy SET document = '{}'", &[]).await.unwrap_err();
        assert_eq!(sqlstate(e), "42501", "{} updated the policy", member.id);
        let e = raw.execute("DELETE FROM blendesk.policy", &[]).await.unwrap_err();
        assert_eq!(sqlstate(e), "42501", "{} deleted the policy", member.id);
    }
    // An advisor's raw INSERT is refused by row-level security too.
    let e = alice
        .raw()
        .await
        .execute("INSERT INTO blendesk.policy (document, published_by) VALUES ('{\"version\":1}', $1)", &[&alice.id.as_str()])
        .await
        .unwrap_err();
    assert_eq!(sqlstate(e), "42501");
    assert_eq!(a.latest_policy().await.unwrap().unwrap().version, v2);
}

#[tokio::test]
async fn advisors_write_only_under_their_own_name() {
    let team = Team::new(2, 1).await;
    let (alice, bob, sam) = (&team.advisors[0], &team.advisors[1], &team.supervisors[0]);
    let (a, b, s) = (alice.session().await, bob.session().await, sam.session().await);

    refused(a.claim("<m1@x>", &bob.id).await);
    assert_eq!(a.owner_of("<m1@x>").await.unwrap(), None, "the refused claim wrote nothing");
    let Claim::Claimed { version } = a.claim("<m1@x>", &alice.id).await.unwrap() else { panic!("alice claims m1") };
    // Claiming an email someone owns under one's own name is "taken", not an error.
    assert_eq!(b.claim("<m1@x>", &bob.id).await.unwrap(), Claim::Taken { owner: alice.id.clone(), version });
    // A claim under another's name is refused even when the email is taken.
    refused(b.claim("<m1@x>", &alice.id).await);

    // Bob can neither move nor release alice's email; nothing changes.
    assert_eq!(b.transfer("<m1@x>", &alice.id, &bob.id).await.unwrap(), None);
    assert!(!b.release("<m1@x>", &alice.id).await.unwrap());
    let e = bob.raw().await.execute("UPDATE blendesk.claims SET owner = $1", &[&bob.id.as_str()]).await.unwrap();
    assert_eq!(e, 0, "row-level security hides others' claims from UPDATE");
    assert_eq!(a.owner_of("<m1@x>").await.unwrap().map(|o| o.0), Some(alice.id.clone()));

    // The owner transfers to bob (a new, higher version); bob releases and has declined it.
    let moved = a.transfer("<m1@x>", &alice.id, &bob.id).await.unwrap().expect("the owner transfers");
    assert!(moved > version);
    assert!(b.release("<m1@x>", &bob.id).await.unwrap());
    assert!(b.declined("<m1@x>", &bob.id).await.unwrap());
    assert!(!b.declined("<m1@x>", &alice.id).await.unwrap());
    assert_eq!(a.owner_of("<m1@x>").await.unwrap(), None);
    // Released, it can be claimed again, with a higher version still.
    let Claim::Claimed { version: again } = a.claim("<m1@x>", &alice.id).await.unwrap() else { panic!("claim again") };
    assert!(again > moved);
    // A transfer to a name the team does not have fails on the foreign key, clearly.
    match a.transfer("<m1@x>", &alice.id, &blendesk_domain::advisor::AdvisorId::parse("zoe").unwrap()).await {
        Err(CoordError::UnknownAdvisor { name, .. }) => assert_eq!(name, "zoe"),
        other => panic!("expected UnknownAdvisor, got {other:?}"),
    }
    // A supervisor may move anyone's email.
    assert!(s.transfer("<m1@x>", &alice.id, &bob.id).await.unwrap().is_some());

    // Presence: one's own row only.
    a.heartbeat(&alice.id, "available", 2).await.unwrap();
    refused(b.heartbeat(&alice.id, "away", 0).await);
    let board = s.presence().await.unwrap();
    assert_eq!(board.len(), 1);
    assert_eq!((board[0].advisor.as_str(), board[0].state.as_str(), board[0].load), (alice.id.as_str(), "available", 2));
    assert!((0..60_000).contains(&board[0].age_ms), "age by the server's clock: {}", board[0].age_ms);
    let e = bob.raw().await.execute("UPDATE blendesk.presence SET state = 'away'", &[]).await.unwrap();
    assert_eq!(e, 0, "bob cannot touch alice's presence row");

    // Nobody chooses their own version or heartbeat time: the server stamps them.
    for statement in [
        "UPDATE blendesk.claims SET version = 1",
        "UPDATE blendesk.claims SET email_key = '<other@x>'",
        "INSERT INTO blendesk.claims (email_key, owner, version) VALUES ('<n@x>', 'a00', 1)",
        "UPDATE blendesk.presence SET heartbeat = now() + interval '1 day'",
    ] {
        let e = alice.raw().await.execute(statement, &[]).await.unwrap_err();
        assert_eq!(sqlstate(e), "42501", "{statement}");
    }

    // Duties: one's own name only.
    refused(a.take_duty("ack", "<c1@x>", &bob.id).await);

    // Bad input: clear errors, no statement sent.
    assert!(matches!(a.claim("", &alice.id).await, Err(CoordError::Invalid { .. })));
    assert!(matches!(a.claim(&"k".repeat(600), &alice.id).await, Err(CoordError::Invalid { .. })));
    assert!(matches!(a.heartbeat(&alice.id, "On Call", 0).await, Err(CoordError::Invalid { .. })));
}

#[tokio::test]
async fn events_are_recorded_once_and_never_changed() {
    let team = Team::new(2, 0).await;
    let (alice, bob) = (&team.advisors[0], &team.advisors[1]);
    let a = alice.session().await;
    let body = serde_json::json!({"email": "<m1@x>"});
    assert!(a.record_event("ev-1", "claimed", &alice.id, 1_700_000_000_000, &body).await.unwrap());
    assert!(!a.record_event("ev-1", "claimed", &alice.id, 1_700_000_000_000, &body).await.unwrap(), "a retry is a no-op");
    assert_eq!(a.event_count().await.unwrap(), 1);
    refused(bob.session().await.record_event("ev-2", "claimed", &alice.id, 0, &body).await);
    for statement in ["UPDATE blendesk.events SET kind = 'x'", "DELETE FROM blendesk.events"] {
        let e = alice.raw().await.execute(statement, &[]).await.unwrap_err();
        assert_eq!(sqlstate(e), "42501", "{statement}");
        // Not even the table's owner.
        let e = team.raw().await.execute(statement, &[]).await.unwrap_err();
        assert_eq!(sqlstate(e), "42501", "{statement} as the owner");
    }
}

/// Waits for the feed's next change matching `want`, up to a deadline (other changes,
/// such as heartbeats, pass by).
async fn wait_for(feed: &mut blendesk_coord_pg::ChangeFeed, want: impl Fn(&Change) -> bool) -> Change {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let change = feed.next().await.expect("the feed delivers");
            if want(&change) {
                return change;
            }
        }
    })
    .await
    .expect("no matching change within 10 s")
}

/// The feed's very next change, whatever it is, up to a deadline.
async fn next_change(feed: &mut blendesk_coord_pg::ChangeFeed) -> Change {
    tokio::time::timeout(Duration::from_secs(10), feed.next()).await.expect("a change within 10 s").expect("the feed delivers")
}

#[tokio::test]
async fn another_app_hears_a_claim_at_once() {
    let team = Team::new(2, 1).await;
    let (alice, bob, sam) = (&team.advisors[0], &team.advisors[1], &team.supervisors[0]);
    let (a, b) = (alice.session().await, bob.session().await);
    let mut feed = b.listen().await.unwrap();

    let started = std::time::Instant::now();
    a.claim("<m1@x>", &alice.id).await.unwrap();
    let change = wait_for(&mut feed, |c| matches!(c, Change::Claim { .. })).await;
    assert_eq!(change, Change::Claim { email_key: "<m1@x>".into(), owner: Some(alice.id.clone()) });
    assert!(started.elapsed() < Duration::from_secs(1), "the claim took {:?} to arrive", started.elapsed());

    a.transfer("<m1@x>", &alice.id, &bob.id).await.unwrap().unwrap();
    let change = wait_for(&mut feed, |c| matches!(c, Change::Claim { .. })).await;
    assert_eq!(change, Change::Claim { email_key: "<m1@x>".into(), owner: Some(bob.id.clone()) });
    assert!(b.release("<m1@x>", &bob.id).await.unwrap());
    let change = wait_for(&mut feed, |c| matches!(c, Change::Claim { .. })).await;
    assert_eq!(change, Change::Claim { email_key: "<m1@x>".into(), owner: None });

    a.heartbeat(&alice.id, "on_call", 0).await.unwrap();
    let change = wait_for(&mut feed, |c| matches!(c, Change::Presence { .. })).await;
    assert_eq!(change, Change::Presence { advisor: alice.id.clone(), state: "on_call".into() });
    // A heartbeat that changes neither state nor load is not announced (every app would
    // read the board on every other's heartbeat): notifications arrive in commit order,
    // so the next one is the claim written after it. A new load is announced.
    a.heartbeat(&alice.id, "on_call", 0).await.unwrap();
    a.claim("<q1@x>", &alice.id).await.unwrap();
    a.heartbeat(&alice.id, "on_call", 1).await.unwrap();
    assert_eq!(next_change(&mut feed).await, Change::Claim { email_key: "<q1@x>".into(), owner: Some(alice.id.clone()) });
    assert_eq!(next_change(&mut feed).await, Change::Presence { advisor: alice.id.clone(), state: "on_call".into() });

    let version = sam.session().await.publish_policy(&Policy::default(), &sam.id).await.unwrap();
    assert_eq!(wait_for(&mut feed, |c| matches!(c, Change::Policy { .. })).await, Change::Policy { version });

    a.take_duty("ack", "<c1@x>", &alice.id).await.unwrap();
    let change = wait_for(&mut feed, |c| matches!(c, Change::Duty { .. })).await;
    assert_eq!(change, Change::Duty { kind: "ack".into(), key: "<c1@x>".into(), holder: alice.id.clone() });

    // A refused write sends nothing: the next claim change is the later, allowed one.
    refused(a.claim("<m2@x>", &bob.id).await);
    a.claim("<m3@x>", &alice.id).await.unwrap();
    let change = wait_for(&mut feed, |c| matches!(c, Change::Claim { .. })).await;
    assert_eq!(change, Change::Claim { email_key: "<m3@x>".into(), owner: Some(alice.id.clone()) });

    // The feed is also a stream; it ends with its connection.
    a.claim("<m4@x>", &alice.id).await.unwrap();
    let next = tokio::time::timeout(Duration::from_secs(10), futures::StreamExt::next(&mut feed)).await.expect("in time");
    assert_eq!(next.unwrap().unwrap(), Change::Claim { email_key: "<m4@x>".into(), owner: Some(alice.id.clone()) });
    let raw = team.raw().await;
    raw.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1 AND query LIKE 'LISTEN%'",
        &[&bob.settings.user],
    )
    .await
    .unwrap();
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match feed.next().await {
                Ok(_) => continue,
                Err(e) => return e,
            }
        }
    })
    .await
    .expect("the feed reports its end");
    assert!(matches!(end, CoordError::FeedClosed | CoordError::Database { .. }), "{end}");
}

#[tokio::test]
async fn importing_owners_twice_changes_nothing() {
    let team = Team::new(3, 1).await;
    let (alice, bob, carol, sam) = (&team.advisors[0], &team.advisors[1], &team.advisors[2], &team.supervisors[0]);
    let owners: Vec<(String, _)> = (0..2500).map(|i| (format!("<old-{i}@x>"), [&alice.id, &bob.id, &carol.id][i % 3].clone())).collect();
    let s = sam.session().await;

    let first = s.import_owners(&owners).await.unwrap();
    assert_eq!((first.imported, first.unchanged, first.conflicts.len()), (2500, 0, 0));
    let second = s.import_owners(&owners).await.unwrap();
    assert_eq!((second.imported, second.unchanged, second.conflicts.len()), (0, 2500, 0));
    let in_db: Vec<(String, String)> = team
        .raw()
        .await
        .query("SELECT email_key, owner FROM blendesk.claims ORDER BY email_key", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut expected: Vec<(String, String)> = owners.iter().map(|(k, o)| (k.clone(), o.to_string())).collect();
    expected.sort();
    assert_eq!(in_db, expected);

    // Claimed in the database meanwhile: the database's owner stays, reported.
    alice.session().await.claim("<new@x>", &alice.id).await.unwrap();
    let report = s.import_owners(&[("<new@x>".into(), bob.id.clone()), ("<old-0@x>".into(), alice.id.clone())]).await.unwrap();
    assert_eq!(report.conflicts, vec![("<new@x>".into(), alice.id.clone(), bob.id.clone())]);
    assert_eq!(report.unchanged, 1);

    // Bad input is refused before anything is written.
    let zoe = blendesk_domain::advisor::AdvisorId::parse("zoe").unwrap();
    let e = s.import_owners(&[("<z@x>".into(), zoe)]).await.unwrap_err().to_string();
    assert!(e.contains("zoe"), "{e}");
    let e = s.import_owners(&[("<d@x>".into(), alice.id.clone()), ("<d@x>".into(), bob.id.clone())]).await.unwrap_err();
    assert!(e.to_string().contains("two owners"), "{e}");
    assert_eq!(s.owner_of("<z@x>").await.unwrap(), None);
    assert_eq!(s.owner_of("<d@x>").await.unwrap(), None);
    // An advisor cannot import others' owners.
    refused(bob.session().await.import_owners(&[("<b@x>".into(), alice.id.clone())]).await);

    // Marks in batches (years of resolved email): each once, a second run adds none, a
    // bad mark refused before anything of its batch is written.
    let marks: Vec<(String, String)> = (0..2500).map(|i| (format!("<old-{i}@x>"), "$Resolved".to_owned())).collect();
    assert_eq!(s.import_marks(&marks, &sam.id).await.unwrap(), 2500);
    assert_eq!(s.import_marks(&marks, &sam.id).await.unwrap(), 0);
    let resolved: i64 = team
        .raw()
        .await
        .query_one("SELECT count(*) FROM blendesk.marks WHERE mark = '$Resolved' AND set_by = $1", &[&sam.id.as_str()])
        .await
        .unwrap()
        .get(0);
    assert_eq!(resolved, 2500);
    assert!(s.import_marks(&[("<m@x>".into(), "$bd_ack".into()), ("<m@x>".into(), "no dollar".into())], &sam.id).await.is_err());
    assert!(s.email_states().await.unwrap().get("<m@x>").is_none_or(|st| st.marks.is_empty()));
}

#[tokio::test]
async fn migrations_apply_once_and_apps_check_the_version() {
    let mut team = Team::new(1, 0).await;
    assert_eq!(team.admin.migrate().await.unwrap(), Vec::<i32>::new(), "a second run applies nothing");
    let versions: Vec<i32> =
        team.raw().await.query("SELECT version FROM blendesk.migrations ORDER BY 1", &[]).await.unwrap().iter().map(|r| r.get(0)).collect();
    assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());

    // A database from a newer Blendesk is refused by name, not misread.
    team.raw()
        .await
        .execute("INSERT INTO blendesk.migrations (version, name) VALUES ($1, 'future')", &[&(SCHEMA_VERSION + 1)])
        .await
        .unwrap();
    let alice = &team.advisors[0];
    match AdvisorSession::connect(&alice.settings, &alice.id).await {
        Err(CoordError::SchemaTooNew { found, known }) => assert_eq!((found, known), (SCHEMA_VERSION + 1, SCHEMA_VERSION)),
        Err(e) => panic!("expected SchemaTooNew, got {e}"),
        Ok(_) => panic!("connected to a newer schema"),
    }
    // A login that speaks for another advisor is refused at connect.
    team.raw().await.execute("DELETE FROM blendesk.migrations WHERE name = 'future'", &[]).await.unwrap();
    let bob = blendesk_domain::advisor::AdvisorId::parse("bob").unwrap();
    let e = AdvisorSession::connect(&alice.settings, &bob).await.err().expect("refused");
    assert!(e.to_string().contains("not as advisor bob"), "{e}");
}

#[tokio::test]
async fn connection_problems_are_errors_that_say_where() {
    let settings = support::admin_settings();
    // Nothing listens on port 1; a remote host without TLS is refused before connecting.
    let closed = PgSettings { port: 1, ..settings.clone() };
    let e = blendesk_coord_pg::Admin::connect(&closed).await.err().expect("refused").to_string();
    assert!(e.contains(":1 "), "{e}");
    let remote = PgSettings { host: "db.example.com".into(), ..settings.clone() };
    assert!(matches!(blendesk_coord_pg::Admin::connect(&remote).await, Err(CoordError::PlaintextRefused(_))));
    let wrong = settings.with_login(&settings.user, "wrong password");
    assert!(matches!(blendesk_coord_pg::Admin::connect(&wrong).await, Err(CoordError::Connect { .. })));
}

#[tokio::test]
async fn tls_checks_the_certificate() {
    let plain = support::admin_settings();
    let ca = support::stack_ca();
    let ssl_in_use = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

    // With the stack's CA, by name and by address: encrypted.
    for host in ["localhost", "127.0.0.1"] {
        let settings = PgSettings { host: host.into(), tls: Tls::CaFile(ca.clone()), ..plain.clone() };
        let session = blendesk_coord_pg::Admin::connect(&settings).await.unwrap_or_else(|e| panic!("TLS to {host}: {e}"));
        assert!(session.ssl_in_use().await.unwrap(), "{host}: {ssl_in_use}");
    }
    // Without TLS (loopback): not encrypted.
    assert!(!blendesk_coord_pg::Admin::connect(&plain).await.unwrap().ssl_in_use().await.unwrap());
    // The public roots do not know the test CA: refused, whatever the password.
    let public = PgSettings { tls: Tls::PublicRoots, ..plain.clone() };
    let e = blendesk_coord_pg::Admin::connect(&public).await.err().expect("an unknown issuer is refused").to_string();
    assert!(e.contains("certificate"), "{e}");
    // Remote hosts with TLS are allowed to try (no PlaintextRefused).
    let remote = PgSettings { host: "db.invalid".into(), tls: Tls::CaFile(ca), ..plain };
    match blendesk_coord_pg::Admin::connect(&remote).await {
        Err(CoordError::Connect { target, .. }) => assert!(target.contains("db.invalid"), "{target}"),
        Err(e) => panic!("expected a connection error, got {e}"),
        Ok(_) => panic!("connected to db.invalid"),
    }
}

#[tokio::test]
async fn documents_are_versions_and_knowledge_is_the_supervisors() {
    let team = Team::new(1, 1).await;
    let (alice, sam) = (&team.advisors[0], &team.supervisors[0]);
    let (a, s) = (alice.session().await, sam.session().await);
    let article = serde_json::json!({"title": "Returns", "body": "30 days"});

    refused(a.publish_document(DocumentKind::Knowledge, "returns", &article, &alice.id).await);
    let k1 = s.publish_document(DocumentKind::Knowledge, "returns", &article, &sam.id).await.unwrap();
    let t1 = a.publish_document(DocumentKind::Template, "thanks", &serde_json::json!({"body": "Thanks!"}), &alice.id).await.unwrap();
    let u1 = a.publish_document(DocumentKind::Usage, "returns", &serde_json::json!({"used": 1}), &alice.id).await.unwrap();
    let k2 = s.withdraw_document(DocumentKind::Knowledge, "returns", &sam.id).await.unwrap();
    refused(a.publish_document(DocumentKind::Template, "thanks", &article, &sam.id).await);

    let all = a.documents_after(0, 100).await.unwrap();
    assert_eq!(all.iter().map(|d| d.version).collect::<Vec<_>>(), vec![k1, t1, u1, k2]);
    assert_eq!((all[0].kind, all[0].doc_id.as_str(), &all[0].document), (DocumentKind::Knowledge, "returns", &article));
    assert!(all[3].tombstone && !all[0].tombstone);
    assert_eq!(a.documents_after(u1, 100).await.unwrap().len(), 1, "mirroring resumes after the last version seen");
    assert_eq!(a.documents_after(0, 2).await.unwrap().len(), 2);

    // Approvals: supervisors only, templates only, once each.
    refused(a.approve_template(t1, &alice.id).await);
    assert!(matches!(s.approve_template(k1, &sam.id).await, Err(CoordError::Invalid { .. })));
    let mut feed = a.listen().await.unwrap();
    s.approve_template(t1, &sam.id).await.unwrap();
    s.approve_template(t1, &sam.id).await.unwrap();
    assert_eq!(a.template_approvals().await.unwrap(), vec![(t1, sam.id.clone())]);
    // Every app hears of an approval at once (their mirror shows it without polling).
    assert_eq!(wait_for(&mut feed, |c| matches!(c, Change::Approval { .. })).await, Change::Approval { version: t1 });

    // Versions are never edited.
    let e = alice.raw().await.execute("UPDATE blendesk.documents SET tombstone = true", &[]).await.unwrap_err();
    assert_eq!(sqlstate(e), "42501");
}

#[tokio::test]
async fn conversation_tokens_are_written_whole() {
    let team = Team::new(2, 0).await;
    let (alice, bob) = (&team.advisors[0], &team.advisors[1]);
    let a = alice.session().await;
    a.set_conversation_token(&["<m1@x>", "<m2@x>"], 7, &alice.id).await.unwrap();
    a.set_conversation_token(&["<m2@x>", "<m3@x>"], 9, &alice.id).await.unwrap();
    assert_eq!(
        a.conversation_tokens(&["<m1@x>", "<m2@x>", "<m3@x>", "<m4@x>"]).await.unwrap(),
        vec![("<m1@x>".into(), 7), ("<m2@x>".into(), 9), ("<m3@x>".into(), 9)]
    );
    // Recorded under one's own name only; a bad key writes none of the batch.
    refused(bob.session().await.set_conversation_token(&["<m1@x>"], 3, &alice.id).await);
    assert!(a.set_conversation_token(&["<m1@x>", ""], 4, &alice.id).await.is_err());
    assert!(a.set_conversation_token(&["<m1@x>"], 0, &alice.id).await.is_err());
    assert_eq!(a.conversation_tokens(&["<m1@x>"]).await.unwrap(), vec![("<m1@x>".into(), 7)]);
}

#[tokio::test]
async fn an_email_is_taken_over_only_from_an_owner_whose_heartbeat_stopped() {
    let team = Team::new(2, 0).await;
    let (alice, bob) = (&team.advisors[0], &team.advisors[1]);
    let (a, b) = (alice.session().await, bob.session().await);
    a.claim("<t1@x>", &alice.id).await.unwrap();
    // No heartbeat ever: not bob's to take (a supervisor's transfer is the way).
    assert_eq!(b.take_over("<t1@x>", &alice.id).await.unwrap(), None);
    // Alive: not bob's to take.
    a.heartbeat(&alice.id, "available", 1).await.unwrap();
    assert_eq!(b.take_over("<t1@x>", &alice.id).await.unwrap(), None);
    // Silent for 16 s by the database's clock (the administrator ages the heartbeat, as
    // time would). A plain transfer is still refused to bob; the take-over gives it to him.
    let admin = team.raw().await;
    admin.batch_execute("ALTER TABLE blendesk.presence DISABLE TRIGGER presence_stamp").await.unwrap();
    admin
        .execute("UPDATE blendesk.presence SET heartbeat = now() - interval '16 seconds' WHERE advisor = $1", &[&alice.id.as_str()])
        .await
        .unwrap();
    admin.batch_execute("ALTER TABLE blendesk.presence ENABLE TRIGGER presence_stamp").await.unwrap();
    assert_eq!(b.transfer("<t1@x>", &alice.id, &alice.id).await.unwrap(), None, "bob moves nothing of alice's by hand");
    assert!(b.take_over("<t1@x>", &alice.id).await.unwrap().is_some(), "bob takes over a silent owner's email");
    assert_eq!(a.owner_of("<t1@x>").await.unwrap().map(|o| o.0), Some(bob.id.clone()));
    // Taken: a second take-over from alice finds nothing of hers.
    assert_eq!(a.take_over("<t1@x>", &alice.id).await.unwrap(), None);
}
