//! The knowledge base, approved templates and the customer history in the real window:
//! a supervisor writes articles in the app (English and Chinese), they are ranked for the
//! open email, inserted with one click and marked used; the template picker offers only
//! approved team templates, and a placeholder left unfilled blocks sending.

use blendesk_e2e::mail::{customer_email, smtp_send};
use blendesk_e2e::{cli_binary, config_text, stack_env, unique, wait_for, App, Launch, Mailboxes, Team};
use serde_json::json;
use std::process::Command;
use std::time::Duration;

const SYNC: Duration = Duration::from_secs(30);

fn composer_value(app: &App) -> String {
    app.session
        .find("[data-testid=composer]")
        .and_then(|c| c.property("value"))
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Set a field's text through the page, as an input method would (the X keyboard of
/// the test display types no Chinese, and newlines in a textarea are text, not keys).
fn fill(app: &App, testid: &str, text: &str) {
    app.session
        .execute(
            "const e = document.querySelector(`[data-testid=${arguments[0]}]`); e.value = arguments[1]; e.dispatchEvent(new Event('input', {bubbles: true}));",
            vec![json!(testid), json!(text)],
        )
        .unwrap();
}

/// `blendesk` as supervisor sam with its own store (the app's is untouched).
fn cli(mail: &Mailboxes, dir: &std::path::Path, args: &[&str]) {
    let config = dir.join("sam-cli.toml");
    std::fs::write(&config, config_text("sam", "Sam Supervisor", mail, &["INBOX"], &dir.join("sam-cli.sqlite"))).unwrap();
    let out = Command::new(cli_binary()).arg("--config").arg(&config).args(args).env("BLENDESK_IMAP_PASSWORD", "test").output().unwrap();
    assert!(out.status.success(), "blendesk {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn write_article(app: &App, title: &str, tags: &str, body: &str) {
    app.session.find("[data-testid=kb-new]").unwrap().click().unwrap();
    wait_for("the article editor", Duration::from_secs(5), || app.session.find("[data-testid=kb-editor]").ok());
    fill(app, "kb-title", title);
    fill(app, "kb-tags", tags);
    fill(app, "kb-body", body);
    app.session.find("[data-testid=kb-save]").unwrap().click().unwrap();
    wait_for("the editor to close after publishing", SYNC, || {
        if let Ok(e) = app.session.find("[data-testid=kb-error]") {
            panic!("publishing failed: {}", e.text().unwrap_or_default());
        }
        app.session.find("[data-testid=kb-editor]").is_err().then_some(())
    });
}

#[test]
fn knowledge_supervisor_writes_articles_advisor_inserts_snippets_and_approved_templates_only() {
    let mail = Mailboxes::new();
    let policy = json!({"version": 1, "wrap_up_seconds": 3, "supervisors": ["sam"], "advisors": {"sam": {"cap": 3}}});
    let app = App::launch_as(
        Launch { mail: &mail, lang: "en_US.UTF-8", wrap_up_seconds: 3, queues: &["INBOX"], setup: false, env: &[] },
        Team { advisor: Some("sam"), policy: Some(policy) },
    );
    app.wait_ready();

    let (_, smtp) = stack_env();
    let token = unique("rf-");
    let subject = format!("Refund for order {token}");
    let body = "Hello, I returned the shoes last week. When will my refund reach my card?";
    smtp_send(
        smtp,
        &mail.customer_address(),
        &mail.desk_address(),
        &customer_email(&mail.customer_address(), &mail.desk_address(), &subject, body, &format!("{token}@example.com")),
    )
    .expect("SMTP delivery");
    let css = format!("[data-testid=conversation][data-customer='{}']", mail.customer_address());
    wait_for("the customer's email in my conversations", SYNC, || app.session.find(&css).ok()).click().unwrap();
    wait_for("the knowledge pane, empty", Duration::from_secs(10), || app.session.find("[data-testid=kb-empty]").ok());

    // The supervisor writes two articles in the app; the English one is ranked for this email.
    write_article(
        &app,
        "Refund times",
        "refund, card",
        "Refunds reach your card within 5 working days.\n\nDetails: https://help.shop.test/refunds",
    );
    write_article(&app, "退款时间", "退款", "退款会在五个工作日内退回您的银行卡。");
    let snippet = "[data-testid=kb-snippet][data-article^=refund-times]";
    wait_for("the new article ranked for the open email", SYNC, || app.session.find(snippet).ok());
    let first = app.session.find("[data-testid=kb-snippet]").unwrap().attr("data-article").unwrap().unwrap();
    assert!(first.starts_with("refund-times"), "first snippet {first}");
    app.screenshot("40-knowledge-ranked");

    // One click inserts the snippet, another its link; "used" counts it.
    app.session.find(&format!("{snippet} [data-testid=kb-insert]")).unwrap().click().unwrap();
    app.session.find(&format!("{snippet} [data-testid=kb-insert-link]")).unwrap().click().unwrap();
    let draft = composer_value(&app);
    assert!(draft.contains("within 5 working days") && draft.contains("https://help.shop.test/refunds"), "draft {draft:?}");
    app.session.find(&format!("{snippet} [data-testid=kb-used]")).unwrap().click().unwrap();
    wait_for("the use counted", SYNC, || {
        (app.session.find(&format!("{snippet} [data-testid=kb-uses]")).ok()?.attr("data-uses").ok()?? == "1").then_some(())
    });

    // Chinese search finds the Chinese article.
    fill(&app, "kb-search", "我要退款");
    app.session.find("[data-testid=kb-search]").unwrap().send_keys("\u{E007}").unwrap();
    wait_for("the Chinese article found", SYNC, || {
        let items = app.session.find_all("[data-testid=kb-snippet]").ok()?;
        items.iter().any(|i| i.text().map(|t| t.contains("退款时间")).unwrap_or(false)).then_some(())
    });
    app.session.find("[data-testid=lang-toggle]").unwrap().click().unwrap();
    wait_for("Chinese labels", Duration::from_secs(3), || (app.session.find("#kb-title").ok()?.text().ok()? == "知识库").then_some(()));
    app.screenshot("41-knowledge-zh");
    app.session.find("[data-testid=lang-toggle]").unwrap().click().unwrap();

    // Templates: one approved, one not. Only the approved one is offered.
    let dir = app.dir.join("templates");
    std::fs::create_dir_all(&dir).unwrap();
    let approved = dir.join("approved.txt");
    std::fs::write(&approved, "Dear {{customer.first_name}},\n\n{{reply.answer}}\n\nKind regards,\n{{advisor.name}}\n").unwrap();
    let draft_tpl = dir.join("draft.txt");
    std::fs::write(&draft_tpl, "Not approved yet.\n").unwrap();
    cli(&mail, &dir, &["template", "publish", approved.to_str().unwrap(), "--name", "Refund reply", "--queue", "INBOX", "--lang", "en"]);
    cli(&mail, &dir, &["template", "publish", draft_tpl.to_str().unwrap(), "--name", "Draft reply", "--queue", "INBOX", "--lang", "en"]);
    cli(&mail, &dir, &["template", "approve", "Refund reply"]);
    let option = "[data-testid=template-select] option[value='team:Refund reply']";
    wait_for("the approved template in the picker", SYNC, || {
        // The picker reloads the team's templates when a conversation opens.
        app.session.find(&css).ok()?.click().ok()?;
        app.session.find(option).ok()
    });
    assert!(app.session.find("[data-testid=template-select] option[value='team:Draft reply']").is_err(), "unapproved template offered");
    fill_composer_with_template(&app, option);
    let draft = composer_value(&app);
    // Filled from the conversation and the app's advisor; what only the advisor knows stays.
    assert!(draft.contains("Dear Casey,") && draft.contains("{{reply.answer}}"), "draft {draft:?}");
    assert!(!draft.contains("{{advisor.name}}") && !draft.contains("{{customer.first_name}}"), "draft {draft:?}");
    app.session.find("[data-testid=send]").unwrap().click().unwrap();
    let status = wait_for("sending refused", Duration::from_secs(10), || {
        let s = app.session.find("[data-testid=send-status]").ok()?;
        (s.attr("data-state").ok()?? == "failed").then(|| s.text().unwrap_or_default())
    });
    assert!(status.contains("{{reply.answer}}"), "status {status:?}");
    app.screenshot("42-template-blocked");

    // The customer history shows this conversation, open.
    wait_for("the history", Duration::from_secs(10), || app.session.find("[data-testid=history-item][data-status=open]").ok());
}

fn fill_composer_with_template(app: &App, option: &str) {
    app.session.find("[data-testid=composer]").unwrap().clear().unwrap();
    app.session.find(option).unwrap().click().unwrap();
    let insert = app.session.find("[data-testid=insert-template]").unwrap();
    wait_for("insert button enabled", Duration::from_secs(5), || insert.enabled().ok()?.then_some(()));
    insert.click().unwrap();
    wait_for("the template in the composer", Duration::from_secs(10), || composer_value(app).contains("Dear").then_some(()));
}
