//! First claims on real servers: keywords the mailbox has never seen. Dovecot applies
//! every concurrent `UNCHANGEDSINCE` STORE of a new keyword (each answered OK), so the
//! claim registers a keyword on a resolved message before its first conditional use
//! (`claims::register_keywords`), or, in a folder without one, touches another message
//! first. Each round: a new email, six sessions released together, each claiming with an
//! advisor id never used before → exactly one owner. Both ways are raced.
//!
//! Duties are decided by bids (`duty_bids.rs`: the lowest UID in the duties folder holds
//! the duty) and raced the same way, six apps per new email in a new folder, then a
//! seventh, late bidder: exactly one holder, one mark on the email, no bid left behind.
//!
//! The control race (the bare compare-and-swap, no registration) shows the harness
//! races tightly enough to catch the server's behaviour: on Dovecot it must leave
//! double owners, or this test proves nothing.

use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::automation::ack::is_ack_flag;
use blendesk_domain::automation::duty::{Duty, DutyKind};
use blendesk_domain::claim::{owners, ClaimOutcome, OWNER_PREFIX};
use blendesk_engine::claims::take_keyword;
use blendesk_engine::duty_bids::take_duty;
use blendesk_mail::imap::{self, ImapSession};
use blendesk_testkit::servers::{Server, ALL_SERVERS};
use std::sync::Arc;
use tokio::sync::Barrier;

const RACERS: usize = 6;
const ROUNDS: usize = 300;
/// Rounds per folder: Cyrus keeps at most 100 keywords in one (6 per round + marker).
const ROUNDS_PER_FOLDER: usize = 14;

struct Round {
    folder: String,
    uidvalidity: u32,
    uid: u32,
}

/// A new email in `folder`, by the coordinator's session. A new folder first gets an
/// earlier email: resolved (`resolved_mail`: the keywords are registered on it) or open.
async fn new_email(s: &mut ImapSession, folder: &str, n: usize, resolved_mail: bool) -> Round {
    if imap::select(s, folder, false).await.is_err() {
        imap::create_folder(s, folder).await.unwrap();
        let flags = if resolved_mail { "(\\Seen $Resolved)" } else { "()" };
        let raw = format!(
            "From: earlier@example.com\r\nSubject: earlier\r\nMessage-ID: <earlier.{}@example.com>\r\n\r\nhello\r\n",
            rand::random::<u64>()
        );
        imap::append(s, folder, flags, raw.as_bytes()).await.unwrap();
    }
    let raw = format!(
        "From: c{n}@example.com\r\nSubject: first claim {n}\r\nMessage-ID: <first{n}.{}@example.com>\r\n\r\nround {n}\r\n",
        rand::random::<u64>()
    );
    imap::append(s, folder, "()", raw.as_bytes()).await.unwrap();
    let sel = imap::select(s, folder, true).await.unwrap();
    let uid = *imap::uid_search(s, "ALL").await.unwrap().last().unwrap();
    Round { folder: folder.to_owned(), uidvalidity: sel.uidvalidity, uid }
}

/// A coordinator and `RACERS` racing sessions, all logged in as one new user.
async fn logins(server: &Server, prefix: &str) -> (ImapSession, Vec<ImapSession>) {
    let user = server.user(prefix);
    let coordinator = server.login(&user).await.unwrap();
    let mut sessions = Vec::new();
    for _ in 0..RACERS {
        sessions.push(server.login(&user).await.unwrap());
    }
    (coordinator, sessions)
}

/// Run `racer` in every session at once (each gets its index and the shared barrier to
/// meet at); the sessions come back in `sessions`, the racers' answers are returned.
async fn all_at_once<T, F, Fut>(sessions: &mut Vec<ImapSession>, racer: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize, ImapSession, Arc<Barrier>) -> Fut,
    Fut: std::future::Future<Output = (ImapSession, T)> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(sessions.len()));
    let tasks: Vec<_> = sessions.drain(..).enumerate().map(|(i, s)| tokio::spawn(racer(i, s, barrier.clone()))).collect();
    let mut answers = Vec::new();
    for t in tasks {
        let (s, answer) = t.await.unwrap();
        sessions.push(s);
        answers.push(answer);
    }
    answers
}

/// The bare compare-and-swap of earlier versions: read MODSEQ, meet, STORE, read back.
async fn bare_claim(s: &mut ImapSession, r: &Round, keyword: &str, barrier: &Barrier) -> bool {
    imap::select(s, &r.folder, true).await.unwrap();
    let (_, modseq) = imap::flags_of(s, r.uid).await.unwrap().unwrap();
    barrier.wait().await;
    imap::store_conditional(s, r.uid, modseq, &format!("+FLAGS.SILENT ({keyword})")).await.unwrap();
    let (after, _) = imap::flags_of(s, r.uid).await.unwrap().unwrap();
    owners(&after).count() == 1 && owners(&after).any(|o| keyword.ends_with(o))
}

