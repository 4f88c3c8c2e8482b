//! Knowledge base, templates and customer history against the real local mail stack:
//! documents live in the shared mailbox, several apps (each its own database) see the
//! same articles, counts and approvals; hostile documents are reported, never fatal.

use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::blending::Policy;
use blendesk_engine::{Engine, EngineError};
use blendesk_mail::imap;
use blendesk_testkit::{customer_mail, eventually, login, smtp_send, Customer, Desk, TEST_PASSWORD};
use std::sync::Arc;
use std::time::Duration;

/// Another advisor's app on the same shared mailbox, with its own database.
fn app(desk: &Desk, id: &str, name: &str) -> Arc<Engine> {
    let mut config = desk.config.clone();
    config.advisor.id = AdvisorId::parse(id).unwrap();
    config.advisor.name = name.into();
    config.store.path = desk.dir.path().join(format!("{id}.db"));
    Engine::with_passwords(config, TEST_PASSWORD.into(), None).unwrap()
}

async fn with_supervisor(engine: &Engine, id: &str) {
    let policy = Policy::parse(format!(r#"{{"version":1,"supervisors":["{id}"]}}"#).as_bytes()).unwrap();
    engine.publish_policy(&policy).await.unwrap();
    engine.load_policy().await.unwrap();
}

/// Deliver a customer email and wait until `engine` has mirrored it; returns its id.
async fn deliver(engine: &Arc<Engine>, desk: &Desk, raw: &[u8], from: &str, subject: &str) -> i64 {
    smtp_send(from, &[&desk.address], raw).await.unwrap();
    eventually("the email is mirrored", Duration::from_secs(20), || async {
        engine.sync_once().await?;
        Ok(engine.store().list_messages("INBOX", 500)?.into_iter().find(|m| m.subject == subject).map(|m| m.id))
    })
    .await
    .unwrap()
}

fn titles(s: &[blendesk_engine::knowledge::KnowledgeSnippet]) -> Vec<&str> {
    s.iter().map(|x| x.title.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisors_publish_articles_every_app_finds_them_in_english_and_chinese_and_counts_use() {
    let desk = Desk::new("kb");
    let sam = app(&desk, "sam", "Sam Lee");
    let bob = app(&desk, "bob", "Bob Wu");
    with_supervisor(&sam, "sam").await;
    bob.load_policy().await.unwrap();

    let refunds = sam
        .publish_article(
            None,
            "How refunds work",
            &["refund".into(), "money".into()],
            "# Refunds\n\nA refund reaches your card within 5 working days. See https://help.shop.test/refunds",
        )
        .await
        .unwrap();
    let tuikuan = sam.publish_article(Some("tuikuan"), "退款流程", &["退款".into()], "退款会在五个工作日内退回您的银行卡。").await.unwrap();
    sam.publish_article(Some("delivery"), "Late parcels", &["parcel".into()], "If a parcel is late, send the tracking link.")
        .await
        .unwrap();
    assert_eq!(tuikuan, "tuikuan");

    // An advisor may not publish.
    let refused = bob.publish_article(None, "Mine", &[], "text").await.unwrap_err();
    assert!(matches!(refused, EngineError::Policy(ref m) if m.contains("not a supervisor")), "{refused}");

    // Bob's app mirrors the folder and searches in both languages.
    assert!(bob.refresh_shared_docs().await.unwrap());
    assert_eq!(bob.knowledge_articles().unwrap().len(), 3);
    assert_eq!(titles(&bob.search_knowledge("refund", 5).unwrap()), ["How refunds work"]);
    assert_eq!(titles(&bob.search_knowledge("我想退款", 5).unwrap()), ["退款流程"]);
    let hit = &bob.search_knowledge("refunds card", 5).unwrap()[0];
    assert_eq!(hit.link.as_deref(), Some("https://help.shop.test/refunds"));
    assert!(hit.excerpt.contains("5 working days"), "{}", hit.excerpt);

    // Snippets ranked for an open Chinese email and an English one.
    let c = Customer::new("kbc");
    let (_, raw) = customer_mail(&c.address, &desk.address, "订单问题", "您好，我要退款，钱什么时候到银行卡？");
    let zh = deliver(&bob, &desk, &raw, &c.address, "订单问题").await;
    assert_eq!(titles(&bob.knowledge_for_message(zh, 3).unwrap())[0], "退款流程");
    let (_, raw) = customer_mail(&c.address, &desk.address, "Parcel still not here", "My parcel is late, where is it?");
    let en = deliver(&bob, &desk, &raw, &c.address, "Parcel still not here").await;
    assert_eq!(titles(&bob.knowledge_for_message(en, 3).unwrap())[0], "Late parcels");

    // A new version replaces the old text everywhere; newest wins.
    sam.publish_article(Some(&refunds), "Money back", &["refund".into()], "Refunds now take 3 days.").await.unwrap();
    bob.refresh_shared_docs().await.unwrap();
    assert_eq!(bob.knowledge_articles().unwrap().len(), 3);
    assert_eq!(bob.knowledge_article(&refunds).unwrap().unwrap().title, "Money back");
    assert!(bob.search_knowledge("working", 5).unwrap().is_empty(), "the old text is gone");

    // Usage marks from two apps are one team-wide count.
    bob.mark_article_used("tuikuan").await.unwrap();
    bob.mark_article_used("tuikuan").await.unwrap();
    sam.refresh_shared_docs().await.unwrap();
    assert_eq!(sam.mark_article_used("tuikuan").await.unwrap(), 3);
    bob.refresh_shared_docs().await.unwrap();
    assert_eq!(bob.knowledge_article("tuikuan").unwrap().unwrap().uses, 3);
    assert!(matches!(bob.mark_article_used("nope").await, Err(EngineError::Document(_))));

    // Deletion is a tombstone: gone for every app.
    sam.delete_article("delivery").await.unwrap();
    bob.refresh_shared_docs().await.unwrap();
    assert!(bob.knowledge_article("delivery").unwrap().is_none());
    assert!(bob.search_knowledge("parcel", 5).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_messages_in_the_knowledge_folder_are_reported_not_fatal() {
    let desk = Desk::new("kbhostile");
    let engine = desk.engine();
    let mut s = login(&desk.user).await.unwrap();
    imap::create_folder(&mut s, "Blendesk/Knowledge").await.unwrap();
    let huge_body = "x".repeat(300 * 1024);
    let bad_utf8: Vec<u8> = [
        &b"Subject: Broken bytes\r\nX-Blendesk-Article: broken\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nok \xff\xfe\xc3 refund text\r\n"[..],
    ]
    .concat();
    let docs: Vec<Vec<u8>> = vec![
        b"Subject: No headers at all\r\n\r\nJust a note someone filed here.\r\n".to_vec(),
        format!("Subject: Too big\r\nX-Blendesk-Article: big\r\n\r\n{huge_body}\r\n").into_bytes(),
        format!("Subject: Way too big\r\nX-Blendesk-Article: bigger\r\n\r\n{}\r\n", "y".repeat(1100 * 1024)).into_bytes(),
        b"Subject: Bad id\r\nX-Blendesk-Article: ../../etc\r\n\r\nbody\r\n".to_vec(),
        b"\xff\xfe garbage without any header".to_vec(),
        bad_utf8,
        b"Subject: Vouchers\r\nX-Blendesk-Article: vouchers\r\nX-Blendesk-Tags: voucher\r\n\r\nA voucher is valid for a year.\r\n".to_vec(),
    ];
    for d in &docs {
        imap::append(&mut s, "Blendesk/Knowledge", "(\\Seen)", d).await.unwrap();
    }
    imap::logout(s).await;

    assert!(engine.refresh_shared_docs().await.unwrap());
    let articles: Vec<String> = engine.knowledge_articles().unwrap().into_iter().map(|a| a.article_id).collect();
    assert_eq!(articles, ["broken", "vouchers"], "bad bytes are replaced, the article kept");
    assert_eq!(engine.search_knowledge("voucher", 5).unwrap().len(), 1);
    assert_eq!(engine.search_knowledge("refund", 5).unwrap().len(), 1);
    let problems = engine.document_problems("Knowledge").unwrap();
    let reasons: Vec<&str> = problems.iter().map(|p| p.problem.as_str()).collect();
    assert_eq!(problems.len(), 5, "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("no X-Blendesk-Article header")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("the limit is 262144")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("too large for a document")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("is not valid")), "{reasons:?}");
    // A second pass with nothing new changes nothing.
    assert!(!engine.refresh_shared_docs().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advisors_see_only_templates_a_supervisor_approved_and_unfilled_placeholders_block_sending() {
    let desk = Desk::new("tpl");
    let sam = app(&desk, "sam", "Sam Lee");
    let bob = app(&desk, "bob", "Bob Wu");
    with_supervisor(&sam, "sam").await;
    bob.load_policy().await.unwrap();

    let body = "Dear {{customer.first_name}},\n\n{{reply.answer}}\n\nYour reference is {{conversation.ref}}.\n{{advisor.name}}";
    let lint = sam.publish_template("Refund sent", "INBOX", "en", body, false).await.unwrap();
    assert!(lint.is_empty(), "{lint:?}");
    let lint = sam.publish_template("Typo", "INBOX", "en", "Hi {{custmer.name}}", false).await.unwrap();
    assert!(lint[0].contains("{{custmer.name}}"), "{lint:?}");
    sam.publish_template("", "INBOX", "en", "More answers: https://help.shop.test/faq", true).await.unwrap();

    // Nothing approved yet: the advisor's picker is empty; only supervisors list all.
    bob.refresh_shared_docs().await.unwrap();
    assert!(bob.templates(false).unwrap().is_empty());
    assert!(matches!(bob.templates(true), Err(EngineError::Policy(_))));
    assert!(matches!(bob.approve_template("Refund sent").await, Err(EngineError::Policy(_))));
    assert_eq!(sam.templates(true).unwrap().len(), 3);

    // A keyword set by hand by someone who is not a supervisor counts for nothing.
    let mut s = login(&desk.user).await.unwrap();
    imap::select(&mut s, "Blendesk/Templates", true).await.unwrap();
    imap::store(&mut s, 1, "+FLAGS.SILENT ($bd_approved_bob)").await.unwrap();
    imap::logout(s).await;
    bob.refresh_shared_docs().await.unwrap();
    assert!(bob.templates(false).unwrap().is_empty());

    sam.approve_template("Refund sent").await.unwrap();
    sam.approve_template("footer/INBOX").await.unwrap();
    bob.refresh_shared_docs().await.unwrap();
    let shown = bob.templates(false).unwrap();
    let names: Vec<&str> = shown.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Refund sent", "footer/INBOX"]);
    assert_eq!(shown[0].approved_by, ["sam"]);

    // Filled from the open conversation; what the app cannot know blocks sending.
    let c = Customer::new("tplc");
    let raw = format!(
        "From: Anna Smith <{a}>\r\nTo: {d}\r\nSubject: Refund?\r\nMessage-ID: <tpl{n:x}@example.com>\r\n\r\nWhere is my refund?\r\n",
        a = c.address,
        d = desk.address,
        n = rand::random::<u64>()
    );
    let id = deliver(&bob, &desk, raw.as_bytes(), &c.address, "Refund?").await;
    let filled = bob.fill_template("Refund sent", id).unwrap();
    assert!(filled.starts_with("Dear Anna,\n\n{{reply.answer}}\n\nYour reference is #"), "{filled}");
    assert!(filled.contains("Bob Wu"), "{filled}");
    assert!(filled.ends_with("More answers: https://help.shop.test/faq"), "{filled}");
    let blocked = bob.queue_reply(id, &filled).unwrap_err();
    assert_eq!(blocked.to_string(), "sending is blocked: no value for {{reply.answer}}");
    assert!(bob.store().outbox_list(10).unwrap().is_empty(), "nothing was queued");
    bob.queue_reply(id, &filled.replace("{{reply.answer}}", "It is on its way.")).unwrap();
    assert!(matches!(bob.fill_template("Typo", id), Err(EngineError::Document(_))), "not approved");

    // An edit waits for approval; advisors keep the approved text meanwhile.
    sam.publish_template("Refund sent", "INBOX", "en", "New text {{advisor.name}}", false).await.unwrap();
    bob.refresh_shared_docs().await.unwrap();
    let t = bob.templates(false).unwrap().into_iter().find(|t| t.name == "Refund sent").unwrap();
    assert!(t.body.starts_with("Dear"));
    assert!(t.pending_uid.is_some());
    sam.approve_template("Refund sent").await.unwrap();
    bob.refresh_shared_docs().await.unwrap();
    let t = bob.templates(false).unwrap().into_iter().find(|t| t.name == "Refund sent").unwrap();
    assert_eq!(t.body, "New text {{advisor.name}}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_history_spans_reply_to_aliases_and_linked_addresses() {
    let desk = Desk::new("hist");
    let engine = desk.engine();
    let home = Customer::new("annhome");
    let work = Customer::new("annwork");
    let third = Customer::new("annthird");
    let eve = Customer::new("eve");

    let (_, raw) = customer_mail(&home.address, &desk.address, "First order", "Where is order 1?");
    let first = deliver(&engine, &desk, &raw, &home.address, "First order").await;
    let raw = format!(
        "From: Ann <{w}>\r\nReply-To: Ann <{h}>\r\nTo: {d}\r\nSubject: From work\r\nMessage-ID: <w{n:x}@example.com>\r\n\r\nSecond question.\r\n",
        w = work.address,
        h = home.address,
        d = desk.address,
        n = rand::random::<u64>()
    );
    deliver(&engine, &desk, raw.as_bytes(), &work.address, "From work").await;
    let (_, raw) = customer_mail(&third.address, &desk.address, "Third address", "Me again.");
    deliver(&engine, &desk, &raw, &third.address, "Third address").await;
    // Reply-To our own address must never make everyone one customer.
    let raw = format!(
        "From: Eve <{e}>\r\nReply-To: {d}\r\nTo: {d}\r\nSubject: Tricky\r\nMessage-ID: <e{n:x}@example.com>\r\n\r\nHi\r\n",
        e = eve.address,
        d = desk.address,
        n = rand::random::<u64>()
    );
    deliver(&engine, &desk, raw.as_bytes(), &eve.address, "Tricky").await;

    // Answer the first email; the reply (in Sent) is part of the history.
    engine.queue_reply(first, "Order 1 left today.").unwrap();
    engine.flush_outbox(Duration::from_secs(30)).await.unwrap();
    let h = eventually("the reply is in the history", Duration::from_secs(20), || async {
        engine.sync_once().await?;
        let h = engine.customer_conversations(&home.address)?;
        Ok(h.conversations.iter().any(|c| c.last_reply.is_some()).then_some(h))
    })
    .await
    .unwrap();
    assert_eq!(h.addresses, [home.address.clone(), work.address.clone()]);
    let subjects: Vec<&str> = h.conversations.iter().map(|c| c.subject.as_str()).collect();
    // Newest activity first: our reply to the first order came last.
    assert_eq!(subjects, ["First order", "From work"], "Reply-To alias included");
    let answered = &h.conversations[0];
    assert_eq!(serde_json::to_value(&answered.status).unwrap(), "answered");
    assert!(answered.last_reply.as_ref().unwrap().excerpt.contains("Order 1 left today."));
    assert_eq!(serde_json::to_value(&h.conversations[1].status).unwrap(), "open");
    // The alias works from the other side too.
    assert_eq!(engine.customer_addresses(&work.address).unwrap(), [work.address.clone(), home.address.clone()]);

    // Linking by hand brings in the third address; unlinking takes it out.
    engine.link_customers(&home.address, &third.address).unwrap();
    assert_eq!(engine.customer_conversations(&home.address).unwrap().conversations.len(), 3);
    assert!(matches!(engine.link_customers(&home.address, &desk.address), Err(EngineError::Document(_))));
    assert!(engine.unlink_customers(&third.address, &home.address).unwrap());
    assert_eq!(engine.customer_conversations(&home.address).unwrap().conversations.len(), 2);

    // An advisor merging the third address's conversation into Ann's makes it part of
    // her history in every app (the server's conversation keyword), from both sides.
    engine.merge_conversations(&third.address, &home.address).await.unwrap();
    engine.sync_once().await.unwrap();
    assert!(engine.customer_addresses(&home.address).unwrap().contains(&third.address));
    assert!(engine.customer_addresses(&third.address).unwrap().contains(&home.address));
    let h = engine.customer_conversations(&home.address).unwrap();
    // One conversation in the history too: Ann's first order with the merged email.
    assert_eq!(h.conversations.len(), 2, "{:?}", h.conversations);
    let merged = h.conversations.iter().find(|c| c.subject == "First order").unwrap();
    assert_eq!(merged.last_customer.as_ref().map(|l| l.from_addr.as_str()), Some(third.address.as_str()), "{merged:?}");
    // Eve, not merged, stays out.
    assert!(!h.addresses.contains(&eve.address));

    assert_eq!(engine.customer_addresses(&eve.address).unwrap(), std::slice::from_ref(&eve.address));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snippets_offer_other_customers_answers_never_our_acknowledgements_or_the_open_customers_mail() {
    let desk = Desk::new("snip");
    let engine = desk.engine();
    let first = Customer::new("kettleone");
    let second = Customer::new("kettletwo");
    let (_, raw) = customer_mail(&first.address, &desk.address, "Kettle warranty", "How long is the kettle warranty?");
    let asked = deliver(&engine, &desk, &raw, &first.address, "Kettle warranty").await;
    // The team's acknowledgement goes out, then an advisor's real answer.
    let mut c = engine.connect_for_team().await.unwrap();
    assert_eq!(engine.acknowledge_new_mail(&mut c.session).await.unwrap(), 1);
    imap::logout(c.session).await;
    engine.queue_reply(asked, "The kettle warranty lasts two years from delivery.").unwrap();
    engine.flush_outbox(Duration::from_secs(30)).await.unwrap();
    let (_, raw) = customer_mail(&second.address, &desk.address, "Warranty for my kettle", "Is my kettle still under warranty?");
    deliver(&engine, &desk, &raw, &second.address, "Warranty for my kettle").await;
    eventually("both our messages are mirrored from Sent", Duration::from_secs(20), || async {
        engine.sync_once().await?;
        Ok((engine.store().list_messages("Sent", 10)?.len() == 2).then_some(()))
    })
    .await
    .unwrap();

    // For the second customer: our answer to the first comes first, then the first
    // customer's question; never the acknowledgement, never the second customer's own.
    let s = engine.knowledge_snippets("kettle warranty", &second.address, 10).unwrap();
    let excerpts: Vec<&str> = s.iter().map(|x| x.excerpt.as_str()).collect();
    assert!(s[0].from_team && s[0].excerpt.contains("two years from delivery"), "{excerpts:?}");
    assert!(s.iter().any(|x| x.from_addr == first.address), "{excerpts:?}");
    assert!(!s.iter().any(|x| x.excerpt.contains("We have received it")), "an acknowledgement offered: {excerpts:?}");
    assert!(!s.iter().any(|x| x.from_addr == second.address), "{excerpts:?}");

    // For the first customer: their own question and our answer to them are on screen
    // already; the second customer's question is what remains.
    let s = engine.knowledge_snippets("kettle warranty", &first.address, 10).unwrap();
    let excerpts: Vec<&str> = s.iter().map(|x| x.excerpt.as_str()).collect();
    assert_eq!(s.len(), 1, "{excerpts:?}");
    assert_eq!(s[0].from_addr, second.address);
}
