//! Quality reviews in the real window: the supervisor opens a conversation, scores it
//! on the team's scorecard beside the thread (a value per category, N/A where allowed,
//! a comment) for the advisor whose work it was, and sees the score; the panel speaks
//! Chinese too; the supervisor tags the conversation from the keyboard (a bad tag is
//! refused with the reason) and picks a conversation from this week's sample. Then the
//! reviewed advisor's own window lists the review with the score and comment, and not the
//! review of a colleague's work.

use blendesk_e2e::mail::{customer_email, smtp_send};
use blendesk_e2e::{cli_binary, config_text, stack_env, unique, wait_for, App, Launch, Mailboxes, Team};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const SYNC: Duration = Duration::from_secs(30);

const CARD: &str = r#"{
    "name": "Email", "version": 1, "channel": "email", "root_causes": ["knowledge", "process"],
    "sections": [
        {"name": "Answer", "categories": [
            {"id": "correct", "label": "The answer is correct", "scale": "binary", "weight": 2, "critical": true, "allow_na": false},
            {"id": "tone", "label": "Friendly tone", "scale": "five"}
        ]},
        {"name": "Form", "categories": [{"id": "links", "label": "Links work", "scale": "three"}]}
    ]
}"#;

/// Run the CLI as `advisor` on the test's mailbox.
fn blendesk(mail: &Mailboxes, dir: &Path, advisor: &str, args: &[&str]) -> String {
    let config = dir.join(format!("{advisor}.toml"));
    std::fs::write(&config, config_text(advisor, advisor, mail, &["INBOX"], &dir.join(format!("{advisor}.sqlite")))).unwrap();
    let out = Command::new(cli_binary()).arg("--config").arg(&config).args(args).env("BLENDESK_IMAP_PASSWORD", "test").output().unwrap();
    assert!(out.status.success(), "blendesk {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Pick `value` in the select `css` by clicking its option, as a person would.
fn choose(app: &App, css: &str, value: &str) {
    app.session.find(&format!("{css} option[value='{value}']")).unwrap().click().unwrap();
    let chosen = app.session.find(css).unwrap().property("value").unwrap();
    assert_eq!(chosen, serde_json::json!(value), "{css}");
}

#[test]
fn a_supervisor_scores_a_conversation_and_the_advisor_sees_the_review() {
    let mail = Mailboxes::new();
    let dir = std::env::temp_dir().join(unique("quality-"));
    std::fs::create_dir_all(&dir).unwrap();
    let policy = serde_json::json!({"version": 1, "wrap_up_seconds": 3, "supervisors": ["sam"],
        "advisors": {"sam": {}, "bob": {}, "carol": {}}});
    blendesk_e2e::publish_policy(&mail, &dir, &policy);
    std::fs::write(dir.join("card.json"), CARD).unwrap();
    blendesk(&mail, &dir, "sam", &["quality", "scorecard", dir.join("card.json").to_str().unwrap()]);
    // A review of a colleague's work, written from the command line.
    let other = r#"{"scorecard": "Email", "scorecard_version": 1, "conversation": "someone@example.com", "advisor": "carol",
        "reviewer": "sam", "scores": {"correct": 0, "tone": 2, "links": 1}, "comment": "Wrong refund amount."}"#;
    std::fs::write(dir.join("other.json"), other).unwrap();
    blendesk(&mail, &dir, "sam", &["quality", "review", dir.join("other.json").to_str().unwrap()]);

    // The supervisor's window: a customer writes, the conversation comes in.
    let launch = || Launch { mail: &mail, lang: "en_US.UTF-8", wrap_up_seconds: 3, queues: &["INBOX"], setup: false, env: &[] };
    let app = App::launch_as(launch(), Team { advisor: Some("sam"), policy: Some(policy.clone()) });
    app.wait_ready();
    let (_, smtp) = stack_env();
    let customer = mail.customer_address();
    let msg = customer_email(
        &customer,
        &mail.desk_address(),
        "Refund for order 88",
        "I was charged twice.",
        &format!("{}@example.com", unique("q")),
    );
    smtp_send(smtp, &customer, &mail.desk_address(), &msg).unwrap();
    let conversation = format!("[data-testid=conversation][data-customer='{customer}']");
    wait_for("the conversation", SYNC, || app.session.find(&conversation).ok());
    app.session.find(&conversation).unwrap().click().unwrap();
    wait_for("the review form with the scorecard", Duration::from_secs(15), || {
        (app.session.find_all("[data-testid=review-score]").ok()?.len() == 3).then_some(())
    });
    assert!(app.session.find("[data-testid=my-reviews-none]").is_ok(), "nothing reviewed of Sam's own work");

    // Score it for Bob: correct yes, tone 4, links N/A, and a comment.
    let advisor = app.session.find("[data-testid=review-advisor]").unwrap();
    advisor.clear().unwrap();
    advisor.send_keys("bob").unwrap();
    choose(&app, "[data-testid=review-score][data-category=correct]", "1");
    choose(&app, "[data-testid=review-score][data-category=tone]", "4");
    choose(&app, "[data-testid=review-score][data-category=links]", "na");
    app.session.find("[data-testid=review-comment]").unwrap().send_keys("Clear and kind; say when the refund lands.").unwrap();
    app.session.find("[data-testid=review-submit]").unwrap().click().unwrap();
    // correct 1 × 2, tone (4 − 1) / 4 × 1, links N/A: (2 + 0.75) / 3 = 91.7 %.
    let result = wait_for("the score", Duration::from_secs(15), || {
        if let Ok(e) = app.session.find("[data-testid=quality-error]") {
            panic!("the review was refused: {}", e.text().unwrap_or_default());
        }
        app.session.find("[data-testid=review-result]").ok()?.text().ok()
    });
    assert_eq!(result.trim(), "Review saved: 92 %");
    app.screenshot("quality-review-en");

    // Tag the conversation from the keyboard: the tag shows normalised; a bad one is
    // refused with the reason and adds nothing.
    let input = app.session.find("[data-testid=tag-input]").unwrap();
    input.send_keys(" Refund \u{E007}").unwrap();
    wait_for("the tag", Duration::from_secs(10), || app.session.find("[data-testid=tag][data-tag=refund]").ok());
    app.session.find("[data-testid=tag-input]").unwrap().send_keys("a,b\u{E007}").unwrap();
    let refusal = wait_for("the refusal", Duration::from_secs(10), || app.session.find("[data-testid=tag-error]").ok()?.text().ok());
    assert!(refusal.contains("','"), "{refusal}");
    assert_eq!(app.session.find_all("[data-testid=tag]").unwrap().len(), 1);
    app.screenshot("tags-en");

    // This week's sample lists Sam's conversation; picking it names it in the form.
    let item = wait_for("the sample", Duration::from_secs(15), || app.session.find("[data-testid=sample-item][data-advisor=sam]").ok());
    item.click().unwrap();
    let target =
        wait_for("the picked conversation", Duration::from_secs(5), || app.session.find("[data-testid=review-target]").ok()?.text().ok());
    assert!(target.contains(&customer.to_lowercase()) || target.contains("$bd_conv_"), "{target}");

    // The same panel in Chinese.
    app.session.find("[data-testid=lang-toggle]").unwrap().click().unwrap();
    wait_for("Chinese labels", Duration::from_secs(5), || {
        app.session.find("[data-testid=review-form] h3").ok()?.text().ok().filter(|t| t == "评审此会话")
    });
    app.screenshot("quality-review-zh");
    drop(app);

    // Bob's window: the review of his work, with its score and comment; not Carol's.
    let app = App::launch_as(launch(), Team { advisor: Some("bob"), policy: Some(policy) });
    app.wait_ready();
    let reviews = wait_for("Bob's review", SYNC, || {
        let r = app.session.find_all("[data-testid=my-review]").ok()?;
        (!r.is_empty()).then(|| r.iter().filter_map(|e| e.text().ok()).collect::<Vec<_>>())
    });
    assert_eq!(reviews.len(), 1, "{reviews:?}");
    assert!(reviews[0].contains("92 %") && reviews[0].contains("sam") && reviews[0].contains("say when the refund lands"), "{reviews:?}");
    let score = app.session.find("[data-testid=my-quality-score]").unwrap().text().unwrap();
    assert_eq!(score, "My quality score: 92 %");
    assert!(app.session.find("[data-testid=review-form]").is_err(), "an advisor does not review");
    let page = app.session.source().unwrap();
    assert!(!page.contains("Wrong refund amount"), "nothing of Carol's review");
    app.screenshot("quality-advisor");
}
