//! A new team's first claims: six real headless advisors (`blendesk run --headless`,
//! separate processes) started at the same moment on a mailbox where no owner keyword
//! exists yet, three emails. Repeated (`FIRST_CLAIMS_REPS`, 30 by default): every email
//! ends with exactly one owner, the app that logged the claim, never two and never none.

use blendesk_domain::claim::owners;
use blendesk_mail::imap;
use blendesk_testkit::servers::{Server, ALL_SERVERS};
use blendesk_testkit::{eventually, Desk, HeadlessApp};
use std::path::Path;
use std::time::Duration;

const ADVISORS: [&str; 6] = ["ann", "ben", "cai", "dev", "eli", "fay"];
const EMAILS: usize = 3;

fn reps() -> usize {
    std::env::var("FIRST_CLAIMS_REPS").ok().and_then(|v| v.parse().ok()).unwrap_or(30)
}

/// Owners of each email on the server (the marker message left out), by UID.
async fn server_owners(server: Server, user: &str) -> Vec<(u32, Vec<String>)> {
    let mut s = server.login(user).await.unwrap();
    imap::select(&mut s, "INBOX", true).await.unwrap();
    let flags = imap::fetch_flags(&mut s, None).await.unwrap();
    imap::logout(s).await;
    let mut out: Vec<(u32, Vec<String>)> = flags.into_iter().map(|(uid, f, _)| (uid, owners(&f).map(str::to_owned).collect())).collect();
    out.sort();
    out
}

/// One repetition: returns (emails with two or more owners, emails with none).
async fn one_team_starts(server: Server, rep: usize) -> (usize, usize) {
    let desk = Desk::on(server, "first");
    let mut s = server.login(&desk.user).await.unwrap();
    for i in 0..EMAILS {
        let raw = format!(
            "From: Customer {i} <first{rep}x{i}@example.com>\r\nTo: {to}\r\nSubject: first question {i}\r\n\
             Message-ID: <first{rep}x{i}.{r}@example.com>\r\nDate: Fri, 4 Dec 2026 09:00:00 +0000\r\n\r\nhello\r\n",
            to = desk.address,
            r = rand::random::<u32>()
        );
        imap::append(&mut s, "INBOX", "()", raw.as_bytes()).await.unwrap();
    }
    imap::logout(s).await;
    let runtime = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_blendesk"));
    // All six at once.
    let mut apps: Vec<HeadlessApp> = ADVISORS.iter().map(|id| HeadlessApp::start(bin, &desk, id, runtime.path())).collect();
    let claimed = |apps: &[HeadlessApp]| apps.iter().map(|a| a.events_of("claimed").len()).sum::<usize>();
    let all_owned = eventually(&format!("rep {rep}: every email owned"), Duration::from_secs(60), || {
        let user = desk.user.clone();
        let done = claimed(&apps) >= EMAILS;
        async move {
            let owners = server_owners(server, &user).await;
            Ok((done && owners.iter().all(|(_, o)| !o.is_empty())).then_some(owners))
        }
    })
    .await;
    for app in &mut apps {
        assert!(app.stop(), "rep {rep}: {} stops cleanly", app.id);
    }
    let owners = server_owners(server, &desk.user).await;
    all_owned.unwrap_or_else(|e| panic!("{e}: {owners:?}"));
    assert_eq!(owners.len(), EMAILS);
    // Each claim event names an email its app owns on the server, one event per email.
    let mut events: Vec<(String, u32)> = apps
        .iter()
        .flat_map(|a| a.events_of("claimed").into_iter().map(|e| (a.id.clone(), e["uid"].as_u64().unwrap_or(0) as u32)))
        .collect();
    events.sort_by_key(|(_, uid)| *uid);
    let settled: usize = apps.iter().map(|a| a.events_of("owners_settled").len()).sum();
    if settled > 0 {
        println!("rep {rep}: {settled} emails settled after several owners");
    }
    for (uid, o) in &owners {
        if o.len() == 1 && settled == 0 {
            assert!(events.contains(&(o[0].clone(), *uid)), "rep {rep}: UID {uid} owned by {} without its claim event: {events:?}", o[0]);
        }
    }
    (owners.iter().filter(|(_, o)| o.len() > 1).count(), owners.iter().filter(|(_, o)| o.is_empty()).count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_advisors_starting_together_on_a_new_mailbox_leave_one_owner_per_email() {
    let reps = reps();
    for server in ALL_SERVERS {
        let (mut doubles, mut nobody) = (0, 0);
        for rep in 0..reps {
            let (d, n) = one_team_starts(server, rep).await;
            doubles += d;
            nobody += n;
        }
        println!(
            "{}: {reps} teams of 6 starting together, {EMAILS} emails each: {doubles} emails with several owners, {nobody} with none",
            server.label()
        );
        assert_eq!((doubles, nobody), (0, 0), "{}", server.label());
    }
}
