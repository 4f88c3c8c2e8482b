//! Team blending with real headless advisors (separate `blendesk run --headless`
//! processes) on one shared mailbox of the local Dovecot. Ownership is checked on the
//! server's keywords, never on the apps' own view.

use blendesk_domain::claim::owners;
use blendesk_mail::imap;
use blendesk_testkit::{customer_mail, eventually, login, smtp_send, Customer, Desk, HeadlessApp};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn start(desk: &Desk, id: &str, runtime: &Path) -> HeadlessApp {
    HeadlessApp::start(Path::new(env!("CARGO_BIN_EXE_blendesk")), desk, id, runtime)
}

fn call(a: &HeadlessApp, event: &str) -> String {
    let out = a.call(event);
    assert!(out.status.success(), "call {event}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Owners per UID on the server.
async fn server_owners(user: &str) -> HashMap<u32, Vec<String>> {
    let mut s = login(user).await.unwrap();
    imap::select(&mut s, "INBOX", true).await.unwrap();
    let flags = imap::fetch_flags(&mut s, None).await.unwrap();
    imap::logout(s).await;
    flags.into_iter().map(|(uid, f, _)| (uid, owners(&f).map(str::to_owned).collect())).collect()
}

fn owned_by(owners: &HashMap<u32, Vec<String>>, id: &str) -> Vec<u32> {
    let mut v: Vec<u32> = owners.iter().filter(|(_, o)| o.iter().any(|x| x == id)).map(|(u, _)| *u).collect();
    v.sort();
    v
}

/// Claims logged by an advisor (its own `claimed` events), with their times.
fn claims(a: &HeadlessApp) -> Vec<i64> {
    a.events_of("claimed").iter().filter_map(|e| e["at_ms"].as_i64()).collect()
}

fn state_changes(a: &HeadlessApp) -> Vec<(i64, String)> {
    a.events_of("advisor_state").iter().map(|e| (e["at_ms"].as_i64().unwrap_or(0), e["state"].as_str().unwrap_or("").to_owned())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headless_advisors_claim_within_caps_pause_on_calls_and_follow_the_policy() {
    let desk = Desk::new("team");
    let runtime = tempfile::tempdir().unwrap();
    let policy = r#"{"version":1,"default_cap":3,"wrap_up_seconds":2,
        "advisors":{"alice":{"cap":2},"bob":{"cap":3},"carol":{"cap":1}}}"#;
    let policy_file = desk.dir.path().join("policy.json");
    std::fs::write(&policy_file, policy).unwrap();
    publish_policy(&desk, &policy_file);

    // Twelve customers: twelve conversations (one customer's emails are one).
    for i in 0..12 {
        let customer = Customer::new("tcust");
        let (_, raw) = customer_mail(&customer.address, &desk.address, &format!("order {i}"), "where is it?");
        smtp_send(&customer.address, &[&desk.address], &raw).await.unwrap();
    }
    let mut advisors: Vec<HeadlessApp> = ["alice", "bob", "carol"].into_iter().map(|id| start(&desk, id, runtime.path())).collect();

    // Everyone fills up to their cap, and no further.
    let owners = eventually("advisors fill their caps", Duration::from_secs(60), || async {
        let o = server_owners(&desk.user).await;
        let full = owned_by(&o, "alice").len() == 2 && owned_by(&o, "bob").len() == 3 && owned_by(&o, "carol").len() == 1;
        Ok(full.then_some(o))
    })
    .await
    .unwrap();
    assert!(owners.values().all(|o| o.len() <= 1), "an email owned by two advisors: {owners:?}");

    // Alice goes on a call (as a softphone would), then one of her emails is answered,
    // which frees capacity she must not use while on the call.
    assert_eq!(call(&advisors[0], "start"), "on_call");
    let alice_first = owned_by(&owners, "alice")[0];
    let mut s = login(&desk.user).await.unwrap();
    imap::select(&mut s, "INBOX", true).await.unwrap();
    imap::store(&mut s, alice_first, "+FLAGS.SILENT (\\Answered)").await.unwrap();
    // Bob's answered email frees a slot he does use: proof the team kept claiming
    // while Alice was on the call.
    let bob_first = owned_by(&owners, "bob")[0];
    imap::store(&mut s, bob_first, "+FLAGS.SILENT (\\Answered)").await.unwrap();
    imap::logout(s).await;
    eventually("bob takes a new email", Duration::from_secs(30), || async {
        let o = server_owners(&desk.user).await;
        Ok((owned_by(&o, "bob").len() == 4).then_some(()))
    })
    .await
    .unwrap();
    let during_call = server_owners(&desk.user).await;
    assert_eq!(owned_by(&during_call, "alice"), owned_by(&owners, "alice"), "no claim while on a call");

    // After the call and the wrap-up, Alice claims again.
    assert_eq!(call(&advisors[0], "end"), "wrap_up");
    let after = eventually("alice resumes after wrap-up", Duration::from_secs(30), || async {
        let o = server_owners(&desk.user).await;
        Ok((owned_by(&o, "alice").len() == 3).then_some(o))
    })
    .await
    .unwrap();
    assert!(after.values().all(|o| o.len() <= 1));

    // The supervisor lowers Bob's cap to 1: nothing is taken away, nothing new comes.
    std::fs::write(&policy_file, policy.replace("\"bob\":{\"cap\":3}", "\"bob\":{\"cap\":1}")).unwrap();
    publish_policy(&desk, &policy_file);
    eventually("bob follows the new policy", Duration::from_secs(10), || async {
        let seen = advisors[1].events_of("policy_changed").len();
        Ok((seen >= 2).then_some(()))
    })
    .await
    .unwrap();
    let bob_claims_before = claims(&advisors[1]).len();
    // Free one of Carol's: she takes a new one, Bob (over his new cap) does not.
    let carol_first = owned_by(&after, "carol")[0];
    let mut s = login(&desk.user).await.unwrap();
    imap::select(&mut s, "INBOX", true).await.unwrap();
    imap::store(&mut s, carol_first, "+FLAGS.SILENT (\\Answered)").await.unwrap();
    imap::logout(s).await;
    eventually("carol takes a new email", Duration::from_secs(30), || async { Ok((claims(&advisors[2]).len() >= 2).then_some(())) })
        .await
        .unwrap();
    let final_owners = server_owners(&desk.user).await;
    assert_eq!(owned_by(&final_owners, "bob").len(), 4, "a lowered cap takes nothing away");
    assert_eq!(claims(&advisors[1]).len(), bob_claims_before, "no claim over the lowered cap");
    assert!(final_owners.values().all(|o| o.len() <= 1), "0 emails owned by two advisors");

    // Alice's log: no claim between call start and the end of wrap-up.
    let changes = state_changes(&advisors[0]);
    let on_call_at = changes.iter().find(|(_, s)| s == "on_call").map(|(t, _)| *t).unwrap();
    let resumed_at = changes.iter().filter(|(t, s)| *t > on_call_at && s == "available").map(|(t, _)| *t).next().unwrap();
    assert!(claims(&advisors[0]).iter().all(|t| *t < on_call_at || *t >= resumed_at), "{changes:?} {:?}", claims(&advisors[0]));

    for a in &mut advisors {
        assert!(a.stop(), "{} exits cleanly on SIGTERM", a.id);
    }
}

/// `blendesk policy publish FILE`, as a supervisor runs it.
fn publish_policy(desk: &Desk, file: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_blendesk"))
        .arg("--config")
        .arg(&desk.config_path)
        .args(["policy", "publish"])
        .arg(file)
        .env("BLENDESK_IMAP_PASSWORD", "test")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offline_advisors_emails_are_taken_over_after_the_grace_period() {
    let desk = Desk::new("takeover");
    let runtime = tempfile::tempdir().unwrap();
    let policy_file = desk.dir.path().join("policy.json");
    std::fs::write(&policy_file, r#"{"version":1,"grace_seconds":3,"advisors":{"alice":{"cap":2},"bob":{"cap":5}}}"#).unwrap();
    publish_policy(&desk, &policy_file);
    for i in 0..4 {
        let customer = Customer::new("tocust");
        let (_, raw) = customer_mail(&customer.address, &desk.address, &format!("parcel {i}"), "late");
        smtp_send(&customer.address, &[&desk.address], &raw).await.unwrap();
    }
    eventually("delivery", Duration::from_secs(15), || async {
        Ok((blendesk_testkit::count_messages(&desk.user, "INBOX").await? == 4).then_some(()))
    })
    .await
    .unwrap();
    // Alice starts alone and takes her cap; then Bob joins and takes the rest.
    let mut alice = start(&desk, "alice", runtime.path());
    eventually("alice fills her cap", Duration::from_secs(30), || async {
        Ok((owned_by(&server_owners(&desk.user).await, "alice").len() == 2).then_some(()))
    })
    .await
    .unwrap();
    let mut bob = start(&desk, "bob", runtime.path());
    eventually("bob takes the rest", Duration::from_secs(30), || async {
        Ok((owned_by(&server_owners(&desk.user).await, "bob").len() == 2).then_some(()))
    })
    .await
    .unwrap();
    // Alice's app dies without a word: her heartbeats stop.
    alice.crash();
    let killed_at = std::time::Instant::now();
    let o = eventually("bob takes over alice's emails", Duration::from_secs(90), || async {
        let o = server_owners(&desk.user).await;
        Ok((owned_by(&o, "bob").len() == 4).then_some(o))
    })
    .await
    .unwrap();
    let waited = killed_at.elapsed();
    println!("taken over after {waited:?}");
    // Not before 3 missed heartbeats (15 s) plus the 3 s grace, by the server's clock
    // (one-second resolution).
    assert!(waited >= Duration::from_secs(16), "taken over too early: {waited:?}");
    assert!(o.values().all(|v| v.len() == 1), "one owner each: {o:?}");
    assert!(bob.stop());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chasers_join_their_owners_conversation_and_caps_count_conversations() {
    let desk = Desk::new("chaser");
    let runtime = tempfile::tempdir().unwrap();
    let policy_file = desk.dir.path().join("policy.json");
    std::fs::write(&policy_file, r#"{"version":1,"advisors":{"alice":{"cap":2},"bob":{"cap":2}}}"#).unwrap();
    publish_policy(&desk, &policy_file);
    let (x, y, z) = (Customer::new("chx"), Customer::new("chy"), Customer::new("chz"));
    let alice = start(&desk, "alice", runtime.path());
    let owned = |n: usize| {
        let desk = &desk;
        async move {
            eventually("alice's emails", Duration::from_secs(30), || async {
                let o = owned_by(&server_owners(&desk.user).await, "alice");
                Ok((o.len() == n).then_some(o))
            })
            .await
            .unwrap()
        }
    };
    desk.deliver(&x, "parcel missing", 1).await;
    owned(1).await;
    // Two chasers with new subjects, not replies: they join X's conversation.
    desk.deliver(&x, "hello??", 2).await;
    desk.deliver(&x, "I want a refund", 3).await;
    owned(3).await;
    desk.deliver(&y, "invoice", 4).await;
    owned(4).await; // Y is her second conversation: her cap of 2 is reached.
    desk.deliver(&z, "login broken", 5).await;
    // Another chaser from X arrives after Z; taking it proves she looked at Z and left it.
    desk.deliver(&x, "still waiting", 6).await;
    let o = owned(5).await;
    let all = server_owners(&desk.user).await;
    let unowned: Vec<u32> = all.iter().filter(|(_, v)| v.is_empty()).map(|(u, _)| *u).collect();
    assert_eq!(unowned, vec![5], "Z waits: alice holds 2 conversations (5 emails {o:?})");
    let joins: Vec<bool> = alice.events_of("claimed").iter().map(|e| e["joins"].as_bool().unwrap()).collect();
    assert_eq!(joins, [false, true, true, false, true], "chasers join; new customers start conversations");
    let loads: Vec<u64> = alice.events_of("claimed").iter().map(|e| e["load"].as_u64().unwrap()).collect();
    assert_eq!(loads, [0, 1, 1, 1, 2], "load counts conversations, not emails");
    // Bob, with room, takes Z.
    let _bob = start(&desk, "bob", runtime.path());
    eventually("bob takes Z", Duration::from_secs(30), || async {
        Ok((owned_by(&server_owners(&desk.user).await, "bob") == [5]).then_some(()))
    })
    .await
    .unwrap();
}

fn park(app: &HeadlessApp, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_blendesk"))
        .arg("--config")
        .arg(&app.config)
        .arg("park")
        .args(args)
        .env("BLENDESK_IMAP_PASSWORD", "test")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_conversation_leaves_the_load_and_comes_back_by_itself() {
    let desk = Desk::new("park");
    let runtime = tempfile::tempdir().unwrap();
    let policy_file = desk.dir.path().join("policy.json");
    std::fs::write(&policy_file, r#"{"version":1,"park_limit":1,"advisors":{"alice":{"cap":1}}}"#).unwrap();
    publish_policy(&desk, &policy_file);
    let (x, y, z) = (Customer::new("pkx"), Customer::new("pky"), Customer::new("pkz"));
    let alice = start(&desk, "alice", runtime.path());
    let owned = |uids: Vec<u32>| {
        let desk = &desk;
        async move {
            eventually("alice's emails", Duration::from_secs(30), || async {
                Ok((owned_by(&server_owners(&desk.user).await, "alice") == uids).then_some(()))
            })
            .await
            .unwrap()
        }
    };
    desk.deliver(&x, "parcel", 1).await;
    owned(vec![1]).await;
    desk.deliver(&y, "invoice", 2).await;

    // Parking X frees her only slot: she takes Y.
    let out = park(&alice, &[&x.address, "--seconds", "4"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    owned(vec![1, 2]).await;
    // The park limit is 1: Y cannot be parked as well.
    let out = park(&alice, &[&y.address]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("limit is 1"), "{}", String::from_utf8_lossy(&out.stderr));
    // Nor can a conversation she does not hold.
    let out = park(&alice, &[&z.address]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no open conversation of yours"));

    // X comes back by itself after 4 s, over the cap: her load is 2 with a cap of 1.
    eventually("X returns", Duration::from_secs(30), || async { Ok((desk.published_load("alice").await == Some(2)).then_some(())) })
        .await
        .unwrap();
    let listed = park(&alice, &[]);
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "", "nothing parked any more");
    // Z waits; a chaser from X (her conversation) is still hers, which shows she looked.
    desk.deliver(&z, "login", 3).await;
    desk.deliver(&x, "any news?", 4).await;
    owned(vec![1, 2, 4]).await;
    assert!(server_owners(&desk.user).await[&3].is_empty(), "Z waits: alice is over her cap");
}

fn cli(config: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_blendesk"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("BLENDESK_IMAP_PASSWORD", "test")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_transfers_and_an_owner_releases_with_the_compare_and_swap() {
    let desk = Desk::new("handover");
    let runtime = tempfile::tempdir().unwrap();
    let policy_file = desk.dir.path().join("policy.json");
    std::fs::write(&policy_file, r#"{"version":1,"supervisors":["sam"],"advisors":{"alice":{"cap":2},"bob":{"cap":2},"sam":{"cap":0}}}"#)
        .unwrap();
    publish_policy(&desk, &policy_file);
    let (x, y) = (Customer::new("hox"), Customer::new("hoy"));
    let alice = start(&desk, "alice", runtime.path());
    desk.deliver(&x, "parcel", 1).await;
    desk.deliver(&x, "any news?", 2).await;
    desk.deliver(&y, "invoice", 3).await;
    let owner_is = |id: &'static str, uids: Vec<u32>| {
        let desk = &desk;
        async move {
            eventually(id, Duration::from_secs(30), || async { Ok((owned_by(&server_owners(&desk.user).await, id) == uids).then_some(())) })
                .await
                .unwrap()
        }
    };
    owner_is("alice", vec![1, 2, 3]).await;
    let _bob = start(&desk, "bob", runtime.path());

    // Only supervisors transfer.
    let out = cli(&alice.config, &["transfer", &x.address, "--to", "bob"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("only supervisors transfer"), "{}", String::from_utf8_lossy(&out.stderr));
    // Sam moves X's whole conversation (both emails) to Bob.
    let sam = desk.config_for("sam", "sam-cli");
    let out = cli(&sam, &["transfer", &x.address, "--to", "bob"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("2 moved to bob"), "{}", String::from_utf8_lossy(&out.stdout));
    owner_is("bob", vec![1, 2]).await;

    // Alice gives Y back: she has room now but does not take it again; Bob does.
    let out = cli(&alice.config, &["release", &y.address]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    owner_is("bob", vec![1, 2, 3]).await;
    let mut s = login(&desk.user).await.unwrap();
    imap::select(&mut s, "INBOX", true).await.unwrap();
    let flags = imap::fetch_flags(&mut s, None).await.unwrap();
    imap::logout(s).await;
    let y_flags = &flags.iter().find(|(u, _, _)| *u == 3).unwrap().1;
    assert!(y_flags.iter().any(|f| f == "$bd_declined_alice"), "{y_flags:?}");
    assert!(flags.iter().all(|(_, f, _)| owners(f).count() == 1), "one owner each: {flags:?}");
    assert!(alice.events_of("claimed").len() == 3, "alice never took Y back");
}
