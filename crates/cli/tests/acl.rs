//! A support mailbox shared with per-advisor logins through IMAP ACLs (RFC 4314) on the
//! local Dovecot: only supervisors may change the policy, advisors still claim through
//! the shared mailbox, and a login that may not write flags is refused team mode.
//!
//! The owner grants rights with SETACL, as an administrator would (README, "Who may
//! change the policy").

use blendesk_domain::claim::owners;
use blendesk_mail::imap;
use blendesk_testkit::{customer_mail, eventually, login, smtp_send, unique_user, Customer, Desk, HeadlessApp};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

/// A config for `login` working in `owner`'s mailbox through the shared namespace.
fn shared_desk(owner: &Desk, login_user: &str, id: &str) -> Desk {
    let desk = Desk::new("aclcfg");
    let root = format!("shared/{}", owner.user);
    let text = std::fs::read_to_string(&desk.config_path)
        .unwrap()
        .replace(&format!("username = \"{}\"", desk.user), &format!("username = \"{login_user}\""))
        .replace("queues = [\"INBOX\"]", &format!("queues = [\"{root}/INBOX\"]"))
        .replace("sent = \"Sent\"", &format!("sent = \"{root}/Sent\"\nteam_folders = \"{root}/Blendesk\""))
        .replace(&desk.address, &owner.address)
        .replace("id = \"alice\"", &format!("id = \"{id}\""));
    std::fs::write(&desk.config_path, &text).unwrap();
    let config = blendesk_engine::config::Config::parse(&text).unwrap();
    Desk { user: login_user.to_owned(), address: owner.address.clone(), config, config_path: desk.config_path.clone(), dir: desk.dir }
}

fn blendesk(desk: &Desk, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blendesk"))
        .arg("--config")
        .arg(&desk.config_path)
        .args(args)
        .env("BLENDESK_IMAP_PASSWORD", "test")
        .output()
        .unwrap()
}

async fn policy_messages(owner: &str) -> u32 {
    blendesk_testkit::count_messages(owner, "Blendesk/Policy").await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_supervisors_change_the_policy_and_advisors_claim_through_the_shared_mailbox() {
    let owner = Desk::new("aclteam");
    let sam = unique_user("aclsam");
    let alice = unique_user("aclalice");
    let reader = unique_user("aclread");

    // The owner (an administrator) creates the team folders and grants rights.
    let mut s = login(&owner.user).await.unwrap();
    for folder in ["Sent", "Blendesk/Policy", "Blendesk/Presence"] {
        imap::create_folder(&mut s, folder).await.unwrap();
    }
    for (folder, who, rights) in [
        ("INBOX", sam.as_str(), "lrsw"),
        ("INBOX", alice.as_str(), "lrsw"),
        ("INBOX", reader.as_str(), "lr"),
        ("Sent", sam.as_str(), "lrswi"),
        ("Sent", alice.as_str(), "lrswi"),
        ("Sent", reader.as_str(), "lr"),
        ("Blendesk/Policy", sam.as_str(), "lrswite"),
        ("Blendesk/Policy", alice.as_str(), "lr"),
        ("Blendesk/Policy", reader.as_str(), "lr"),
        ("Blendesk/Presence", sam.as_str(), "lrswite"),
        ("Blendesk/Presence", alice.as_str(), "lrswite"),
        ("Blendesk/Presence", reader.as_str(), "lrswite"),
    ] {
        s.run_command_and_check_ok(format!("SETACL \"{folder}\" {who} {rights}")).await.unwrap();
    }
    imap::logout(s).await;

    let sam_desk = shared_desk(&owner, &sam, "sam");
    let alice_desk = shared_desk(&owner, &alice, "alice");
    let reader_desk = shared_desk(&owner, &reader, "reader");
    let policy = sam_desk.dir.path().join("policy.json");
    std::fs::write(&policy, r#"{"version":1,"default_cap":3,"supervisors":["sam"],"advisors":{"alice":{"cap":1}}}"#).unwrap();

    // The supervisor publishes.
    let out = blendesk(&sam_desk, &["policy", "publish", policy.to_str().unwrap()]);
    assert!(out.status.success(), "sam publishes: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(policy_messages(&owner.user).await, 1);

    // An advisor cannot: a clear one-line refusal, exit code 5, nothing written.
    let forged = alice_desk.dir.path().join("forged.json");
    std::fs::write(&forged, r#"{"version":1,"default_cap":50,"supervisors":["alice"]}"#).unwrap();
    let out = blendesk(&alice_desk, &["policy", "publish", forged.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "alice is refused: {err}");
    assert!(err.contains("does not let") && err.contains("change the team policy"), "{err}");
    assert!(err.contains(&format!("shared/{}/Blendesk/Policy", owner.user)), "names the folder: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert_eq!(policy_messages(&owner.user).await, 1, "the refused publish wrote nothing");

    // Nor can she grant herself the right: only the owner administers the folder.
    let mut a = login(&alice).await.unwrap();
    let grant = a.run_command_and_check_ok(format!("SETACL \"shared/{}/Blendesk/Policy\" {alice} lrswi", owner.user)).await;
    assert!(grant.is_err(), "an advisor must not change the folder's ACL");
    imap::logout(a).await;

    // She still reads the supervisor's policy.
    let out = blendesk(&alice_desk, &["policy", "show"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["advisors"]["alice"]["cap"], 1, "{shown}");
    assert_eq!(shown["default_cap"], 3);

    // Team mode through the shared namespace: alice claims within her cap of 1 with the
    // compare-and-swap on the owner's mailbox (one index, so one MODSEQ sequence).
    for i in 0..3 {
        let customer = Customer::new("aclcust");
        let (_, raw) = customer_mail(&customer.address, &owner.address, &format!("order {i}"), "where is it?");
        smtp_send(&customer.address, &[&owner.address], &raw).await.unwrap();
    }
    let runtime = tempfile::tempdir().unwrap();
    let _app = HeadlessApp::start(Path::new(env!("CARGO_BIN_EXE_blendesk")), &alice_desk, "alice", runtime.path());
    let owned = eventually("alice claims in the shared mailbox", Duration::from_secs(30), || async {
        let mut s = login(&owner.user).await?;
        imap::select(&mut s, "INBOX", true).await?;
        let flags = imap::fetch_flags(&mut s, None).await?;
        imap::logout(s).await;
        let owned: Vec<u32> = flags.iter().filter(|(_, f, _)| owners(f).any(|o| o == "alice")).map(|(u, _, _)| *u).collect();
        Ok((flags.len() == 3 && owned.len() == 1).then_some(owned))
    })
    .await
    .unwrap();
    assert_eq!(owned.len(), 1, "her cap from the supervisor's policy");

    // A login that may read but not write flags cannot claim: refused at start.
    let out = blendesk(&reader_desk, &["run", "--headless"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "read-only login must not run team mode");
    assert!(err.contains("custom keywords") && err.contains(&format!("shared/{}/INBOX", owner.user)), "{err}");
    // And solo sync still works for it.
    let out = blendesk(&reader_desk, &["sync", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let inbox = report["folders"].as_array().unwrap().iter().find(|f| f["folder"] == format!("shared/{}/INBOX", owner.user)).cloned();
    assert_eq!(inbox.map(|f| f["messages"].clone()), Some(3.into()), "{report}");
}
