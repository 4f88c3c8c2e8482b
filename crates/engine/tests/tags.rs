//! Conversation tags through the real mailbox: one app tags a conversation (an event in
//! its Blendesk/Events folder, no IMAP keyword), the other app reads the log and sees the
//! tag, the email type's figures (analytics filter, report by tag) and the scorecards for
//! that type; a bad tag is refused with its reason and records nothing; an untag reaches
//! the first app the same way. Also the review form's weekly sample (supervisors only).

use blendesk_domain::activity::day_of;
use blendesk_domain::blending::Policy;
use blendesk_domain::metrics::Period;
use blendesk_engine::analytics::{AnalyticsFilter, AnalyticsPeriod};
use blendesk_engine::config::Config;
use blendesk_engine::Engine;
use blendesk_mail::imap;
use blendesk_testkit::{customer_mail, fetch_all, login, Customer, Desk};
use std::sync::Arc;

fn engine_for(desk: &Desk, id: &str) -> Arc<Engine> {
    let config = Config::load(&desk.config_for(id, id)).unwrap();
    Engine::with_passwords(config, blendesk_testkit::TEST_PASSWORD.into(), None).unwrap()
}

fn card(name: &str, applies: &str) -> String {
    format!(
        r#"{{"name": "{name}", "version": 1, "channel": "email", {applies}
            "sections": [{{"name": "Answer", "categories": [{{"id": "correct", "label": "Correct", "scale": "binary"}}]}}]}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_from_one_app_reaches_the_other_and_cuts_the_figures_by_email_type() {
    let desk = Desk::new("tags");
    let (alice, bob) = (engine_for(&desk, "alice"), engine_for(&desk, "bob"));
    let (ann, ben) = (Customer::new("ann"), Customer::new("ben"));
    let now_s = alice.now_ms() / 1000;
    let mut s = login(&desk.user).await.unwrap();
    // Ann's email is Alice's (her owner keyword), Ben's nobody's.
    for (who, subject, flags) in [(&ann, "Refund please", "($bd_owner_alice)"), (&ben, "Opening hours", "()")] {
        let (_, raw) = customer_mail(&who.address, &desk.address, subject, "Hello");
        imap::append_at(&mut s, "INBOX", flags, &imap::date_time(now_s - 3600), &raw).await.unwrap();
    }
    imap::logout(s).await;
    alice.sync_once().await.unwrap();
    let ann_key = alice.conversation_key(&ann.address).unwrap();

    // A bad tag is refused with the reason, and nothing is recorded.
    let pending = alice.activity_pending().unwrap();
    let err = alice.tag_conversation(&ann_key, "refund, urgent", true).unwrap_err().to_string();
    assert!(err.contains("letters, digits") && err.contains("','"), "{err}");
    let err = alice.tag_conversation("nobody@example.com", "refund", true).unwrap_err().to_string();
    assert!(err.contains("no open conversation"), "{err}");
    assert_eq!(alice.activity_pending().unwrap(), pending);

    // Alice tags Ann's conversation: her own window shows it at once, normalised.
    assert_eq!(alice.tag_conversation(&ann.address, "  Refund ", true).unwrap(), ["refund"]);
    assert_eq!(alice.tag_conversation(&ann_key, "退款", true).unwrap(), ["refund", "退款"]);
    let mine = alice.workspace(now_s).unwrap();
    let tagged: Vec<_> = mine.conversations.iter().map(|c| (c.key.as_str(), c.tags.clone())).collect();
    assert!(tagged.contains(&(ann_key.as_str(), vec!["refund".to_owned(), "退款".to_owned()])), "{tagged:?}");
    assert!(mine.conversations.iter().any(|c| c.tags.is_empty()), "Ben's conversation has none");

    // Through the mailbox: the events folder carries it; no keyword on the email.
    alice.sync_activity().await.unwrap();
    let mut s = login(&desk.user).await.unwrap();
    imap::select(&mut s, "INBOX", false).await.unwrap();
    for uid in imap::all_uids(&mut s).await.unwrap() {
        let (flags, _) = imap::flags_of(&mut s, uid).await.unwrap().unwrap();
        assert!(flags.iter().all(|f| !f.to_lowercase().contains("refund")), "{flags:?}");
    }
    imap::logout(s).await;
    let events = fetch_all(&desk.user, "Blendesk/Events/alice").await.unwrap();
    let text: String = events.iter().map(|(_, raw)| String::from_utf8_lossy(raw).into_owned()).collect();
    assert!(text.contains(r#""kind":"tagged""#) && text.contains("refund"), "{text}");
    bob.sync_once().await.unwrap();
    bob.sync_activity().await.unwrap();
    assert_eq!(bob.tags_of(&ann_key).unwrap(), ["refund", "退款"]);
    let all: Vec<String> = bob.workspace(now_s).unwrap().conversations.iter().flat_map(|c| c.tags.clone()).collect();
    assert_eq!(all.len(), 2, "only Ann's conversation is tagged: {all:?}");

    // The email type's figures: the analytics filter and the report by tag.
    let today = day_of(bob.now_ms());
    let filter = |tag: Option<&str>, queue: Option<&str>| AnalyticsFilter {
        from: today.clone(),
        to: today.clone(),
        by: AnalyticsPeriod::Day,
        queue: queue.map(Into::into),
        advisor: None,
        language: None,
        tag: tag.map(Into::into),
    };
    let now = bob.now_ms();
    assert_eq!(bob.analytics(&filter(None, None), now).unwrap().total.conversations, 2);
    let refunds = bob.analytics(&filter(Some("Refund"), Some("INBOX")), now).unwrap();
    assert_eq!(refunds.total.conversations, 1);
    assert_eq!(refunds.tags, ["refund", "退款"]);
    let drill = bob.analytics_conversations(&filter(Some("退款"), None), &Default::default(), now).unwrap();
    assert_eq!(drill.iter().map(|c| c.customer.as_str()).collect::<Vec<_>>(), [ann.address.to_lowercase()]);
    assert_eq!(bob.analytics(&filter(Some("billing"), None), now).unwrap().total.conversations, 0);
    assert!(bob.analytics(&filter(Some("a/b"), None), now).is_err(), "a bad tag in a filter is refused");
    let by_type = bob.team_report_by(now, now - 86_400_000, now + 1, Period::Queue, Some("REFUND")).unwrap();
    assert_eq!(by_type.iter().map(|(q, r)| (q.as_str(), r.conversations)).collect::<Vec<_>>(), [("INBOX", 1)]);

    // The scorecards offered for a conversation are those of its email type.
    let policy = Policy::parse(br#"{"version": 1, "supervisors": ["bob"]}"#).unwrap();
    bob.publish_policy(&policy).await.unwrap();
    bob.publish_scorecard(&card("Any email", "")).await.unwrap();
    bob.publish_scorecard(&card("Refunds", r#""queue": "INBOX", "tag": "refund","#)).await.unwrap();
    bob.publish_scorecard(&card("Billing", r#""queue": "Billing","#)).await.unwrap();
    let latest = |key: &str| bob.workspace(now_s).unwrap().conversations.into_iter().find(|c| c.key == key).unwrap().latest_id;
    let names = |message| bob.scorecards_for(message).unwrap().into_iter().map(|c| c.name).collect::<Vec<_>>();
    assert_eq!(names(latest(&ann_key)), ["Any email", "Refunds"]);
    let ben_key = bob.conversation_key(&ben.address).unwrap();
    assert_eq!(names(latest(&ben_key)), ["Any email"]);

    // The review form's weekly sample: Alice's conversation with its newest email, for a
    // supervisor only.
    let sample = bob.review_sample_items(3, now).unwrap();
    assert_eq!(
        sample.iter().map(|i| (i.advisor.as_str(), i.conversation.as_str(), i.message, i.subject.as_str())).collect::<Vec<_>>(),
        [("alice", ann_key.as_str(), latest(&ann_key), "Refund please")]
    );
    alice.load_policy().await.unwrap();
    let err = alice.review_sample_items(3, now).unwrap_err().to_string();
    assert!(err.contains("only a supervisor"), "{err}");

    // Bob takes a tag off; Alice sees it after the next read of the log.
    assert_eq!(bob.tag_conversation(&ann_key, "REFUND", false).unwrap(), ["退款"]);
    assert_eq!(bob.tag_conversation(&ann_key, "refund", false).unwrap(), ["退款"], "nothing to take off: no event");
    let (sent, _) = bob.sync_activity().await.unwrap();
    assert_eq!(sent, 1);
    alice.sync_activity().await.unwrap();
    assert_eq!(alice.tags_of(&ann_key).unwrap(), ["退款"]);
    assert_eq!(names(latest(&ann_key)), ["Any email"]);
}

/// A merge or split gives conversations new keys; the tags go with them. Ann's tagged
/// conversation merged with Ben's untagged one: the merged conversation is a refund.
/// Split again: both parts keep the tag. Through another app's log too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_follow_a_merge_and_a_split() {
    let desk = Desk::new("tagmerge");
    let (alice, bob) = (engine_for(&desk, "alice"), engine_for(&desk, "bob"));
    let (ann, ben) = (Customer::new("ann"), Customer::new("ben"));
    let now_s = alice.now_ms() / 1000;
    let mut s = login(&desk.user).await.unwrap();
    for (who, subject) in [(&ann, "Refund please"), (&ben, "Also my refund")] {
        let (_, raw) = customer_mail(&who.address, &desk.address, subject, "Hello");
        imap::append_at(&mut s, "INBOX", "()", &imap::date_time(now_s - 3600), &raw).await.unwrap();
    }
    imap::logout(s).await;
    alice.sync_once().await.unwrap();
    alice.tag_conversation(&ann.address, "refund", true).unwrap();

    let merged = alice.merge_conversations(&ben.address, &ann.address).await.unwrap();
    assert_eq!((merged.changed, merged.lost), (2, 0));
    let token = &merged.keys[0];
    assert_eq!(alice.tags_of(token).unwrap(), ["refund"], "the merged conversation keeps Ann's tag");

    let ben_email = alice
        .store()
        .queue_heads(&["INBOX".to_owned()])
        .unwrap()
        .iter()
        .find(|h| h.from_addr.eq_ignore_ascii_case(&ben.address))
        .unwrap()
        .id;
    let split = alice.split_conversation(&[ben_email]).await.unwrap();
    assert_eq!(split.keys.len(), 2);
    for key in &split.keys {
        assert_eq!(alice.tags_of(key).unwrap(), ["refund"], "both parts of the split keep the tag ({key})");
    }

    alice.sync_activity().await.unwrap();
    bob.sync_once().await.unwrap();
    bob.sync_activity().await.unwrap();
    for key in &split.keys {
        assert_eq!(bob.tags_of(key).unwrap(), ["refund"], "another app reads the carried tag ({key})");
    }
}
