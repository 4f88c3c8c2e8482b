//! Merging and splitting conversations in the real window: two customers write, the
//! advisor merges one conversation into the other through "Merge into…" (Esc cancels the
//! picker first), then splits one email off again. The list follows without a restart,
//! and the server carries the conversation tokens every app reads.

use blendesk_e2e::mail::{customer_email, imap_flags, smtp_send};
use blendesk_e2e::{stack_env, unique, wait_for, App, Launch, Mailboxes};
use std::time::Duration;

const SYNC: Duration = Duration::from_secs(30);

/// `from` writes in with a unique token in the subject and body; returns the token.
fn writes(mail: &Mailboxes, from: &str) -> String {
    let (_, smtp) = stack_env();
    let token = unique("case-");
    let msg = customer_email(
        from,
        &mail.desk_address(),
        &format!("Question {token}"),
        &format!("Hello, about {token}."),
        &format!("{token}@example.com"),
    );
    smtp_send(smtp, from, &mail.desk_address(), &msg).expect("SMTP delivery");
    token
}

/// Conversation tokens on the server, one entry per INBOX email (None: no token).
fn server_tokens(mail: &Mailboxes) -> Vec<Option<String>> {
    let (imap, _) = stack_env();
    let mut flags = imap_flags(imap, &mail.desk, "test").expect("IMAP flags");
    flags.sort_by_key(|(uid, _)| *uid);
    flags.into_iter().map(|(_, f)| blendesk_domain::conversation::token_of(&f)).collect()
}

fn conversations(app: &App) -> Vec<(String, String)> {
    app.session
        .find_all("[data-testid=conversation]")
        .unwrap_or_default()
        .iter()
        .filter_map(|c| Some((c.attr("data-key").ok()??, c.attr("data-customer").ok()??)))
        .collect()
}

fn thread_texts(app: &App) -> Vec<String> {
    app.session.find_all("[data-testid=thread-message]").unwrap_or_default().iter().filter_map(|m| m.text().ok()).collect()
}

