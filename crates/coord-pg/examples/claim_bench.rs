//! Claim latency against one PostgreSQL: 20 apps, then more, up to 200 simulated apps
//! (each its own connection and login role, one claim at a time, as an app's claim loop
//! does), to show where it bends.
//!
//!   tests/pg-stack.sh start
//!   cargo run --release -p blendesk-coord-pg --example claim_bench
//!
//! Two shapes per team size: `spread` — each app claims 50 emails of its own stretch of
//! the queue, which overlaps its neighbours' (about 2.5 apps try each email, as when the
//! matching lets apps split the head of the queue); `all` — every app tries every one of
//! 100 emails (the head-of-queue race with no matching). BENCH_APPS=20,200 picks sizes.
//! BENCH_SYNC_COMMIT=off is a diagnosis only (is it the disk?): a claim the server
//! acknowledged could be lost in a crash, so the product never runs that way.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use blendesk_coord_pg::{Admin, AdvisorSession, Claim, PgSettings, TeamRole, Tls};
use blendesk_domain::advisor::AdvisorId;
use tokio::sync::Barrier;

fn settings() -> Result<PgSettings> {
    let script_env = if std::env::var("BLENDESK_PG_PORT").is_err() {
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/pg-stack.sh");
        let out = std::process::Command::new(&script).arg("env").output().with_context(|| format!("running {}", script.display()))?;
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        String::new()
    };
    let get = |key: &str| {
        std::env::var(key)
            .ok()
            .or_else(|| script_env.lines().find_map(|l| l.strip_prefix(&format!("{key}="))).map(str::to_owned))
            .unwrap_or_default()
    };
    if get("BLENDESK_PG_ADMIN_PASSWORD").is_empty() {
        bail!("no PostgreSQL administrator password: run tests/pg-stack.sh start first");
    }
    Ok(PgSettings {
        host: get("BLENDESK_PG_HOST"),
        port: get("BLENDESK_PG_PORT").parse().context("BLENDESK_PG_PORT")?,
        database: get("BLENDESK_PG_DATABASE"),
        user: get("BLENDESK_PG_ADMIN_USER"),
        password: get("BLENDESK_PG_ADMIN_PASSWORD"),
        tls: Tls::Off,
    })
}

/// A plain administrator's connection, for what the API does not offer (dropping things).
async fn raw(s: &PgSettings) -> Result<tokio_postgres::Client> {
    let mut config = tokio_postgres::Config::new();
    config.host(&s.host).port(s.port).dbname(&s.database).user(&s.user).password(&s.password);
    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

struct Run {
    latencies_us: Vec<u64>,
    won: usize,
    wall: Duration,
}

/// Every app starts together and claims its list one at a time; returns each claim's latency.
async fn race(sessions: &[Arc<AdvisorSession>], lists: Vec<Vec<String>>) -> Result<Run> {
    let barrier = Arc::new(Barrier::new(sessions.len() + 1));
    let mut apps = Vec::new();
    for (session, list) in sessions.iter().zip(lists) {
        let (session, barrier) = (session.clone(), barrier.clone());
        apps.push(tokio::spawn(async move {
            barrier.wait().await;
            let me = session.advisor().clone();
            let mut out = Vec::with_capacity(list.len());
            for key in list {
                let started = Instant::now();
                let claim = session.claim(&key, &me).await?;
                out.push((started.elapsed().as_micros() as u64, matches!(claim, Claim::Claimed { .. })));
            }
            anyhow::Ok(out)
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut run = Run { latencies_us: Vec::new(), won: 0, wall: Duration::ZERO };
    for app in apps {
        for (us, won) in app.await.context("an app panicked")?? {
            run.latencies_us.push(us);
            run.won += usize::from(won);
        }
    }
    run.wall = started.elapsed();
    Ok(run)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

fn report(apps: usize, shape: &str, mut run: Run, emails: usize) {
    run.latencies_us.sort_unstable();
    let l = &run.latencies_us;
    println!(
        "{apps:>5}  {shape:<7} {:>7} {:>6}/{:<6} {:>8.2} {:>8.2} {:>8.2} {:>9.0}",
        l.len(),
        run.won,
        emails,
        percentile(l, 0.50),
        percentile(l, 0.99),
        percentile(l, 1.0),
        l.len() as f64 / run.wall.as_secs_f64()
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<()> {
    let admin_settings = settings()?;
    let sizes: Vec<usize> = std::env::var("BENCH_APPS")
        .unwrap_or_else(|_| "20,50,100,200".into())
        .split(',')
        .map(|s| s.trim().parse().context("BENCH_APPS: numbers separated by commas"))
        .collect::<Result<_>>()?;
    let most = sizes.iter().copied().max().unwrap_or(20);
    let tag = format!("bench{:08x}", rand::random::<u32>());
    Admin::connect(&admin_settings).await?.create_database(&tag).await?;
    let team_settings = admin_settings.with_database(&tag);
    let mut admin = Admin::connect(&team_settings).await?;
    admin.migrate().await?;
    let sync_commit = std::env::var("BENCH_SYNC_COMMIT").unwrap_or_else(|_| "on".into());
    if sync_commit == "off" {
        raw(&admin_settings).await?.batch_execute(&format!("ALTER DATABASE {tag} SET synchronous_commit = off")).await?;
    }
    eprintln!("creating {most} advisors' login roles in database {tag}");
    let mut logins = Vec::new();
    for i in 0..most {
        let id = AdvisorId::parse(&format!("b{i:03}"))?;
        let login = format!("{tag}_{id}");
        admin.add_advisor(&id, &login, "bench-password", TeamRole::Advisor).await?;
        logins.push((id, login));
    }

    println!(
        "claim latency, one PostgreSQL ({}:{}), release build, synchronous_commit {sync_commit}",
        admin_settings.host, admin_settings.port
    );
    println!(" apps  shape    claims    won/emails   p50 ms   p99 ms   max ms  claims/s");
    for &apps in &sizes {
        let mut sessions = Vec::new();
        for (id, login) in &logins[..apps] {
            sessions.push(Arc::new(AdvisorSession::connect(&team_settings.with_login(login, "bench-password"), id).await?));
        }
        // Spread: app i claims 50 emails from i*20 on; neighbours overlap.
        let emails = apps * 20 + 30;
        let lists = (0..apps).map(|i| (i * 20..i * 20 + 50).map(|e| format!("<spread-{apps}-{e}@x>")).collect()).collect();
        report(apps, "spread", race(&sessions, lists).await?, emails);
        // All: every app tries the same 100 emails, each in its own rotation.
        let lists = (0..apps).map(|i| (0..100).map(|e| format!("<all-{apps}-{}@x>", (e + i * 7) % 100)).collect()).collect();
        report(apps, "all", race(&sessions, lists).await?, 100);
    }

    // Leave the server as we found it.
    drop(admin);
    let client = raw(&admin_settings).await?;
    client.batch_execute(&format!("DROP DATABASE {tag} WITH (FORCE)")).await?;
    for (_, login) in &logins {
        client.batch_execute(&format!("DROP ROLE {login}")).await?;
    }
    Ok(())
}
