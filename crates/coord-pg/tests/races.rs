//! Apps racing for the same emails and duties, each on its own connection under its own
//! login role: exactly one winner each, and every loser is told the winner's name.

mod support;

use std::collections::HashMap;
use std::sync::Arc;

use blendesk_coord_pg::{Claim, Duty};
use blendesk_domain::advisor::AdvisorId;
use support::Team;
use tokio::sync::Barrier;

const APPS: usize = 20;
const EMAILS: usize = 200;

/// Each app's own order of 0..n (a different rotation and direction per app), so racers
/// meet on every email at different moments.
fn order(app: usize, n: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).map(|i| (i + app * 37) % n).collect();
    if app % 2 == 1 {
        v.reverse();
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_apps_race_for_two_hundred_emails_and_each_gets_one_owner() {
    let team = Team::new(APPS, 0).await;
    let keys: Arc<Vec<String>> = Arc::new((0..EMAILS).map(|i| format!("<race-{i}@customer.example>")).collect());
    let barrier = Arc::new(Barrier::new(APPS));
    let mut apps = Vec::new();
    for (app, member) in team.advisors.iter().enumerate() {
        let session = member.session().await;
        let (keys, barrier, me) = (keys.clone(), barrier.clone(), member.id.clone());
        apps.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut results = Vec::new();
            for i in order(app, keys.len()) {
                let result = session.claim(&keys[i], &me).await.unwrap_or_else(|e| panic!("{me} claiming {}: {e}", keys[i]));
                results.push((keys[i].clone(), result));
            }
            (me, results)
        }));
    }
    let mut winners: HashMap<String, Vec<AdvisorId>> = HashMap::new();
    let mut told: Vec<(String, AdvisorId, AdvisorId)> = Vec::new();
    let mut versions: HashMap<String, i64> = HashMap::new();
    for app in apps {
        let (me, results) = app.await.expect("an app panicked");
        for (key, result) in results {
            match result {
                Claim::Claimed { version } => {
                    winners.entry(key.clone()).or_default().push(me.clone());
                    versions.insert(key, version);
                }
                Claim::Taken { owner, .. } => told.push((key, me.clone(), owner)),
            }
        }
    }
    assert_eq!(told.len(), APPS * EMAILS - EMAILS, "every app tried every email once");
    let doubles: Vec<_> = winners.iter().filter(|(_, w)| w.len() != 1).collect();
    assert!(doubles.is_empty(), "emails with more than one winner: {doubles:?}");
    assert_eq!(winners.len(), EMAILS, "every email was won by someone");

    let rows = team.raw().await.query("SELECT email_key, owner, version FROM blendesk.claims", &[]).await.unwrap();
    assert_eq!(rows.len(), EMAILS);
    let database: HashMap<String, (String, i64)> = rows.iter().map(|r| (r.get(0), (r.get(1), r.get(2)))).collect();
    for (key, w) in &winners {
        let (owner, version) = &database[key];
        assert_eq!(owner, w[0].as_str(), "{key}: the winner and the database disagree");
        assert_eq!(*version, versions[key], "{key}: the winner's version");
    }
    for (key, me, owner) in &told {
        assert_eq!(database[key].0, owner.as_str(), "{me} was told {key} belongs to {owner}");
        assert_ne!(owner, me, "{me} lost {key} to itself");
    }
    // What an app reads back agrees with the database.
    let read_back = team.advisors[0].session().await.owners().await.unwrap();
    assert_eq!(read_back.len(), EMAILS);
    assert!(read_back.iter().all(|(key, owner)| database[key].0 == owner.as_str()));
    // The spread is not the point, but 20 apps all losing to one would mean no race.
    assert!(winners.values().map(|w| &w[0]).collect::<std::collections::HashSet<_>>().len() > 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_duty_is_held_once() {
    const DUTIES: usize = 60;
    let team = Team::new(APPS, 0).await;
    let barrier = Arc::new(Barrier::new(APPS));
    let mut apps = Vec::new();
    for (app, member) in team.advisors.iter().enumerate() {
        let session = member.session().await;
        let (barrier, me) = (barrier.clone(), member.id.clone());
        apps.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut taken = Vec::new();
            for i in order(app, DUTIES) {
                let key = format!("<conv-{i}@customer.example>");
                match session.take_duty("ack", &key, &me).await.expect("taking a duty") {
                    Duty::Taken => taken.push((key, me.clone(), None)),
                    Duty::HeldBy(holder) => taken.push((key, me.clone(), Some(holder))),
                }
            }
            taken
        }));
    }
    let mut results = Vec::new();
    for app in apps {
        results.extend(app.await.expect("an app panicked"));
    }
    let rows = team.raw().await.query("SELECT duty_key, holder FROM blendesk.duties WHERE kind = 'ack'", &[]).await.unwrap();
    assert_eq!(rows.len(), DUTIES);
    let holders: HashMap<String, String> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let mut taken_count: HashMap<&str, usize> = HashMap::new();
    for (key, me, held_by) in &results {
        match held_by {
            None => {
                *taken_count.entry(key).or_default() += 1;
                assert_eq!(holders[key], me.as_str(), "{me} took {key} but the database says otherwise");
            }
            Some(holder) => assert_eq!(holders[key], holder.as_str(), "{me} was told {holder} holds {key}"),
        }
    }
    assert_eq!(taken_count.len(), DUTIES);
    assert!(taken_count.values().all(|&n| n == 1), "a duty taken twice: {taken_count:?}");

    // The same key under another kind is another duty.
    let s = team.advisors[0].session().await;
    assert_eq!(s.take_duty("late", "<conv-0@customer.example>", &team.advisors[0].id).await.unwrap(), Duty::Taken);
    assert!(s.take_duty("Ack!", "<x>", &team.advisors[0].id).await.is_err(), "a bad kind is refused");
}

/// Claims and releases interleaved: an app told `Claimed` still owns the email when it
/// releases it (nobody took it meanwhile), and every owner's version is new.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn claims_and_releases_interleaved_never_overlap() {
    const CHURN_APPS: usize = 10;
    const KEYS: usize = 8;
    const ROUNDS: usize = 30;
    let team = Team::new(CHURN_APPS, 0).await;
    let barrier = Arc::new(Barrier::new(CHURN_APPS));
    let mut apps = Vec::new();
    for (app, member) in team.advisors.iter().enumerate() {
        let session = member.session().await;
        let (barrier, me) = (barrier.clone(), member.id.clone());
        apps.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut versions = Vec::new();
            for round in 0..ROUNDS {
                let key = format!("<churn-{}@x>", (app + round) % KEYS);
                if let Claim::Claimed { version } = session.claim(&key, &me).await.expect("claiming") {
                    versions.push(version);
                    assert!(session.release(&key, &me).await.expect("releasing"), "{me} lost {key} it was told it had claimed");
                }
            }
            versions
        }));
    }
    let mut versions = Vec::new();
    for app in apps {
        versions.extend(app.await.expect("an app panicked"));
    }
    let claims = versions.len();
    versions.sort_unstable();
    versions.dedup();
    assert_eq!(versions.len(), claims, "two claims shared a version");
    assert!(claims >= KEYS, "only {claims} claims succeeded");
    let left = team.raw().await.query_one("SELECT count(*) FROM blendesk.claims", &[]).await.unwrap().get::<_, i64>(0);
    assert_eq!(left, 0, "every claim was released");
}
