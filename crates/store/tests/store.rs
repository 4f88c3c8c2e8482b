use blendesk_domain::outbox::OutboxState;
use blendesk_store::{AttachmentMeta, NewMessage, NewOutboxItem, Store};

fn msg(uid: u32, identity: &str, subject: &str, body: &str) -> NewMessage {
    NewMessage {
        uid,
        identity: identity.into(),
        message_id: Some(identity.trim_start_matches("mid:").into()),
        subject: subject.into(),
        from_addr: "li.wei@example.com".into(),
        from_name: "李伟".into(),
        body_text: body.into(),
        internal_date: uid as i64,
        ..Default::default()
    }
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("b.db")).unwrap();
    (dir, store)
}

#[test]
fn search_finds_chinese_and_english_text() {
    let (_d, s) = store();
    let f = s.ensure_folder("INBOX").unwrap();
    let mut with_att = msg(3, "mid:c@x", "Invoice copy", "Please send my invoice again.");
    with_att.attachments.push(AttachmentMeta {
        part: 2,
        filename: "receipt.pdf".into(),
        content_type: "application/pdf".into(),
        size: 1234,
        content_id: None,
    });
    s.insert_messages(
        f.id,
        &[
            msg(1, "mid:a@x", "订单问题", "您好，我的订单还没有到，我要退款。谢谢"),
            msg(2, "mid:b@x", "Where is my parcel?", "My order 1234 has not arrived."),
            with_att,
        ],
    )
    .unwrap();

    let hits = s.search("退款", 10).unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].uid, 1);
    // A two-character word inside a longer run of Chinese text.
    assert_eq!(s.search("订单", 10).unwrap().len(), 1);
    assert_eq!(s.search("李伟", 10).unwrap().len(), 3, "sender names are indexed");
    assert_eq!(s.search("parcel", 10).unwrap()[0].uid, 2);
    assert_eq!(s.search("order arrived", 10).unwrap().len(), 1);
    assert!(s.search("退货", 10).unwrap().is_empty());
    assert!(s.search("\"*(", 10).unwrap().is_empty(), "FTS syntax in a query is inert");

    let stored = s.message_by_uid("INBOX", 3).unwrap().unwrap();
    assert_eq!(stored.attachments.len(), 1);
    assert_eq!(stored.attachments[0].filename, "receipt.pdf");
}

#[test]
fn same_uid_is_not_mirrored_twice_and_expunge_removes_from_search() {
    let (_d, s) = store();
    let f = s.ensure_folder("INBOX").unwrap();
    assert_eq!(s.insert_messages(f.id, &[msg(1, "mid:a@x", "hello", "refund please")]).unwrap().len(), 1);
    assert_eq!(s.insert_messages(f.id, &[msg(1, "mid:a@x", "hello", "refund please")]).unwrap().len(), 0);
    assert_eq!(s.search("refund", 5).unwrap().len(), 1);
    assert_eq!(s.delete_uids(f.id, &[1, 99]).unwrap(), 1);
    assert!(s.search("refund", 5).unwrap().is_empty());
    assert_eq!(s.uids(f.id).unwrap(), Vec::<u32>::new());
}

#[test]
fn rebind_keeps_matched_messages_under_new_uids_and_drops_the_rest() {
    let (_d, s) = store();
    let f = s.ensure_folder("INBOX").unwrap();
    s.set_folder_synced(f.id, 100, 7, 1).unwrap();
    s.insert_messages(f.id, &[msg(1, "mid:a@x", "a", "alpha"), msg(2, "mid:b@x", "b", "beta"), msg(3, "mid:c@x", "c", "gamma")]).unwrap();
    let ids = s.identities(f.id).unwrap();
    // On the new server folder, b is UID 1 and a is UID 2; c is gone.
    let a = ids.iter().find(|(_, i)| i == "mid:a@x").unwrap().0;
    let b = ids.iter().find(|(_, i)| i == "mid:b@x").unwrap().0;
    assert_eq!(s.rebind_folder(f.id, 200, &[(a, 2), (b, 1)]).unwrap(), 1);
    assert_eq!(s.message_by_uid("INBOX", 1).unwrap().unwrap().identity, "mid:b@x");
    assert_eq!(s.message_by_uid("INBOX", 2).unwrap().unwrap().identity, "mid:a@x");
    assert!(s.message_by_uid("INBOX", 3).unwrap().is_none());
    assert!(s.search("gamma", 5).unwrap().is_empty());
    let f2 = s.ensure_folder("INBOX").unwrap();
    assert_eq!((f2.uidvalidity, f2.highestmodseq), (200, 0));
}

