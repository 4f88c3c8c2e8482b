//! The knowledge mirror and its index, and the customer-history lookups, without a network.

use blendesk_domain::knowledge::email_query;
use blendesk_store::{DocVersion, NewMessage, Store, KIND_ARTICLE, KIND_TOMBSTONE, KIND_USAGE};

const KB: &str = "Blendesk/Knowledge";

fn article(uid: u32, id: &str, title: &str, tags: &[&str], body: &str) -> DocVersion {
    DocVersion {
        uid,
        kind: KIND_ARTICLE.into(),
        doc_id: id.into(),
        title: title.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        body: body.into(),
        internal_date: uid as i64,
        ..Default::default()
    }
}

fn usage(uid: u32, id: &str) -> DocVersion {
    DocVersion { uid, kind: KIND_USAGE.into(), doc_id: id.into(), ..Default::default() }
}

fn titles(s: &Store, subject: &str, body: &str) -> Vec<String> {
    let expr = email_query(subject, body).expect("terms");
    s.kb_search(KB, &expr, 10).unwrap().into_iter().map(|h| h.article.title).collect()
}

#[test]
fn articles_are_found_for_english_and_chinese_mail_newest_version_wins() {
    let s = Store::open_in_memory().unwrap();
    s.apply_doc_changes(
        KB,
        true,
        &[
            article(1, "refunds", "Refunds", &["refund"], "A refund reaches your card within 5 working days."),
            article(2, "tuikuan", "退款流程", &["退款"], "退款会在五个工作日内退回您的银行卡。"),
            article(3, "delivery", "Late delivery", &["parcel"], "If your parcel is late, check the tracking link first."),
        ],
        &[],
        &[],
    )
    .unwrap();
    assert_eq!(titles(&s, "Where is my refund?", "I returned the shoes."), ["Refunds"]);
    assert_eq!(titles(&s, "订单问题", "您好，我要退款，谢谢"), ["退款流程"]);
    assert_eq!(titles(&s, "parcel", "my parcel is late"), ["Late delivery"]);

    // A new version replaces the old one in the index.
    s.apply_doc_changes(KB, true, &[article(4, "refunds", "Money back", &[], "Refunds now take 3 days.")], &[], &[]).unwrap();
    assert_eq!(s.kb_articles(KB).unwrap().len(), 3);
    assert_eq!(titles(&s, "refunds", ""), ["Money back"]);
    assert!(titles(&s, "card working", "").is_empty(), "the old text is no longer indexed");

    // Flagging the new version \Deleted brings the previous one back.
    s.apply_doc_changes(KB, true, &[], &[(4, vec!["\\Deleted".into()])], &[]).unwrap();
    assert_eq!(titles(&s, "refund", ""), ["Refunds"]);

    // A tombstone withdraws the article; expunging the tombstone brings it back.
    let tomb = DocVersion { uid: 5, kind: KIND_TOMBSTONE.into(), doc_id: "delivery".into(), ..Default::default() };
    s.apply_doc_changes(KB, true, &[tomb], &[], &[]).unwrap();
    assert!(titles(&s, "parcel", "").is_empty());
    s.apply_doc_changes(KB, true, &[], &[], &[5]).unwrap();
    assert_eq!(titles(&s, "parcel", ""), ["Late delivery"]);

    // Usage events count per article.
    s.apply_doc_changes(KB, true, &[usage(6, "tuikuan"), usage(7, "tuikuan"), usage(8, "refunds")], &[], &[]).unwrap();
    let a = s.kb_article(KB, "tuikuan").unwrap().unwrap();
    assert_eq!((a.uses, a.tags.as_slice()), (2, &["退款".to_owned()][..]));

    s.reset_doc_folder(KB, true).unwrap();
    assert!(s.kb_articles(KB).unwrap().is_empty());
    assert!(s.doc_uids(KB).unwrap().is_empty());
}

fn mail(uid: u32, from: &str, to: &str, reply_to: &str, date: i64) -> NewMessage {
    NewMessage {
        uid,
        identity: format!("mid:{uid}@x"),
        message_id: Some(format!("{uid}@x")),
        subject: format!("s{uid}"),
        from_addr: from.into(),
        to: vec![to.into()],
        reply_to: reply_to.into(),
        internal_date: date,
        body_text: format!("body {uid}"),
        ..Default::default()
    }
}

#[test]
fn history_finds_every_address_and_links_and_uses_the_index() {
    let s = Store::open_in_memory().unwrap();
    let inbox = s.ensure_folder("INBOX").unwrap().id;
    let sent = s.ensure_folder("Sent").unwrap().id;
    s.insert_messages(
        inbox,
        &[
            mail(1, "ann@home.example", "support@shop.test", "", 100),
            mail(2, "ann@work.example", "support@shop.test", "ann@home.example", 200),
            mail(3, "bob@example.com", "support@shop.test", "", 300),
        ],
    )
    .unwrap();
    s.insert_messages(sent, &[mail(1, "support@shop.test", "Ann@Home.example", "", 150)]).unwrap();

    let ids = |addrs: &[&str]| -> Vec<i64> {
        let a: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
        s.history_rows(&a, 50).unwrap().iter().map(|r| r.internal_date).collect()
    };
    assert_eq!(ids(&["ann@home.example"]), [200, 150, 100], "Reply-To and our reply (To) count");
    assert_eq!(ids(&["ann@home.example", "ann@work.example"]), [200, 150, 100]);
    assert_eq!(s.reply_to_links("ann@work.example").unwrap(), ["ann@home.example"]);
    assert_eq!(s.reply_to_links("ann@home.example").unwrap(), ["ann@work.example"]);
    assert!(s.reply_to_links("bob@example.com").unwrap().is_empty());

    s.link_customers("Bob@example.com", "bobby@example.org", 1).unwrap();
    assert_eq!(s.customer_links("bobby@example.org").unwrap(), ["bob@example.com"]);
    assert!(s.unlink_customers("bobby@example.org", "bob@example.com").unwrap());
    assert!(s.customer_links("bob@example.com").unwrap().is_empty());

    // Deleting a message drops its address rows (foreign key cascade).
    s.delete_uids(inbox, &[2]).unwrap();
    assert_eq!(ids(&["ann@work.example"]), Vec::<i64>::new());

    // The plan looks customers up in the address index, never scans the messages.
    let plan = s.history_plan(3).unwrap().join(" | ");
    assert!(plan.contains("message_addresses"), "{plan}");
    assert!(!plan.contains("SCAN m"), "{plan}");
}
