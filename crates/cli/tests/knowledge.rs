//! `blendesk knowledge|template|history` as a supervisor and an advisor run them, on the
//! real local mail stack: exit codes, one-line errors, JSON output.

use blendesk_testkit::{customer_mail, eventually, smtp_send, Customer, Desk};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

/// Run `blendesk` with `config`.
fn blendesk(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blendesk"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("BLENDESK_IMAP_PASSWORD", "test")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .expect("blendesk runs")
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "exit {:?}: {}", o.status.code(), String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn failed(o: &Output) -> String {
    assert!(!o.status.success(), "expected a failure: {}", String::from_utf8_lossy(&o.stdout));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    err
}

/// The desk's config for another advisor id (own database).
fn config_for(desk: &Desk, id: &str) -> PathBuf {
    let text = std::fs::read_to_string(&desk.config_path)
        .unwrap()
        .replace("id = \"alice\"", &format!("id = \"{id}\""))
        .replace("blendesk.db", &format!("{id}.db"));
    let path = desk.dir.path().join(format!("{id}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn write(desk: &Desk, name: &str, bytes: &[u8]) -> PathBuf {
    let p = desk.dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisors_publish_and_approve_advisors_search_and_list() {
    let desk = Desk::new("clikb");
    let sam = config_for(&desk, "sam");
    let bob = config_for(&desk, "bob");
    let policy = write(&desk, "policy.json", br#"{"version":1,"supervisors":["sam"]}"#);
    ok(&blendesk(&sam, &["policy", "publish", policy.to_str().unwrap()]));

    let en = write(&desk, "refunds.md", "# How refunds work\n\nA refund reaches your card within 5 days.\n".as_bytes());
    let zh = write(&desk, "tuikuan.md", "# 退款流程\n\n退款会在五个工作日内退回您的银行卡。\n".as_bytes());
    let id = ok(&blendesk(&sam, &["knowledge", "publish", en.to_str().unwrap(), "--tags", "refund,money"]));
    assert!(id.trim().starts_with("how-refunds-work-"), "{id}");
    assert_eq!(ok(&blendesk(&sam, &["knowledge", "publish", zh.to_str().unwrap(), "--tags", "退款", "--id", "tuikuan"])).trim(), "tuikuan");

    // An advisor may not publish: one clear line, non-zero exit.
    let err = failed(&blendesk(&bob, &["knowledge", "publish", en.to_str().unwrap()]));
    assert!(err.contains("bob is not a supervisor"), "{err}");
    // Hostile files: not UTF-8, no title.
    let bad = write(&desk, "bad.md", b"# T\n\n\xff\xfe\x00");
    assert!(failed(&blendesk(&sam, &["knowledge", "publish", bad.to_str().unwrap()])).contains("not UTF-8"));
    let untitled = write(&desk, "untitled.md", b"just text");
    assert!(failed(&blendesk(&sam, &["knowledge", "publish", untitled.to_str().unwrap()])).contains("no title"));

    // The advisor's app finds both, in either language.
    let hits: serde_json::Value = serde_json::from_str(&ok(&blendesk(&bob, &["knowledge", "search", "我要退款", "--json"]))).unwrap();
    assert_eq!(hits[0]["article_id"], "tuikuan");
    let hits: serde_json::Value = serde_json::from_str(&ok(&blendesk(&bob, &["knowledge", "search", "refund card", "--json"]))).unwrap();
    assert_eq!(hits[0]["title"], "How refunds work");
    assert_eq!(ok(&blendesk(&bob, &["knowledge", "used", "tuikuan"])).trim(), "1");
    let list = ok(&blendesk(&bob, &["knowledge", "list"]));
    assert!(list.contains("tuikuan") && list.contains("1 uses"), "{list}");

    // Templates: published, invisible to advisors until approved.
    let tpl = write(&desk, "refund-sent.txt", b"Dear {{customer.first_name}},\n\n{{reply.answer}}\n\n{{advisor.name}}\n");
    ok(&blendesk(&sam, &["template", "publish", tpl.to_str().unwrap(), "--name", "Refund sent", "--queue", "INBOX", "--lang", "en"]));
    let listed: serde_json::Value = serde_json::from_str(&ok(&blendesk(&bob, &["template", "list", "--json"]))).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 0);
    assert!(failed(&blendesk(&bob, &["template", "list", "--all"])).contains("approved templates only"));
    assert!(failed(&blendesk(&bob, &["template", "approve", "Refund sent"])).contains("not a supervisor"));
    let all = ok(&blendesk(&sam, &["template", "list", "--all"]));
    assert!(all.contains("waiting for approval"), "{all}");
    ok(&blendesk(&sam, &["template", "approve", "Refund sent"]));
    let listed: serde_json::Value = serde_json::from_str(&ok(&blendesk(&bob, &["template", "list", "--json"]))).unwrap();
    assert_eq!(listed[0]["name"], "Refund sent");
    assert_eq!(listed[0]["approved_by"][0], "sam");
    assert!(failed(&blendesk(&sam, &["template", "approve", "Nope"])).contains("no template named"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_lists_conversations_under_linked_addresses() {
    let desk = Desk::new("clihist");
    let (a, b) = (Customer::new("ha"), Customer::new("hb"));
    for (c, subject) in [(&a, "Order A"), (&b, "Order B")] {
        let (_, raw) = customer_mail(&c.address, &desk.address, subject, "where is it?");
        smtp_send(&c.address, &[&desk.address], &raw).await.unwrap();
    }
    eventually("delivery", Duration::from_secs(15), || async {
        Ok((blendesk_testkit::count_messages(&desk.user, "INBOX").await? == 2).then_some(()))
    })
    .await
    .unwrap();
    let h: serde_json::Value = serde_json::from_str(&ok(&blendesk(&desk.config_path, &["history", &a.address, "--json"]))).unwrap();
    assert_eq!(h["conversations"].as_array().unwrap().len(), 1);
    ok(&blendesk(&desk.config_path, &["customer", "link", &a.address, &b.address]));
    let h: serde_json::Value = serde_json::from_str(&ok(&blendesk(&desk.config_path, &["history", &a.address, "--json"]))).unwrap();
    assert_eq!(h["addresses"].as_array().unwrap().len(), 2);
    assert_eq!(h["conversations"].as_array().unwrap().len(), 2);
    assert_eq!(h["conversations"][0]["status"], "open");
    assert!(failed(&blendesk(&desk.config_path, &["customer", "link", &a.address, "not-an-address"])).contains("not an email address"));
}
