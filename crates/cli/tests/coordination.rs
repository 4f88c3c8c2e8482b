//! `blendesk coordination migrate`: a team moves from the mailbox backend to PostgreSQL
//! in one command. The mailbox's owners, releases and marks (the server's keywords) and
//! its policy land in the team database; a second run adds nothing; without a
//! `[coordination]` section the command says what to add.

use blendesk_coord_pg::AdvisorSession;
use blendesk_domain::advisor::AdvisorId;
use blendesk_engine::coordination::email_key;
use blendesk_mail::imap;
use blendesk_testkit::pg::PgTeam;
use blendesk_testkit::{login, stack, Desk, TEST_PASSWORD};
use std::path::Path;
use std::process::{Command, Output};

fn blendesk(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_blendesk"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("BLENDESK_IMAP_PASSWORD", TEST_PASSWORD)
        .env("BLENDESK_PG_PASSWORD", TEST_PASSWORD)
        .output()
        .unwrap()
}

fn migrate(config: &Path) -> serde_json::Value {
    let out = blendesk(config, &["coordination", "migrate", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_team_moves_to_postgresql_in_one_command() {
    let mut desk = Desk::new("migrate");
    let mut s = login(&desk.user).await.unwrap();
    let keywords = ["$bd_owner_a1 $Resolved", "$bd_owner_a2 $bd_declined_a1", "$bd_ack_a2", ""];
    for (i, kw) in keywords.iter().enumerate() {
        let raw = format!("From: <c{i}@example.com>\r\nSubject: order {i}\r\nMessage-ID: <mig{i}@example.com>\r\n\r\nhello\r\n");
        imap::append(&mut s, "INBOX", &format!("({kw})"), raw.as_bytes()).await.unwrap();
    }
    let uidvalidity = imap::select(&mut s, "INBOX", false).await.unwrap().uidvalidity;
    imap::logout(s).await;
    let key = |uid: u32| email_key("INBOX", uidvalidity, uid);

    // The mailbox's policy, published the mailbox way.
    let policy = desk.dir.path().join("policy.json");
    std::fs::write(&policy, r#"{"version": 1, "default_cap": 3, "supervisors": ["alice"]}"#).unwrap();
    let out = blendesk(&desk.config_path, &["policy", "publish", policy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // An article and an approved template, the mailbox way.
    let article = desk.dir.path().join("returns.md");
    std::fs::write(&article, "Send the parcel back within 30 days.").unwrap();
    let template = desk.dir.path().join("refund.txt");
    std::fs::write(&template, "Your refund is on its way.").unwrap();
    for args in [
        vec!["knowledge", "publish", article.to_str().unwrap(), "--tags", "returns", "--title", "Returns"],
        vec!["template", "publish", template.to_str().unwrap(), "--name", "refund", "--queue", "INBOX", "--lang", "en"],
        vec!["template", "approve", "refund"],
    ] {
        let out = blendesk(&desk.config_path, &args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }

    // Without a [coordination] section there is nowhere to migrate to.
    let out = blendesk(&desk.config_path, &["coordination", "migrate"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("[coordination]"), "{}", String::from_utf8_lossy(&out.stderr));

    let team = PgTeam::new(&["a1", "a2"], &["alice"]).await;
    desk.coordinated_by(&team, stack().imap_port);
    let first = migrate(&desk.config_path);
    assert_eq!(first["emails"], 4);
    assert_eq!(first["owners_imported"], 2);
    assert_eq!(first["releases_imported"], 1);
    assert_eq!(first["marks_imported"], 2, "$Resolved and the acknowledgement: {first}");
    assert!(first["policy_version"].is_u64(), "{first}");
    assert_eq!(first["documents_imported"], 2, "the article and the template: {first}");
    assert_eq!(first["approvals_to_redo"].as_array().map(Vec::len), Some(0), "alice's own approval carried: {first}");

    let db = AdvisorSession::connect(
        &team.settings.with_login(&format!("{}_alice", team.database), TEST_PASSWORD),
        &AdvisorId::parse("alice").unwrap(),
    )
    .await
    .unwrap();
    let owners: Vec<(String, String)> = db.owners().await.unwrap().into_iter().map(|(k, o)| (k, o.to_string())).collect();
    let mut expected = vec![(key(1), "a1".to_string()), (key(2), "a2".to_string())];
    expected.sort();
    assert_eq!(owners, expected);
    let second = db.email_state(&key(2)).await.unwrap();
    assert_eq!(second.declined.iter().map(|a| a.to_string()).collect::<Vec<_>>(), ["a1"]);
    assert_eq!(db.email_state(&key(1)).await.unwrap().marks, ["$Resolved"]);
    assert_eq!(db.email_state(&key(3)).await.unwrap().marks, ["$bd_ack"], "the earlier per-holder mark becomes the duty mark");
    assert_eq!(db.email_state(&key(4)).await.unwrap(), Default::default());
    assert_eq!(db.latest_policy().await.unwrap().expect("the policy moved").policy.default_cap, 3);

    // Again: nothing new, nothing lost.
    let again = migrate(&desk.config_path);
    assert_eq!((again["owners_imported"].as_u64(), again["owners_unchanged"].as_u64()), (Some(0), Some(2)), "{again}");
    assert_eq!((again["releases_imported"].as_u64(), again["marks_imported"].as_u64()), (Some(0), Some(0)), "{again}");
    assert!(again["policy_version"].is_null(), "{again}");
    assert_eq!(again["documents_imported"], 0, "{again}");
    // The app on the database sees the article and the approved template.
    let out = blendesk(&desk.config_path, &["knowledge", "list", "--json"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Returns"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = blendesk(&desk.config_path, &["template", "list"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("refund"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(again["conflicts"].as_array().map(Vec::len), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_administrator_creates_the_schema_and_registers_advisors() {
    let mut desk = Desk::new("pgadmin");
    let team = PgTeam::unmigrated().await;
    desk.coordinated_by(&team, stack().imap_port);
    let admin_user = team.settings.user.clone();
    let admin = |args: &[&str], new_password: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_blendesk"));
        c.arg("--config").arg(&desk.config_path).args(args).env("BLENDESK_PG_ADMIN_PASSWORD", &team.settings.password);
        match new_password {
            Some(p) => c.env("BLENDESK_PG_NEW_PASSWORD", p),
            None => c.env_remove("BLENDESK_PG_NEW_PASSWORD"),
        };
        c.output().unwrap()
    };
    let text = |o: &Output| format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));

    let out = admin(&["coordination", "init", "--admin-user", &admin_user], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("applied schema versions {:?}", (1..=blendesk_coord_pg::SCHEMA_VERSION).collect::<Vec<_>>())),
        "{}",
        text(&out)
    );
    let out = admin(&["coordination", "init", "--admin-user", &admin_user], None);
    assert!(text(&out).contains("up to date"), "{}", text(&out));

    // A role's password never on the command line: without the variable, a clear refusal.
    let login = format!("{}_a1", team.database);
    let out = admin(&["coordination", "add-advisor", "a1", "--login", &login, "--admin-user", &admin_user], None);
    assert!(!out.status.success());
    assert!(text(&out).contains("BLENDESK_PG_NEW_PASSWORD"), "{}", text(&out));
    let out = admin(&["coordination", "add-advisor", "a1", "--login", &login, "--admin-user", &admin_user], Some(TEST_PASSWORD));
    assert!(out.status.success(), "{}", text(&out));
    let out = admin(&["coordination", "add-advisor", "Not Valid", "--login", &login, "--admin-user", &admin_user], Some(TEST_PASSWORD));
    assert!(!out.status.success() && text(&out).contains("advisor id"), "{}", text(&out));

    // The new advisor logs in under their own role and is who row-level security says.
    let session =
        AdvisorSession::connect(&team.settings.with_login(&login, TEST_PASSWORD), &AdvisorId::parse("a1").unwrap()).await.unwrap();
    assert_eq!(session.advisor().as_str(), "a1");
}
