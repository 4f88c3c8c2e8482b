//! A compressed day for a team: 8 headless advisors (separate `blendesk run --headless`
//! processes) with different caps and skills share one mailbox on the local Dovecot.
//! Customer email arrives (some in Chinese, some follow-ups), advisors take calls at
//! random, two apps die mid-run, a supervisor lowers a cap. Checked afterwards on the
//! server's keywords and on each app's own event log:
//! - no email owned by two advisors;
//! - no claim while an advisor was on a call or in wrap-up;
//! - no automatic claim over the cap in force;
//! - every email owned within 5 s of an eligible advisor having room (the driver adds up
//!   the time each email waited unowned while the rules allowed an available advisor
//!   with room to take it);
//! - every email owned by the end; every follow-up owned by its conversation's owner
//!   when that owner stayed online; the dead apps' emails taken over.
//!
//!
//! The same day runs twice: coordinated through the mailbox (keywords on the stack's
//! Dovecot), and through PostgreSQL with the mail on the stack's second Dovecot, which
//! offers no CONDSTORE — there the owners are the database's, and no keyword may ever
//! appear in the mailbox (checked at every observation).
//!
//! Size: SIM_EMAILS. The test command runs 500 emails (about two minutes); the full
//! acceptance run of 2,000 is a documented soak:
//!   SIM_EMAILS=2000 cargo test --release -p blendesk-cli --test simulation -- --nocapture

use blendesk_coord_pg::AdvisorSession;
use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::claim::{owner_keyword, owners};
use blendesk_mail::imap::{self, ImapSession};
use blendesk_testkit::pg::PgTeam;
use blendesk_testkit::{login, smtp_send, Customer, Desk, HeadlessApp};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn start(desk: &Desk, id: &str, runtime: &Path) -> HeadlessApp {
    HeadlessApp::start(Path::new(env!("CARGO_BIN_EXE_blendesk")), desk, id, runtime)
}

