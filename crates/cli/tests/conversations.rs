//! Merging and splitting conversations by hand, with real headless advisors on one shared
//! mailbox of the local Dovecot: the server's `$bd_conv_` and owner keywords are checked,
//! and a separate app's mirror (another advisor's view) is asked what it groups.

use blendesk_domain::claim::owners;
use blendesk_domain::conversation::token_of;
use blendesk_mail::imap;
use blendesk_testkit::{eventually, login, Customer, Desk, HeadlessApp};
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

fn start(desk: &Desk, id: &str, runtime: &Path) -> HeadlessApp {
    HeadlessApp::start(Path::new(env!("CARGO_BIN_EXE_blendesk")), desk, id, runtime)
}

fn cli(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blendesk"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("BLENDESK_IMAP_PASSWORD", "test")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Flags per UID of the INBOX on the server.
async fn server_flags(user: &str) -> HashMap<u32, Vec<String>> {
    let mut s = login(user).await.unwrap();
    imap::select(&mut s, "INBOX", true).await.unwrap();
    let flags = imap::fetch_flags(&mut s, None).await.unwrap();
    imap::logout(s).await;
    flags.into_iter().map(|(uid, f, _)| (uid, f)).collect()
}

fn owner(flags: &HashMap<u32, Vec<String>>, uid: u32) -> Option<String> {
    flags.get(&uid).and_then(|f| owners(f).next().map(str::to_owned))
}

fn token(flags: &HashMap<u32, Vec<String>>, uid: u32) -> Option<String> {
    flags.get(&uid).and_then(|f| token_of(f))
}

async fn owned_by(desk: &Desk, id: &str, uids: &[u32]) {
    eventually(&format!("{id} owns {uids:?}"), Duration::from_secs(30), || async {
        let f = server_flags(&desk.user).await;
        let mut mine: Vec<u32> = f.keys().copied().filter(|u| owner(&f, *u).as_deref() == Some(id)).collect();
        mine.sort();
        Ok((mine == uids).then_some(()))
    })
    .await
    .unwrap();
}

async fn loads_are(desk: &Desk, expected: &[(&str, u64)]) {
    eventually(&format!("published loads {expected:?}"), Duration::from_secs(30), || async {
        for (id, load) in expected {
            if desk.published_load(id).await != Some(*load) {
                return Ok(None);
            }
        }
        Ok(Some(()))
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_conversations_share_one_token_and_owner_and_split_ones_get_their_own() {
    let desk = Desk::new("merge");
    let runtime = tempfile::tempdir().unwrap();
    let policy = desk.dir.path().join("policy.json");
    std::fs::write(&policy, r#"{"version":1,"supervisors":["sam"],"advisors":{"alice":{"cap":1},"bob":{"cap":1},"sam":{"cap":0}}}"#)
        .unwrap();
    let out = cli(&desk.config_path, &["policy", "publish", policy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (x, y) = (Customer::new("mgx"), Customer::new("mgy"));
    let alice = start(&desk, "alice", runtime.path());
    desk.deliver(&x, "parcel missing", 1).await;
    owned_by(&desk, "alice", &[1]).await;
    let bob = start(&desk, "bob", runtime.path());
    desk.deliver(&y, "wrong invoice", 2).await;
    owned_by(&desk, "bob", &[2]).await;
    loads_are(&desk, &[("alice", 1), ("bob", 1)]).await;

    // Alice may not merge Bob's conversation into hers: refused, nothing changed.
    let before = server_flags(&desk.user).await;
    let out = cli(&alice.config, &["merge", &y.address, "--into", &x.address]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("is bob's: only its owner or a supervisor"), "{}", text(&out.stderr));
    assert_eq!(server_flags(&desk.user).await, before, "a refused merge changes nothing on the server");

    // Sam (a supervisor) merges Y's conversation into X's: one token, one owner (X's).
    let sam = desk.config_for("sam", "sam-cli");
    let out = cli(&sam, &["merge", &y.address, "--into", &x.address]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let f = server_flags(&desk.user).await;
    let merged = token(&f, 1).expect("X's email carries a conversation token");
    assert_eq!(token(&f, 2).as_deref(), Some(merged.as_str()), "{f:?}");
    assert!(
        f.values().all(|fl| token_of(fl).is_some() && !fl.iter().any(|k| k.starts_with("$bd_conv_"))),
        "one token each, as bits: {f:?}"
    );
    assert_eq!((owner(&f, 1), owner(&f, 2)), (Some("alice".into()), Some("alice".into())), "one owner: {f:?}");
    assert!(text(&out.stdout).contains(&merged), "{}", text(&out.stdout));
    // Alice's app counts one conversation; Bob's is free again.
    loads_are(&desk, &[("alice", 1), ("bob", 0)]).await;
    // Another app (its own process and mirror, configured as Alice: the desk's config)
    // groups both customers' emails as one conversation, one in Alice's load.
    let observer = desk.engine();
    observer.sync_once().await.unwrap();
    let keys = observer.conversation_keys().unwrap();
    assert_eq!(keys.values().collect::<std::collections::HashSet<_>>().len(), 1, "{keys:?}");
    assert_eq!(observer.load().unwrap(), 1, "one conversation in Alice's load");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert_eq!(observer.workspace(now).unwrap().queues[0].waiting, 1);

    // A chaser from Y (new subject) goes to Alice, whose conversation it joins even at her
    // cap of 1, though Bob has room: every app agrees whose it is.
    desk.deliver(&y, "hello??", 3).await;
    owned_by(&desk, "alice", &[1, 2, 3]).await;
    assert!(bob.events_of("claimed").len() == 1, "bob only ever took Y's first email");

    // Bob may not split Alice's conversation.
    let before = server_flags(&desk.user).await;
    let out = cli(&bob.config, &["split", "2"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("is alice's"), "{}", text(&out.stderr));
    assert_eq!(server_flags(&desk.user).await, before, "a refused split changes nothing on the server");

    // Alice splits Y's two emails off (by UID and by Message-ID): a second conversation.
    let y_chaser_mid = observer_message_id(&desk, 3).await;
    let out = cli(&alice.config, &["split", "2", &y_chaser_mid]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let f = server_flags(&desk.user).await;
    let off = token(&f, 2).expect("split-off token");
    assert_ne!(off, merged);
    assert_eq!(token(&f, 3).as_deref(), Some(off.as_str()), "the chaser went with Y's email: {f:?}");
    assert_eq!(token(&f, 1).as_deref(), Some(merged.as_str()), "the rest keeps its token: {f:?}");
    assert!((1..=3).all(|u| owner(&f, u).as_deref() == Some("alice")), "the split-off part keeps its owner: {f:?}");
    loads_are(&desk, &[("alice", 2)]).await;

    // Later chasers join the right conversation: Y's the split-off one, X's the rest.
    desk.deliver(&y, "any news?", 4).await;
    desk.deliver(&x, "still nothing", 5).await;
    owned_by(&desk, "alice", &[1, 2, 3, 4, 5]).await;
    observer.sync_once().await.unwrap();
    let keys = observer.conversation_keys().unwrap();
    let key_of_uid = |uid: u32| keys[&observer.find_queue_email(&uid.to_string()).unwrap()].clone();
    assert_eq!((key_of_uid(4), key_of_uid(5)), (off.clone(), merged.clone()));
    assert_eq!(observer.workspace(now).unwrap().queues[0].waiting, 2);
    assert_eq!(observer.load().unwrap(), 2, "the split-off part is one more conversation of Alice's");
    loads_are(&desk, &[("alice", 2), ("bob", 0)]).await;

    // Merging a conversation into itself is refused.
    let out = cli(&alice.config, &["merge", &off, "--into", &y.address]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already one conversation"), "{}", text(&out.stderr));
}

/// The Message-ID of the INBOX email with `uid`.
async fn observer_message_id(desk: &Desk, uid: u32) -> String {
    let all = blendesk_testkit::fetch_all(&desk.user, "INBOX").await.unwrap();
    let raw = &all.iter().find(|(u, _)| *u == uid).expect("that UID").1;
    blendesk_mail::mime::parse(raw).message_id.expect("a Message-ID")
}
