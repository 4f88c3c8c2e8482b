//! "Pick up the phone" in the real window: a complaint ("投诉") shows the call
//! suggestion banner with the customer's number as a tel: link (from their signature,
//! never our own quoted number), and a logged call note appears in the thread while the
//! banner goes away.

use blendesk_e2e::mail::{customer_email, smtp_send};
use blendesk_e2e::{stack_env, unique, wait_for, App, Launch, Mailboxes, Team};
use serde_json::json;
use std::time::Duration;

const SYNC: Duration = Duration::from_secs(30);

#[test]
fn callback_suggests_a_call_with_a_tel_link_and_logs_a_call_note() {
    let mail = Mailboxes::new();
    let policy = json!({"version": 1, "wrap_up_seconds": 3,
        "callback": {"region": "gb", "our_numbers": ["020 7946 0000"]}});
    let app = App::launch_as(
        Launch { mail: &mail, lang: "en_US.UTF-8", wrap_up_seconds: 3, queues: &["INBOX"], setup: false, env: &[] },
        Team { advisor: None, policy: Some(policy) },
    );
    app.wait_ready();

    let (_, smtp) = stack_env();
    let token = unique("cb-");
    let subject = format!("订单 {token} 还没到");
    let body = "已经等了三个星期，我要投诉！\n\n王先生\n手机：+86 138 0013 8000\n\n> 客服热线 020 7946 0000";
    smtp_send(
        smtp,
        &mail.customer_address(),
        &mail.desk_address(),
        &customer_email(&mail.customer_address(), &mail.desk_address(), &subject, body, &format!("{token}@example.com")),
    )
    .expect("SMTP delivery");
    let css = format!("[data-testid=conversation][data-customer='{}']", mail.customer_address());
    wait_for("the customer's email in my conversations", SYNC, || app.session.find(&css).ok()).click().unwrap();

    wait_for("the call suggestion", SYNC, || app.session.find("[data-testid=call-suggestion]").ok());
    let reasons = app.session.find("[data-testid=call-suggestion] [data-testid=call-reasons]").unwrap().text().unwrap();
    assert!(reasons.contains("Suggest a call") && reasons.contains("投诉"), "reasons {reasons:?}");
    let dial = app.session.find("[data-testid=call-suggestion] [data-testid=call-dial]").unwrap();
    assert_eq!(dial.attr("href").unwrap().as_deref(), Some("tel:+8613800138000"));
    assert!(dial.text().unwrap().contains("+86 138 0013 8000"), "link text {:?}", dial.text());
    app.screenshot("50-call-suggestion");

    // Log a call note: it joins the thread for the team, and the banner goes away.
    let note = "Called Mr Wang: parcel re-sent by courier, he is fine now.";
    app.session
        .execute(
            "const e = document.querySelector('[data-testid=call-note-text]'); e.value = arguments[0]; e.dispatchEvent(new Event('input', {bubbles: true}));",
            vec![json!(note)],
        )
        .unwrap();
    app.session.find("[data-testid=call-note-log]").unwrap().click().unwrap();
    wait_for("the note in the thread", SYNC, || {
        let notes = app.session.find_all("[data-testid=thread-note]").ok()?;
        (notes.len() == 1).then_some(())
    });
    wait_for("the suggestion gone after the call", SYNC, || app.session.find("[data-testid=call-suggestion]").is_err().then_some(()));
    let thread = app.session.find("[data-testid=thread]").unwrap().text().unwrap();
    assert!(thread.contains("parcel re-sent by courier"), "thread {thread:?}");
    app.screenshot("51-call-note-logged");
}