#[test]
fn an_advisor_merges_two_conversations_and_splits_an_email_off_in_the_window() {
    let mail = Mailboxes::new();
    let app = App::launch(Launch { mail: &mail, lang: "en_US.UTF-8", wrap_up_seconds: 3, queues: &["INBOX"], setup: false, env: &[] });
    app.wait_ready();
    let (x, y) = (mail.customer_address(), format!("{}@example.com", unique("t_cusy")));
    let x_token = writes(&mail, &x);
    let y_token = writes(&mail, &y);
    wait_for("both customers' conversations in my list", SYNC, || (conversations(&app).len() == 2).then_some(()));

    // Open X's conversation; "Merge into…" lists my other conversation; Esc cancels.
    app.session.find(&format!("[data-testid=conversation][data-customer='{x}']")).unwrap().click().unwrap();
    wait_for("X's thread", Duration::from_secs(10), || thread_texts(&app).iter().any(|t| t.contains(&x_token)).then_some(()));
    app.session.find("[data-testid=merge-open]").unwrap().click().unwrap();
    let target = wait_for("the merge picker", Duration::from_secs(5), || app.session.find("[data-testid=merge-target]").ok());
    assert_eq!(target.attr("data-customer").unwrap().as_deref(), Some(y.as_str()), "only my other conversation is offered");
    // Keyboard first: the picker's first entry has the focus, and Esc closes it.
    let focused = app.session.execute("return document.activeElement?.dataset?.testid ?? null", vec![]).unwrap();
    assert_eq!(focused, "merge-target", "the picker takes the keyboard focus");
    app.session.find("[data-testid=merge-target]").unwrap().send_keys("\u{E00C}").unwrap();
    wait_for("the picker closed by Esc", Duration::from_secs(3), || app.session.find("[data-testid=merge-picker]").is_err().then_some(()));
    assert_eq!(server_tokens(&mail), [None, None], "cancelled: nothing written");
    app.screenshot("60-merge-cancelled");

    // Merge X's conversation into Y's, with the keyboard: Enter on the focused entry.
    app.session.find("[data-testid=merge-open]").unwrap().click().unwrap();
    wait_for("the merge picker", Duration::from_secs(5), || app.session.find("[data-testid=merge-target]").ok())
        .send_keys("\u{E007}")
        .unwrap();
    wait_for("one conversation in the list", SYNC, || {
        let c = conversations(&app);
        (c.len() == 1 && !c[0].0.contains('@')).then_some(())
    });
    // The list may follow the server (an engine event) before the command's answer.
    let status = wait_for("the merge's status", Duration::from_secs(5), || app.session.find("[data-testid=rearrange-status]").ok());
    assert_eq!(status.attr("data-ok").unwrap().as_deref(), Some("true"), "{}", status.text().unwrap());
    assert!(app.session.find("[data-testid=more-customers]").unwrap().text().unwrap().contains("+1"));
    wait_for("both customers' emails in one thread", Duration::from_secs(10), || {
        let t = thread_texts(&app);
        (t.iter().any(|m| m.contains(&x_token)) && t.iter().any(|m| m.contains(&y_token))).then_some(())
    });
    let merged = conversations(&app)[0].0.clone();
    assert_eq!(server_tokens(&mail), [Some(merged.clone()), Some(merged.clone())], "one token on the server");
    // The customer history follows: the other customer's address is known, and the
    // merged emails are one conversation there too.
    wait_for("the history names both customers, one conversation", Duration::from_secs(10), || {
        let aliases = app.session.find("[data-testid=history-aliases]").ok()?.text().ok()?;
        let items = app.session.find_all("[data-testid=history-item]").ok()?.len();
        ((aliases.contains(&x) || aliases.contains(&y)) && items == 1).then_some(())
    });
    app.screenshot("61-merged");

    // Split X's email off again: two conversations, each with its own token.
    let x_message = app
        .session
        .find_all("[data-testid=thread-message]")
        .unwrap()
        .into_iter()
        .find(|m| m.text().is_ok_and(|t| t.contains(&x_token)))
        .and_then(|m| m.attr("data-id").ok().flatten())
        .expect("X's message in the thread");
    app.session.find(&format!("[data-testid=thread-message][data-id='{x_message}'] [data-testid=split-off]")).unwrap().click().unwrap();
    wait_for("two conversations in the list again", SYNC, || (conversations(&app).len() == 2).then_some(()));
    let tokens = server_tokens(&mail);
    assert!(tokens.iter().all(Option::is_some) && tokens[0] != tokens[1], "two tokens on the server: {tokens:?}");
    let mut keys: Vec<String> = conversations(&app).into_iter().map(|(k, _)| k).collect();
    keys.sort();
    let mut expected: Vec<String> = tokens.into_iter().flatten().collect();
    expected.sort();
    assert_eq!(keys, expected, "the list shows the server's conversations");
    app.screenshot("62-split");

    // Splitting the only email of a conversation is refused with a clear message.
    let splittable = app.session.find_all("[data-testid=split-off]").unwrap().len();
    assert_eq!(splittable, 1, "the open conversation has one customer email (and our acknowledgement): {:?}", thread_texts(&app));
    app.session.find("[data-testid=split-off]").unwrap().click().unwrap();
    let status = wait_for("the refusal", Duration::from_secs(10), || {
        let s = app.session.find("[data-testid=rearrange-status]").ok()?;
        (s.attr("data-ok").ok()??.as_str() == "false").then_some(s)
    });
    assert!(status.text().unwrap().contains("nothing to split it from"), "{}", status.text().unwrap());
    assert_eq!(conversations(&app).len(), 2, "nothing changed");

    // Every new string is translated.
    app.session.find("[data-testid=lang-toggle]").unwrap().click().unwrap();
    wait_for("the window in Chinese", Duration::from_secs(3), || {
        app.session.find("[data-testid=merge-open]").ok()?.text().ok()?.contains("合并到").then_some(())
    });
    assert!(app.session.find("[data-testid=split-off]").unwrap().text().unwrap().contains("拆分"));
    app.screenshot("63-merge-split-zh");
}