fn publish(desk: &Desk, policy: &str) {
    let file = desk.dir.path().join("policy.json");
    std::fs::write(&file, policy).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_blendesk"))
        .arg("--config")
        .arg(&desk.config_path)
        .args(["policy", "publish"])
        .arg(&file)
        .env("BLENDESK_IMAP_PASSWORD", "test")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn policy(caps: &[(&str, u32)]) -> String {
    let advisors: Vec<String> = caps
        .iter()
        .map(|(id, cap)| {
            // a1, a2 read Chinese and English; the rest English only.
            let langs = if *id == "a1" || *id == "a2" { r#"["en","zh"]"# } else { r#"["en"]"# };
            format!(r#""{id}":{{"cap":{cap},"skills":{{"languages":{langs}}}}}"#)
        })
        .collect();
    format!(r#"{{"version":1,"wrap_up_seconds":1,"grace_seconds":5,"advisors":{{{}}}}}"#, advisors.join(","))
}

struct Mail {
    message_id: String,
    follows: Option<String>,
}

/// One email as the driver sees it on the server, for "owned within 5 s of an eligible
/// advisor having capacity".
struct Seen {
    message_id: String,
    customer: String,
    in_reply_to: Option<String>,
    chinese: bool,
    /// Indexes of the observations at which it was unowned and eligible.
    eligible_at: Vec<usize>,
    /// Who could take it, the first time someone could (for the report of slow ones).
    first_eligible: String,
}

/// The team as the driver knows it (it sends the call events, kills the apps and
/// publishes the caps itself), shared with the observer.
#[derive(Default)]
struct TeamView {
    dead: HashSet<String>,
    on_call: HashSet<String>,
    call_ended: HashMap<String, Instant>,
    /// The cap each app has surely read; `None` while a change may not have reached it.
    caps: HashMap<String, Option<u32>>,
}

impl TeamView {
    fn available(&self, a: &str, now: Instant) -> bool {
        // Wrap-up is 1 s; half a second more for the app to hear the call end.
        !self.dead.contains(a)
            && !self.on_call.contains(a)
            && self.call_ended.get(a).is_none_or(|t| now.duration_since(*t) > Duration::from_millis(1500))
    }

    fn has_room(&self, a: &str, load: usize) -> bool {
        self.caps.get(a).copied().flatten().is_some_and(|cap| load < cap as usize)
    }
}

/// Who coordinates the simulated team.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Coordination {
    Mailbox,
    Postgres,
}

/// Where the owners are read: the server's keywords, or the team's database (as the
/// supervisor `alice`, who sees every claim).
#[derive(Clone)]
struct Truth {
    db: Option<(blendesk_coord_pg::PgSettings, AdvisorId)>,
}

impl Truth {
    async fn session(&self) -> Option<AdvisorSession> {
        match &self.db {
            Some((settings, id)) => Some(AdvisorSession::connect(settings, id).await.expect("the team database answers")),
            None => None,
        }
    }

    /// INBOX's flags with the owners: the server's keywords, or the database's owners
    /// added to the server's flags (which must then hold no keyword at all).
    async fn flags(s: &mut ImapSession, db: Option<&AdvisorSession>) -> Vec<(u32, Vec<String>, u64)> {
        let mut flags = imap::fetch_flags(s, None).await.unwrap();
        let Some(db) = db else { return flags };
        let owner_of: HashMap<u32, AdvisorId> = db
            .owners()
            .await
            .unwrap()
            .into_iter()
            .filter_map(|(key, owner)| Some((blendesk_engine::coordination::parse_email_key(&key)?.2, owner)))
            .collect();
        for (uid, f, _) in &mut flags {
            assert!(f.iter().all(|f| f.starts_with('\\')), "UID {uid}: a keyword in the mailbox of a team on PostgreSQL: {f:?}");
            f.extend(owner_of.get(uid).map(owner_keyword));
        }
        flags
    }
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The unowned emails some advisor may take right now by the blending rules: the
/// conversation's owner (thread first, then the customer's open conversation) when it has
/// one and is alive, else any available advisor with room who reads its language.
fn eligible_unowned(
    flags: &[(u32, Vec<String>, u64)],
    seen: &HashMap<u32, Seen>,
    team: &TeamView,
    now: Instant,
    ids: &[&str],
) -> Vec<(u32, String)> {
    let mut load: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut customer_owner: HashMap<&str, &str> = HashMap::new();
    let mut mid_owner: HashMap<&str, &str> = HashMap::new();
    for (u, f, _) in flags {
        let (Some(e), Some(o)) = (seen.get(u), owners(f).next()) else { continue };
        mid_owner.insert(&e.message_id, o);
        if !f.iter().any(|x| x == "\\Answered") {
            load.entry(o).or_default().insert(&e.customer);
            customer_owner.entry(&e.customer).or_insert(o);
        }
    }
    let load_of = |a: &str| load.get(a).map_or(0, |c| c.len());
    let mut out = Vec::new();
    for (uid, f, _) in flags {
        let Some(e) = seen.get(uid) else { continue };
        if owners(f).next().is_some() {
            continue;
        }
        let owner = e.in_reply_to.as_deref().and_then(|r| mid_owner.get(r)).or_else(|| customer_owner.get(e.customer.as_str()));
        let who: Vec<String> = match owner {
            Some(o) if team.dead.contains(*o) => vec![], // taken over after the grace: checked apart
            Some(o) => {
                let joins = load.get(o).is_some_and(|c| c.contains(e.customer.as_str()));
                if team.available(o, now) && (joins || team.has_room(o, load_of(o))) {
                    vec![format!("{o} (owner, load {})", load_of(o))]
                } else {
                    vec![]
                }
            }
            None => ids
                .iter()
                .filter(|a| {
                    let speaks = !e.chinese || **a == "a1" || **a == "a2";
                    speaks && team.available(a, now) && team.has_room(a, load_of(a))
                })
                .map(|a| format!("{a} (load {})", load_of(a)))
                .collect(),
        };
        if !who.is_empty() {
            out.push((*uid, who.join(", ")));
        }
    }
    out
}

/// Watch the mailbox every 200 ms on its own connection, so the driver's own work never
/// stretches the observation gaps: returns every email seen and the observation times.
async fn observe(
    truth: Truth,
    user: String,
    view: Arc<Mutex<TeamView>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    ids: Vec<&'static str>,
) -> (HashMap<u32, Seen>, Vec<i64>) {
    let mut seen: HashMap<u32, Seen> = HashMap::new();
    let mut observations: Vec<i64> = Vec::new();
    let mut s = login(&user).await.unwrap();
    let db = truth.session().await;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        imap::select(&mut s, "INBOX", true).await.unwrap();
        let flags = Truth::flags(&mut s, db.as_ref()).await;
        let new_uids: Vec<u32> = flags.iter().map(|(u, _, _)| *u).filter(|u| !seen.contains_key(u)).collect();
        if !new_uids.is_empty() {
            for (uid, raw) in imap::fetch_raw(&mut s, &imap::uid_set(&new_uids), true).await.unwrap() {
                let p = blendesk_mail::mime::parse(&raw);
                seen.insert(
                    uid,
                    Seen {
                        message_id: p.message_id.unwrap_or_default(),
                        customer: p.from_addr.to_lowercase(),
                        in_reply_to: p.in_reply_to,
                        chinese: p.subject.chars().any(blendesk_domain::fts::is_cjk),
                        eligible_at: Vec::new(),
                        first_eligible: String::new(),
                    },
                );
            }
        }
        let eligible = {
            let team = view.lock().unwrap();
            eligible_unowned(&flags, &seen, &team, Instant::now(), &ids)
        };
        observations.push(unix_ms());
        for (uid, who) in eligible {
            let e = seen.get_mut(&uid).unwrap();
            if e.eligible_at.is_empty() {
                e.first_eligible = who;
            }
            e.eligible_at.push(observations.len() - 1);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    imap::logout(s).await;
    (seen, observations)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_day_for_eight_headless_advisors() {
    compressed_day(Coordination::Mailbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compressed_day_on_postgresql_with_a_mailbox_that_cannot_coordinate() {
    compressed_day(Coordination::Postgres).await;
}

/// The two days never overlap (cargo runs a binary's tests in parallel): each is a
/// latency check on a 2-core machine, and sixteen apps at once would measure the machine.
static ONE_DAY_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn compressed_day(coordination: Coordination) {
    let _alone = ONE_DAY_AT_A_TIME.lock().await;
    let total: usize = std::env::var("SIM_EMAILS").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
    println!("simulating {total} emails (SIM_EMAILS), coordinated by {coordination:?}");
    let mut desk = Desk::new("sim");
    let runtime = tempfile::tempdir().unwrap();
    let ids = ["a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8"];
    let truth = match coordination {
        Coordination::Mailbox => Truth { db: None },
        Coordination::Postgres => {
            // Every login role has the test password; the apps inherit it.
            std::env::set_var("BLENDESK_PG_PASSWORD", blendesk_testkit::TEST_PASSWORD);
            let port: u16 = blendesk_testkit::nocondstore_port();
            let team = PgTeam::new(&ids, &["alice"]).await;
            desk.coordinated_by(&team, port);
            let login = team.settings.with_login(&format!("{}_alice", team.database), blendesk_testkit::TEST_PASSWORD);
            Truth { db: Some((login, AdvisorId::parse("alice").unwrap())) }
        }
    };
    let db = truth.session().await;
    let mut caps: Vec<(&str, u32)> = ids.iter().zip([4, 3, 5, 2, 3, 4, 3, 2]).map(|(i, c)| (*i, c)).collect();
    publish(&desk, &policy(&caps));
    let mut apps: Vec<HeadlessApp> = ids.iter().map(|id| start(&desk, id, runtime.path())).collect();
    let customers: Vec<Customer> = (0..50).map(|_| Customer::new("simc")).collect();

    let started = Instant::now();
    let mut sent: Vec<Mail> = Vec::new();
    let mut driver = login(&desk.user).await.unwrap();
    let mut on_call: HashMap<usize, Instant> = HashMap::new();
    let mut killed_at = None;
    let mut lowered_at = None;
    let mut rng_state = 0x9e3779b97f4a7c15u64;
    let mut rnd = move |n: u64| {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        rng_state % n.max(1)
    };
    // Owned emails' Message-IDs and senders: a follow-up comes from the same customer.
    let mut owned_mid: Vec<(String, String)> = Vec::new();
    let view =
        Arc::new(Mutex::new(TeamView { caps: caps.iter().map(|(a, c)| (a.to_string(), Some(*c))).collect(), ..TeamView::default() }));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let observer = tokio::spawn(observe(truth.clone(), desk.user.clone(), view.clone(), stop.clone(), ids.to_vec()));
    let mut i = 0usize;
    // The day: deliver in bursts, answer owned email, start and end calls, kill two
    // apps at 30 %, lower a cap at 50 %; then let the team finish the queue.
    loop {
        let delivering = i < total;
        for _ in 0..25 {
            if i >= total {
                break;
            }
            let id = format!("sim{i}.{:x}@example.com", rnd(u64::MAX));
            let follow = (i % 10 == 9 && !owned_mid.is_empty()).then(|| owned_mid[rnd(owned_mid.len() as u64) as usize].clone());
            let from = match &follow {
                Some((_, customer)) => customer.clone(),
                None => customers[rnd(customers.len() as u64) as usize].address.clone(),
            };
            let follows = follow.map(|(mid, _)| mid);
            let chinese = i.is_multiple_of(4);
            let (subject, body) = if chinese {
                ("订单查询", "你好，我的订单还没有到。")
            } else {
                ("Order enquiry", "Hello, my order has not arrived.")
            };
            let threading = follows.as_ref().map(|f| format!("In-Reply-To: <{f}>\r\nReferences: <{f}>\r\n")).unwrap_or_default();
            let raw = format!(
                "From: <{from}>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{threading}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
                to = desk.address
            );
            smtp_send(&from, &[&desk.address], raw.as_bytes()).await.unwrap();
            sent.push(Mail { message_id: id, follows });
            i += 1;
        }
        // Answer: each live advisor off the phone replies to one of their open emails.
        imap::select(&mut driver, "INBOX", true).await.unwrap();
        let flags = Truth::flags(&mut driver, db.as_ref()).await;
        let mut open_by: HashMap<String, Vec<u32>> = HashMap::new();
        for (uid, f, _) in &flags {
            if let Some(o) = owners(f).next() {
                if !f.iter().any(|x| x == "\\Answered") {
                    open_by.entry(o.to_owned()).or_default().push(*uid);
                }
            }
        }
        // Advisors answer quickly: each live advisor replies to most of their open emails
        // every round (a compressed day), keeping one at random for later.
        for uids in open_by.values() {
            let keep = rnd(uids.len() as u64 + 1) as usize;
            for (k, uid) in uids.iter().enumerate() {
                if k != keep {
                    imap::store(&mut driver, *uid, "+FLAGS.SILENT (\\Answered)").await.unwrap();
                }
            }
        }
        // Learn some owned Message-IDs for follow-ups.
        if owned_mid.len() < 200 && rnd(2) == 0 {
            let owned: Vec<u32> = flags.iter().filter(|(_, f, _)| owners(f).next().is_some()).map(|(u, _, _)| *u).take(50).collect();
            if let Some(uid) = owned.get(rnd(owned.len().max(1) as u64) as usize) {
                if let Ok(raws) = imap::fetch_raw(&mut driver, &uid.to_string(), true).await {
                    for (_, raw) in raws {
                        let p = blendesk_mail::mime::parse(&raw);
                        if let Some(mid) = p.message_id {
                            owned_mid.push((mid, p.from_addr));
                        }
                    }
                }
            }
        }
        // Calls: end calls after about a second, start new ones at random.
        let ended: Vec<usize> = on_call.iter().filter(|(_, t)| t.elapsed() > Duration::from_millis(800)).map(|(a, _)| *a).collect();
        for a in ended {
            on_call.remove(&a);
            {
                let mut v = view.lock().unwrap();
                v.on_call.remove(ids[a]);
                v.call_ended.insert(ids[a].to_owned(), Instant::now());
            }
            let _ = apps[a].call("end");
        }
        if rnd(2) == 0 {
            let a = rnd(6) as usize; // a7 and a8 are the ones that die
            if let std::collections::hash_map::Entry::Vacant(slot) = on_call.entry(a) {
                // Unavailable in the view before the app hears of the call.
                view.lock().unwrap().on_call.insert(ids[a].to_owned());
                let _ = apps[a].call("start");
                slot.insert(Instant::now());
            }
        }
        if killed_at.is_none() && i >= total * 3 / 10 {
            for app in apps.iter_mut().filter(|a| a.id == "a7" || a.id == "a8") {
                view.lock().unwrap().dead.insert(app.id.clone());
                app.crash();
            }
            killed_at = Some(Instant::now());
        }
        if lowered_at.is_none() && i >= total / 2 {
            caps[2].1 = 1; // a3: 5 → 1
                           // Until a3 has surely read it (2 s poll), a3's cap is unknown: not counted
                           // as room for anyone's wait.
            view.lock().unwrap().caps.insert("a3".into(), None);
            publish(&desk, &policy(&caps));
            lowered_at = Some(Instant::now());
        }
        if lowered_at.is_some_and(|t| t.elapsed() > Duration::from_secs(3)) {
            view.lock().unwrap().caps.insert("a3".into(), Some(1));
        }
        if !delivering {
            let unowned = flags.iter().filter(|(_, f, _)| owners(f).next().is_none()).count();
            if unowned == 0 && flags.len() == total {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(600), "the team did not finish: {unowned} unowned");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for a in on_call.keys() {
        let _ = apps[*a].call("end");
    }
    println!("{total} emails handled in {:?}", started.elapsed());
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (seen, observations) = observer.await.unwrap();

    // Server truth (the database's owners on PostgreSQL).
    imap::select(&mut driver, "INBOX", true).await.unwrap();
    let flags = Truth::flags(&mut driver, db.as_ref()).await;
    let heads = imap::fetch_raw(&mut driver, "1:*", true).await.unwrap();
    imap::logout(driver).await;
    let mid_of: HashMap<u32, String> =
        heads.into_iter().filter_map(|(uid, raw)| blendesk_mail::mime::parse(&raw).message_id.map(|m| (uid, m))).collect();
    let mut owner_of: HashMap<String, String> = HashMap::new();
    let mut answered: HashSet<String> = HashSet::new();
    for (uid, f, _) in &flags {
        let o: Vec<&str> = owners(f).collect();
        assert_eq!(o.len(), 1, "UID {uid} has owners {o:?}");
        owner_of.insert(mid_of[uid].clone(), o[0].to_owned());
        if f.iter().any(|x| x == "\\Answered") {
            answered.insert(mid_of[uid].clone());
        }
    }
    assert_eq!(flags.len(), total);

    for app in apps.iter_mut().filter(|a| !a.killed) {
        app.stop();
    }

    // Each app's own log.
    let mut claims_total = 0;
    for app in &apps {
        let events = app.events.lock().unwrap();
        let mut state = ("available".to_owned(), 0i64);
        let mut timeline: Vec<(i64, String)> = Vec::new();
        for e in events.iter() {
            match e["type"].as_str() {
                Some("advisor_state") => timeline.push((e["at_ms"].as_i64().unwrap(), e["state"].as_str().unwrap().to_owned())),
                Some("claimed") => {
                    claims_total += 1;
                    let at = e["at_ms"].as_i64().unwrap();
                    while let Some(pos) = timeline.iter().position(|(t, _)| *t <= at) {
                        let (t, s) = timeline.remove(pos);
                        state = (s, t);
                    }
                    assert_eq!(state.0, "available", "{} claimed at {at} while {} (since {})", app.id, state.0, state.1);
                    assert_eq!(e["state"], "available");
                    let (load, cap) = (e["load"].as_u64().unwrap(), e["cap"].as_u64().unwrap());
                    // A chaser joining one of the advisor's open conversations adds none.
                    let joins = e["joins"].as_bool().unwrap();
                    assert!(joins || load < cap, "{} claimed over its cap: load {load}, cap {cap}", app.id);
                }
                _ => {}
            }
        }
    }
    // The lowered cap: a3's claims after the change respect cap 1.
    let a3 = apps.iter().find(|a| a.id == "a3").unwrap();
    let caps_seen: HashSet<u64> =
        a3.events.lock().unwrap().iter().filter(|e| e["type"] == "claimed").filter_map(|e| e["cap"].as_u64()).collect();
    assert!(caps_seen.contains(&1), "a3 worked under the lowered cap: {caps_seen:?}");

    // Follow-ups went to their conversation's owner while that owner was alive, and to
    // a live advisor when the owner's app had died.
    let dead: HashSet<&str> = ["a7", "a8"].into();
    let (mut sticky, mut rerouted) = (0, 0);
    for m in sent.iter().filter(|m| m.follows.is_some()) {
        let original_owner = &owner_of[m.follows.as_ref().unwrap()];
        if dead.contains(original_owner.as_str()) {
            // Claimed by its owner before the app died, or taken by a live advisor after;
            // open ones left with a dead app are caught below.
            if !dead.contains(owner_of[&m.message_id].as_str()) {
                rerouted += 1;
            }
        } else {
            if &owner_of[&m.message_id] != original_owner {
                // What each app logged about the two emails, to tell a stale mirror from
                // an owner who looked gone (late heartbeats) on the next failure.
                let about = |mid: &str| -> Vec<String> {
                    apps.iter()
                        .flat_map(|a| {
                            let events = a.events.lock().unwrap().clone();
                            events
                                .into_iter()
                                .filter(|e| e["message_id"].as_str().is_some_and(|x| x.trim_matches(['<', '>']) == mid))
                                .map(|e| format!("{}: {e}", a.id))
                                .collect::<Vec<_>>()
                        })
                        .collect()
                };
                panic!(
                    "follow-up {} went to {} instead of {original_owner}\noriginal: {:#?}\nfollow-up: {:#?}",
                    m.message_id,
                    owner_of[&m.message_id],
                    about(m.follows.as_deref().unwrap_or_default()),
                    about(&m.message_id)
                );
            }
            sticky += 1;
        }
    }
    // Nothing open is left with the dead apps: their open emails were taken over after
    // the grace period. What they answered stays theirs (waiting on the customer) until
    // the customer writes back, and that follow-up goes to a live advisor (above).
    for (mid, o) in &owner_of {
        if dead.contains(o.as_str()) {
            assert!(answered.contains(mid), "{mid} is open and still owned by the dead app {o}");
        }
    }
    println!("{rerouted} follow-ups to dead apps' conversations taken by live advisors");

    // Every email owned within 5 s of an eligible advisor having capacity: add up, for
    // each observation at which it was eligible, the time until the next observation or
    // its first claim (the app's own event), whichever came first.
    let mut claimed_at: HashMap<String, i64> = HashMap::new();
    for app in &apps {
        for e in app.events.lock().unwrap().iter().filter(|e| e["type"] == "claimed") {
            if let (Some(mid), Some(at)) = (e["message_id"].as_str(), e["at_ms"].as_i64()) {
                let t = claimed_at.entry(mid.to_owned()).or_insert(at);
                *t = (*t).min(at);
            }
        }
    }
    let mut eligible_waits: Vec<Duration> = Vec::new();
    let mut slow_shown = 0;
    for e in seen.values() {
        // An app killed between its swap and printing the event leaves an email it owns
        // on the server with no claim event: its wait is then counted up to the first
        // observation that saw it owned (a bound from above). Any other owned email
        // without an event is a bug.
        let killed_owner = owner_of.get(&e.message_id).is_some_and(|o| apps.iter().any(|a| a.killed && &a.id == o));
        let claim = match claimed_at.get(&e.message_id) {
            Some(at) => *at,
            None if killed_owner => i64::MAX,
            None => panic!("no claim event for {}", e.message_id),
        };
        let ms: i64 = e
            .eligible_at
            .iter()
            .map(|k| {
                let end = observations.get(k + 1).copied().unwrap_or(i64::MAX).min(claim);
                (end - observations[*k]).max(0)
            })
            .sum();
        if ms > 5_000 && slow_shown < 5 {
            slow_shown += 1;
            let first = observations[e.eligible_at[0]];
            println!(
                "slow: {} waited {ms} ms while eligible (first eligible {} ms before its claim (if known), {} observations; chinese {}, reply {}; could take it then: {})",
                e.message_id,
                claim - first,
                e.eligible_at.len(),
                e.chinese,
                e.in_reply_to.is_some(),
                e.first_eligible
            );
            // What each live app did meanwhile: when the email reached its mirror, how
            // many claims it made, its state changes (times from first eligible).
            for app in apps.iter().filter(|a| !a.killed) {
                let events = app.events.lock().unwrap();
                let within =
                    |v: &serde_json::Value| v["read_ms"].as_i64().is_some_and(|t| t >= first - 2_000 && t <= claim.saturating_add(500));
                let arrived = events
                    .iter()
                    .find(|v| {
                        v["type"] == "message_arrived"
                            && v["message_id"].as_str().is_some_and(|m| m.contains(e.message_id.trim_matches(['<', '>'])))
                    })
                    .and_then(|v| v["read_ms"].as_i64())
                    .map(|t| t - first);
                let claims = events.iter().filter(|v| v["type"] == "claimed" && within(v)).count();
                let states: Vec<String> = events
                    .iter()
                    .filter(|v| v["type"] == "advisor_state" && within(v))
                    .map(|v| format!("{}@{}", v["state"].as_str().unwrap_or("?"), v["read_ms"].as_i64().unwrap_or(0) - first))
                    .collect();
                println!("    {}: arrived {arrived:?} ms, {claims} claims, states {states:?}", app.id);
            }
        }
        eligible_waits.push(Duration::from_millis(ms as u64));
    }
    let mut gaps: Vec<i64> = observations.windows(2).map(|w| w[1] - w[0]).collect();
    gaps.sort();
    println!("observations every {} ms (median), {} ms at most", gaps[gaps.len() / 2], gaps.last().unwrap());
    eligible_waits.sort();
    let pct = |p: f64| eligible_waits[((eligible_waits.len() - 1) as f64 * p) as usize];
    println!(
        "waiting while an eligible advisor had room: p50 {:?}, p99 {:?}, max {:?} over {} emails",
        pct(0.5),
        pct(0.99),
        eligible_waits.last().unwrap(),
        eligible_waits.len()
    );
    assert_eq!(eligible_waits.len(), total, "every email observed");
    assert!(*eligible_waits.last().unwrap() <= Duration::from_secs(5), "an email waited over 5 s while an eligible advisor had room");
    println!("{claims_total} claims, {sticky} sticky follow-ups; dead apps killed {:?} in", killed_at.map(|t| t.duration_since(started)));
}