/// `rounds` races on `server`; returns (rounds with two or more owners, rounds with
/// none, rounds where the apps' verdicts disagree with the server).
async fn race(server: &Server, rounds: usize, registered: bool, resolved_mail: bool) -> (usize, usize, usize) {
    let (mut coordinator, mut sessions) = logins(server, "first").await;
    let run = rand::random::<u32>();
    let (mut doubles, mut nobody, mut disagree) = (0, 0, 0);
    for n in 0..rounds {
        let folder = format!("race{}", n / ROUNDS_PER_FOLDER);
        let round = Arc::new(new_email(&mut coordinator, &folder, n, resolved_mail).await);
        let answers = all_at_once(&mut sessions, |i, mut s, barrier| {
            let round = round.clone();
            // A fresh advisor id every round: the keyword is new to the mailbox.
            let keyword = format!("{OWNER_PREFIX}r{run:x}n{n}a{i}");
            async move {
                let won = if registered {
                    barrier.wait().await;
                    let r = &round;
                    take_keyword(&mut s, &r.folder, r.uidvalidity, r.uid, &keyword, OWNER_PREFIX).await.unwrap() == ClaimOutcome::Won
                } else {
                    bare_claim(&mut s, &round, &keyword, &barrier).await
                };
                (s, won.then_some(keyword))
            }
        })
        .await;
        let winners: Vec<String> = answers.into_iter().flatten().collect();
        imap::select(&mut coordinator, &round.folder, true).await.unwrap();
        let (flags, _) = imap::flags_of(&mut coordinator, round.uid).await.unwrap().unwrap();
        let on_server: Vec<&str> = owners(&flags).collect();
        match on_server.len() {
            0 => nobody += 1,
            1 => {}
            _ => doubles += 1,
        }
        let agreed = winners.len() == 1 && on_server.len() == 1 && winners[0].ends_with(on_server[0]);
        if !agreed {
            disagree += 1;
            if registered {
                eprintln!("{} round {n}: apps say {winners:?}, server {on_server:?}", server.label());
            }
        }
    }
    for s in sessions.into_iter().chain([coordinator]) {
        imap::logout(s).await;
    }
    (doubles, nobody, disagree)
}

async fn first_claims_hold_on(server: Server) {
    for (resolved_mail, way) in [(true, "registered on resolved mail"), (false, "touch, no resolved mail")] {
        let (doubles, nobody, disagree) = race(&server, ROUNDS, true, resolved_mail).await;
        println!(
            "{} ({way}): {ROUNDS} six-way first-claim races: {doubles} with several owners, {nobody} with none, {disagree} where an app's verdict was wrong",
            server.label()
        );
        assert_eq!(
            (doubles, nobody, disagree),
            (0, 0, 0),
            "{} ({way}): exactly one owner every round, and the app that won knows it",
            server.label()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn first_claims_hold_on_every_server() {
    for server in ALL_SERVERS {
        first_claims_hold_on(server).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_registration_dovecot_lets_several_first_claims_through() {
    for server in ALL_SERVERS.into_iter().filter(Server::is_dovecot) {
        let (doubles, _, _) = race(&server, 60, false, true).await;
        println!("{}: bare compare-and-swap, 60 rounds of new keywords: {doubles} with several owners", server.label());
        assert!(
            doubles > 0,
            "{}: the control race must show the server's behaviour, or the harness is too slow to test it",
            server.label()
        );
    }
}

/// Rounds of duty races per way and server: one new folder each.
const DUTY_ROUNDS: usize = 100;

/// Six sessions bid for the acknowledgement duty on a new email in a new folder, then a
/// seventh bids after them; returns the rounds where the number of apps told `Won`, of
/// marks on the email or of bids left in the duties folder was not (1, 1, 0).
async fn duty_race(server: &Server, resolved_mail: bool) -> usize {
    let (mut coordinator, mut sessions) = logins(server, "duty").await;
    let run = rand::random::<u32>();
    let duties = format!("Blendesk/Duties{run:x}");
    let mut wrong = 0;
    for n in 0..DUTY_ROUNDS {
        let round = Arc::new(new_email(&mut coordinator, &format!("duty{run:x}n{n}"), n, resolved_mail).await);
        let answers = all_at_once(&mut sessions, |i, mut s, barrier| {
            let (round, duties) = (round.clone(), duties.clone());
            async move {
                barrier.wait().await;
                let r = &round;
                let duty = Duty { kind: DutyKind::Ack, folder: &r.folder, uidvalidity: r.uidvalidity, uid: r.uid };
                let me = AdvisorId::parse(&format!("a{i}")).unwrap();
                let outcome = take_duty(&mut s, &duties, &duty, &me, "desk@shop.test").await.unwrap();
                (s, outcome == ClaimOutcome::Won)
            }
        })
        .await;
        let mut winners = answers.into_iter().filter(|won| *won).count();
        // A late app, after the holder has marked the email and removed its bid.
        let duty = Duty { kind: DutyKind::Ack, folder: &round.folder, uidvalidity: round.uidvalidity, uid: round.uid };
        let late = AdvisorId::parse("late").unwrap();
        if take_duty(&mut coordinator, &duties, &duty, &late, "desk@shop.test").await.unwrap() == ClaimOutcome::Won {
            winners += 1;
        }
        imap::select(&mut coordinator, &round.folder, true).await.unwrap();
        let (flags, _) = imap::flags_of(&mut coordinator, round.uid).await.unwrap().unwrap();
        let holders = flags.iter().filter(|f| is_ack_flag(f)).count();
        let left = imap::select(&mut coordinator, &duties, false).await.unwrap().exists;
        if (winners, holders, left) != (1, 1, 0) {
            wrong += 1;
            eprintln!("{} round {n}: {winners} apps won, server flags {flags:?}, {left} bids left", server.label());
        }
    }
    for s in sessions.into_iter().chain([coordinator]) {
        imap::logout(s).await;
    }
    wrong
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn first_duties_hold_on_every_server() {
    for server in ALL_SERVERS {
        for (resolved_mail, way) in [(true, "a folder with resolved mail"), (false, "a folder without")] {
            let wrong = duty_race(&server, resolved_mail).await;
            println!(
                "{} ({way}): {DUTY_ROUNDS} six-way first-duty races in new folders: {wrong} without exactly one holder",
                server.label()
            );
            assert_eq!(wrong, 0, "{} ({way}): exactly one app holds the duty every round, and knows it", server.label());
        }
    }
}
