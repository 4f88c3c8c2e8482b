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

fn write(desk: &Desk, name: &str, bytes: &[u8]) -> PathBuf {
    let p = desk.dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisors_publish_and_approve_advisors_search_and_list() {
    let desk = Desk::new("clikb");
    let sam = desk.config_for("sam", "sam");
    let bob = desk.config_for("bob", "bob");
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

/// The demo team's documents (what `scripts/demo.sh` publishes) are valid: the policy
/// parses, every article and template is published and approved, English and Chinese
/// questions find the right article, and a second run leaves the mailbox alone.
#[test]
fn the_demo_content_publishes_and_answers_english_and_chinese_questions() {
    let desk = Desk::new("demo");
    let root = blendesk_testkit::repo_root();
    let run = || {
        Command::new(root.join("scripts/demo-content.sh"))
            .arg(&desk.config_path)
            .env("BLENDESK_BIN", env!("CARGO_BIN_EXE_blendesk"))
            .env("BLENDESK_IMAP_PASSWORD", "test")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .output()
            .expect("demo-content.sh runs")
    };
    let first = ok(&run());
    let articles = std::fs::read_dir(root.join("demo/knowledge")).unwrap().count();
    assert!(first.contains(&format!("{articles} articles")), "{first}");
    assert!(ok(&run()).contains("already there"));

    let list: serde_json::Value = serde_json::from_str(&ok(&blendesk(&desk.config_path, &["knowledge", "list", "--json"]))).unwrap();
    assert_eq!(list["articles"].as_array().unwrap().len(), articles, "{list}");
    assert!(list["problems"].as_array().unwrap().is_empty(), "{list}");
    let best = |q: &str| -> String {
        let hits: serde_json::Value =
            serde_json::from_str(&ok(&blendesk(&desk.config_path, &["knowledge", "search", q, "--json"]))).unwrap();
        hits[0]["title"].as_str().unwrap_or_default().to_owned()
    };
    assert_eq!(best("Could you send order SO-1 to my new address instead? I have moved."), "Change the delivery address of an order");
    assert_eq!(best("My card was charged twice, please refund the duplicate payment"), "Charged twice for one order");
    assert_eq!(best("我搬家了，请把订单改寄到新的收货地址"), "修改订单收货地址");
    assert_eq!(best("请为订单开具增值税发票"), "开具增值税发票");

    // Templates: approved (advisors see them), in both languages, footers apart.
    let templates: serde_json::Value = serde_json::from_str(&ok(&blendesk(&desk.config_path, &["template", "list", "--json"]))).unwrap();
    let names: Vec<&str> = templates.as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    for want in ["Delivery address changed", "地址已修改", "Return label attached", "footer/INBOX"] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    // Alice supervises in the demo.
    let policy = ok(&blendesk(&desk.config_path, &["policy", "show"]));
    assert!(policy.contains("alice"), "{policy}");
}