#[test]
fn outbox_lifecycle_and_crash_recovery() {
    let (dir, s) = store();
    let id = s
        .outbox_enqueue(
            &NewOutboxItem {
                message_id: "r1@shop.test".into(),
                sender: "support@shop.test".into(),
                recipients: vec!["c@example.com".into()],
                raw: b"Message-ID: <r1@shop.test>\r\n\r\nhi".to_vec(),
                answers: Some(("INBOX".into(), 5, 9)),
                answers_message_id: Some("q@example.com".into()),
            },
            1000,
        )
        .unwrap();
    assert_eq!(s.outbox_due(999).unwrap().len(), 0);
    assert_eq!(s.outbox_begin_attempt(id).unwrap(), 1);
    drop(s);
    // The process died mid-attempt: the row is still due, in `sending`, same bytes.
    let s = Store::open(&dir.path().join("b.db")).unwrap();
    let due = s.outbox_due(1000).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].state, OutboxState::Sending);
    assert_eq!(due[0].raw, b"Message-ID: <r1@shop.test>\r\n\r\nhi");
    assert_eq!(s.outbox_begin_attempt(id).unwrap(), 2);
    s.outbox_retry_later(id, 5000, "451 try later").unwrap();
    assert!(s.outbox_due(4999).unwrap().is_empty());
    assert_eq!(s.outbox_next_due().unwrap(), Some(5000));
    s.outbox_begin_attempt(id).unwrap();
    s.outbox_mark_sent(id, 5001).unwrap();
    assert_eq!(s.outbox_follow_ups().unwrap().len(), 1);
    s.outbox_mark_appended(id).unwrap();
    s.outbox_mark_flagged(id).unwrap();
    assert!(s.outbox_follow_ups().unwrap().is_empty());
    let counts = s.outbox_counts().unwrap();
    assert_eq!(counts["sent"], 1);
    assert_eq!(counts["queued"] + counts["sending"] + counts["failed"], 0);
    // The Message-ID is unique: the same reply cannot be queued twice.
    let again = s.outbox_enqueue(
        &NewOutboxItem {
            message_id: "r1@shop.test".into(),
            sender: "s".into(),
            recipients: vec![],
            raw: vec![],
            answers: None,
            answers_message_id: None,
        },
        1,
    );
    assert!(again.is_err());
    assert_eq!(s.integrity_check().unwrap(), "ok");
}

#[test]
fn a_deleted_messages_id_is_never_given_to_another_message() {
    let (_d, s) = store();
    let f = s.ensure_folder("INBOX").unwrap();
    let ids = s.insert_messages(f.id, &[msg(1, "mid:a@x", "a", "a"), msg(2, "mid:b@x", "b", "b")]).unwrap();
    let newest = ids[1].1;
    // The newest row goes (expunged on the server); the next message must not take its
    // id, or a reply queued by that id would thread onto the wrong email.
    assert_eq!(s.delete_uids(f.id, &[2]).unwrap(), 1);
    let next = s.insert_messages(f.id, &[msg(3, "mid:c@x", "c", "c")]).unwrap()[0].1;
    assert!(next > newest, "id {newest} reused as {next}");
    assert!(s.message(newest).unwrap().is_none());
    // The mark survives reopening the database.
    drop(s);
    let s = Store::open(&_d.path().join("b.db")).unwrap();
    s.delete_uids(f.id, &[3]).unwrap();
    let after = s.insert_messages(f.id, &[msg(4, "mid:d@x", "d", "d")]).unwrap()[0].1;
    assert!(after > next);
}

#[test]
fn replacing_a_headers_only_message_keeps_its_id() {
    let (_d, s) = store();
    let f = s.ensure_folder("INBOX").unwrap();
    let id = s.insert_messages(f.id, &[msg(1, "mid:a@x", "a", ""), msg(2, "mid:b@x", "b", "b")]).unwrap()[0].1;
    s.replace_message(f.id, &msg(1, "mid:a@x", "a", "full body")).unwrap();
    assert_eq!(s.message(id).unwrap().unwrap().body_text, "full body");
}

#[test]
fn a_corrupt_flags_column_is_reported_never_read_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.db");
    let s = Store::open(&path).unwrap();
    let f = s.ensure_folder("INBOX").unwrap();
    let ids = s.insert_messages(f.id, &[msg(1, "mid:owned@x", "Refund", "Please refund.")]).unwrap();
    let id = ids[0].1;
    s.add_flag(id, "$bd_owner_alice").unwrap();
    // Damage the row the way a disk or a foreign writer could.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("UPDATE messages SET flags = '[\"$bd_owner_alice\"' WHERE id = ?1", [id]).unwrap();
    drop(raw);
    let s = Store::open(&path).unwrap();
    let inbox = ["INBOX".to_owned()];
    // Read as empty, the owned email would look unowned to the claim loop.
    // (SQLite's own JSON functions in a query say "malformed JSON"; our reads name the column.)
    let err = s.queue_heads(&inbox).unwrap_err().to_string();
    assert!(err.contains("JSON"), "{err}");
    let err = s.open_customer_messages(&inbox, "shop.test", 10).unwrap_err().to_string();
    assert!(err.contains("JSON"), "{err}");
    // Written back from an empty list, the owner would be lost for good: refused instead.
    let err = s.replace_flag(id, None, "$bd_ack_alice").unwrap_err().to_string();
    assert!(err.contains("messages.flags is not valid JSON"), "{err}");
    let raw = rusqlite::Connection::open(&path).unwrap();
    let flags: String = raw.query_row("SELECT flags FROM messages WHERE id = ?1", [id], |r| r.get(0)).unwrap();
    assert_eq!(flags, "[\"$bd_owner_alice\"", "the damaged value is left for repair, not overwritten");
}
