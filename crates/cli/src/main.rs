//! `blendesk`: the command line over the engine. Thin: parse arguments, call the engine,
//! print. Errors print one line and exit non-zero (2 configuration, 3 credentials,
//! 4 server or network, 5 refused by the server's access rights, 1 anything else).

use anyhow::{Context, Result};
use blendesk_engine::config::{self, Config};
use blendesk_engine::{Engine, EngineError};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

mod coordination;
mod docs;
mod sign_in;
mod simulate;

#[derive(Parser)]
#[command(name = "blendesk", version, about = "Blended phone and email desk for contact-centre advisors")]
struct Cli {
    /// Configuration file (default: $XDG_CONFIG_HOME/blendesk/config.toml).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum QualityAction {
    /// Publish a scorecard (JSON: name, version, channel, sections of categories).
    Scorecard { file: PathBuf },
    /// Write a review (JSON: scorecard, scorecard_version, conversation, advisor, scores).
    Review { file: PathBuf },
    /// The reviews you may see, quality scores and calibration sessions.
    Show {
        #[arg(long)]
        json: bool,
    },
    /// This week's random sample of conversations to review, per advisor.
    Sample {
        #[arg(long, default_value_t = 5)]
        per_advisor: usize,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Run one full sync of the configured folders and Sent, then exit.
    Sync {
        #[arg(long)]
        json: bool,
    },
    /// Show folders, counts, last sync, server capabilities and the outbox.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Keep the mirror live (IDLE) and send the outbox until interrupted; prints events
    /// as JSON lines.
    Watch,
    /// Queue a reply to a mirrored message (by its local id) with the given text.
    Reply {
        message: i64,
        #[arg(long)]
        body: String,
    },
    /// Work on the outbox.
    Outbox {
        #[command(subcommand)]
        action: OutboxAction,
    },
    /// Run the engine without a window: sync, live updates, the outbox, and claims for
    /// this config's advisor. Prints events as JSON lines. Stops on Ctrl-C or SIGTERM.
    Run {
        /// Required: the windowed app is `blendesk-desktop`.
        #[arg(long)]
        headless: bool,
        /// Do not claim email (mirror and send only).
        #[arg(long)]
        no_claims: bool,
    },
    /// Tell the running Blendesk of this config's advisor that a call started or ended
    /// (what a softphone runs on call events).
    Call {
        #[arg(value_enum)]
        event: CallArg,
        /// The softphone's call id.
        #[arg(long)]
        id: Option<String>,
        /// The customer's number (`+` and digits).
        #[arg(long)]
        number: Option<String>,
        #[arg(long, value_enum)]
        direction: Option<DirectionArg>,
    },
    /// The team's coordination backend (`[coordination]`): move a team to PostgreSQL.
    Coordination {
        #[command(subcommand)]
        action: CoordinationAction,
    },
    /// Show or publish the supervisor policy (Blendesk/Policy in the shared mailbox).
    Policy {
        #[command(subcommand)]
        action: PolicyAction,
    },
    /// The team's knowledge base (Blendesk/Knowledge in the shared mailbox).
    Knowledge {
        #[command(subcommand)]
        action: docs::KnowledgeAction,
    },
    /// Reply templates (Blendesk/Templates): publish, approve, list.
    Template {
        #[command(subcommand)]
        action: docs::TemplateAction,
    },
    /// A customer's conversations under all their known addresses (after a sync).
    History {
        address: String,
        #[arg(long)]
        json: bool,
    },
    /// Link or unlink two addresses of one customer.
    Customer {
        #[command(subcommand)]
        action: docs::CustomerAction,
    },
    /// Merge conversation KEY (a customer's address or a conversation key) into another:
    /// one conversation, one owner (the owner of both, or a supervisor, may).
    Merge {
        key: String,
        #[arg(long)]
        into: String,
    },
    /// Split emails (Message-ID or UID) off their conversation into one of their own.
    Split {
        #[arg(required = true)]
        emails: Vec<String>,
    },
    /// A supervisor moves CUSTOMER's open conversation to another advisor.
    Transfer {
        customer: String,
        #[arg(long)]
        to: String,
    },
    /// Give my open conversation with CUSTOMER back to the queue (another advisor takes it).
    Release { customer: String },
    /// "Come back later": park my open conversation with CUSTOMER (it leaves my load and
    /// returns by itself); with no CUSTOMER, list what is parked.
    Park {
        customer: Option<String>,
        /// Minutes until it returns (default: the policy's park return time).
        #[arg(long, conflicts_with = "seconds")]
        minutes: Option<u32>,
        #[arg(long)]
        seconds: Option<u32>,
        /// Bring it back now instead.
        #[arg(long)]
        back: bool,
    },
    /// The team's figures from the mirror (after a sync): first response (calendar and
    /// business time, median and p90 beside the mean), SLA attainment, one-touch share.
    Report {
        /// First day (YYYY-MM-DD, UTC) of conversations opened, with --by.
        #[arg(long, requires = "by")]
        from: Option<String>,
        /// Last day (YYYY-MM-DD, UTC), included, with --by.
        #[arg(long, requires = "by")]
        to: Option<String>,
        /// One report per day, ISO week, month, queue or owning advisor (of the
        /// conversations opened in the days asked for).
        #[arg(long, value_enum)]
        by: Option<ByArg>,
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// With --by: CSV for a spreadsheet (UTF-8 with a byte-order mark; no formulas).
        #[arg(long, requires = "by")]
        csv: bool,
        /// With --by: only conversations with this tag (with --by queue: per email type).
        #[arg(long, requires = "by")]
        tag: Option<String>,
    },
    /// Tag conversation KEY (a customer's address or a conversation key), or take the tag
    /// off with --remove: the team's event log carries it; with its queue, the email type
    /// that scorecards and `report --tag` use.
    Tag {
        key: String,
        tag: String,
        #[arg(long)]
        remove: bool,
    },
    /// Who did what, per day and advisor, from the team's event log in the mailbox
    /// (Blendesk/Events): claims, replies, resolves, releases, hand-backs, transfers,
    /// calls. Appends this app's waiting events first.
    Activity {
        /// First day (YYYY-MM-DD, UTC); default: 28 days before --to.
        #[arg(long)]
        from: Option<String>,
        /// Last day (YYYY-MM-DD, UTC), included; default: today.
        #[arg(long)]
        to: Option<String>,
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// CSV for a spreadsheet (UTF-8 with a byte-order mark; no cell is a formula).
        #[arg(long)]
        csv: bool,
    },
    /// Customer satisfaction: the surveys sent after resolution (policy `csat`) in the
    /// days asked for and the answers filed in Blendesk/Surveys: score, response rate
    /// and customer-reported resolution, for the team, per advisor and per queue.
    Csat {
        /// First day (YYYY-MM-DD, UTC) of surveys sent; default: 28 days before --to.
        #[arg(long)]
        from: Option<String>,
        /// Last day (YYYY-MM-DD, UTC), included; default: today.
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Quality reviews: scorecards and reviews in the mailbox (Blendesk/Scorecards,
    /// Blendesk/Reviews). Supervisors publish and review; an advisor sees their own.
    Quality {
        #[command(subcommand)]
        action: QualityAction,
    },
    /// OAuth2 accounts: sign in in a browser (prints the address to open; the redirect
    /// comes back to this machine's loopback), keep the refresh token in the OS keyring
    /// and try the IMAP login with it. The token is never printed.
    SignIn,
    /// Simulate a day of the team under a policy, beside the ways teams work without
    /// blending; prints the outcome table. Needs no mailbox.
    Simulate {
        /// A scenario file (JSON): the standard day with the settings it names replaced.
        scenario: Option<PathBuf>,
        /// The built-in standard day (8 advisors, 2 queues, 2 languages, 1,200 emails and
        /// 900 calls in 9 hours): what runs without a SCENARIO.
        #[arg(long, conflicts_with = "scenario")]
        standard: bool,
        /// A policy document (JSON, as `policy publish` takes) instead of the scenario's.
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum CallArg {
    Start,
    End,
    /// The customer is put on hold (talk time stops, hold time runs).
    Hold,
    Resume,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ByArg {
    Day,
    Week,
    Month,
    Queue,
    Advisor,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DirectionArg {
    Inbound,
    Outbound,
}

#[derive(Subcommand)]
enum CoordinationAction {
    /// Copy the mailbox's owners, releases, marks and policy into the team database
    /// named by this config's [coordination] section (a supervisor runs it once;
    /// running it again changes nothing).
    Migrate {
        #[arg(long)]
        json: bool,
    },
    /// The administrator: create or upgrade the team database's schema (logged in as
    /// --admin-user, password from BLENDESK_PG_ADMIN_PASSWORD).
    Init {
        #[arg(long)]
        admin_user: String,
    },
    /// The administrator: register advisor ID under login role --login (its password
    /// from BLENDESK_PG_NEW_PASSWORD); --supervisor may publish the policy.
    AddAdvisor {
        id: String,
        #[arg(long)]
        login: String,
        #[arg(long)]
        supervisor: bool,
        #[arg(long)]
        admin_user: String,
    },
}

#[derive(Subcommand)]
enum PolicyAction {
    /// Print the policy in force (defaults when none is published).
    Show,
    /// Publish a policy document (JSON) for the whole team.
    Publish { file: PathBuf },
}

#[derive(Subcommand)]
enum OutboxAction {
    /// Send everything due, waiting for retries up to --max-wait seconds.
    Flush {
        #[arg(long, default_value_t = 300)]
        max_wait: u64,
        #[arg(long)]
        json: bool,
    },
    /// List recent outbox items with their state and last error.
    List {
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("BLENDESK_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("blendesk: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = exit_code(&e);
            // One line: the chain of causes joined.
            let msg = format!("{e:#}").replace('\n', " ");
            eprintln!("blendesk: {msg}");
            ExitCode::from(code)
        }
    }
}

/// The exit code of the error's `ErrorCode` (one table for the CLI and the window).
fn exit_code(e: &anyhow::Error) -> u8 {
    e.downcast_ref::<EngineError>().map(|e| e.code().exit_code()).unwrap_or(1)
}

async fn open(config_path: Option<PathBuf>) -> Result<Arc<Engine>> {
    let path = config_path.unwrap_or_else(config::default_path);
    let config = Config::load(&path).map_err(EngineError::from)?;
    Ok(Engine::open(config).await?)
}

async fn run(cli: Cli) -> Result<()> {
    if let Command::Call { event, id, number, direction } = cli.command {
        let event = match event {
            CallArg::Start => blendesk_control::CallEvent::Start,
            CallArg::End => blendesk_control::CallEvent::End,
            CallArg::Hold => blendesk_control::CallEvent::Hold,
            CallArg::Resume => blendesk_control::CallEvent::Resume,
        };
        let direction = direction.map(|d| match d {
            DirectionArg::Inbound => blendesk_control::Direction::Inbound,
            DirectionArg::Outbound => blendesk_control::Direction::Outbound,
        });
        let request = blendesk_control::CallRequest { call: event, id, number, direction }.checked().map_err(|e| anyhow::anyhow!(e))?;
        return call(cli.config, request).await;
    }
    if let Command::Simulate { scenario, policy, seed, json, .. } = &cli.command {
        return simulate::run(scenario.as_deref(), policy.as_deref(), *seed, *json);
    }
    // The administrator's commands shape the database only: no engine, no mailbox.
    if let Command::Coordination { action: action @ (CoordinationAction::Init { .. } | CoordinationAction::AddAdvisor { .. }) } =
        &cli.command
    {
        let path = cli.config.clone().unwrap_or_else(config::default_path);
        let config = Config::load(&path).map_err(EngineError::from)?;
        return match action {
            CoordinationAction::Init { admin_user } => coordination::init(&config, admin_user).await,
            CoordinationAction::AddAdvisor { id, login, supervisor, admin_user } => {
                coordination::add_advisor(&config, admin_user, id, login, *supervisor).await
            }
            CoordinationAction::Migrate { .. } => unreachable!("matched above"),
        };
    }
    if let Command::SignIn = cli.command {
        // Before `open`: there is no token to open the engine with yet.
        return sign_in::run(&cli.config.unwrap_or_else(config::default_path)).await;
    }
    let engine = open(cli.config).await?;
    match cli.command {
        Command::Call { .. } | Command::Simulate { .. } | Command::SignIn => unreachable!("handled above"),
        Command::Coordination { action: CoordinationAction::Init { .. } | CoordinationAction::AddAdvisor { .. } } => {
            unreachable!("handled above")
        }
        Command::Run { headless, no_claims } => {
            if !headless {
                anyhow::bail!("`blendesk run` needs --headless; the window is `blendesk-desktop`");
            }
            run_headless(engine, !no_claims).await?;
        }
        Command::Knowledge { action } => docs::knowledge(engine, action).await?,
        Command::Template { action } => docs::template(engine, action).await?,
        Command::History { address, json } => {
            engine.sync_once().await?;
            docs::history(&engine, &address, json)?;
        }
        Command::Customer { action } => docs::customer(&engine, action).await?,
        Command::Report { from, to, by: Some(by), json, csv, tag } => {
            use blendesk_domain::metrics::Period;
            engine.sync_once().await?;
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64;
            let (since, until) = day_range(from.as_deref(), to.as_deref(), None, now)?;
            let period = match by {
                ByArg::Day => Period::Day,
                ByArg::Week => Period::Week,
                ByArg::Month => Period::Month,
                ByArg::Queue => Period::Queue,
                ByArg::Advisor => Period::Advisor,
            };
            if tag.is_some() {
                // Tags come from the team's event log.
                engine.sync_activity().await?;
            }
            let groups = engine.team_report_by(now, since, until, period, tag.as_deref())?;
            if json {
                let rows: Vec<_> = groups.iter().map(|(g, r)| serde_json::json!({ "group": g, "report": r })).collect();
                println!("{}", serde_json::to_string(&rows)?);
            } else if csv {
                print!("{}", report_csv(&groups));
            } else {
                for (group, r) in &groups {
                    println!("== {group}");
                    print_report(r);
                }
            }
        }
        Command::Tag { key, tag, remove } => {
            engine.sync_once().await?;
            engine.sync_activity().await?;
            let tags = engine.tag_conversation(&key, &tag, !remove)?;
            // Appended now, so the team sees it without this command's app running.
            engine.sync_activity().await?;
            println!("{}", if tags.is_empty() { "(no tags)".to_owned() } else { tags.join(" ") });
        }
        Command::Report { json, .. } => {
            engine.sync_once().await?;
            // Calls and phone links come from the team's event log.
            engine.sync_activity().await?;
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64;
            let report = engine.team_report(now)?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print_report(&report);
            }
        }
        Command::Quality { action } => match action {
            QualityAction::Scorecard { file } => {
                let card = engine.publish_scorecard(&read_document(&file)?).await?;
                println!("published scorecard {:?} version {}", card.name, card.version);
            }
            QualityAction::Review { file } => {
                let review = blendesk_domain::quality::Review::parse(read_document(&file)?.as_bytes())?;
                let scored = engine.submit_review(review).await?;
                match scored.score_pct {
                    Some(p) if !scored.critical_failed.is_empty() => {
                        println!("review written: {p:.0} % (critical: {})", scored.critical_failed.join(", "))
                    }
                    Some(p) => println!("review written: {p:.1} %"),
                    None => println!("review written: every category N/A"),
                }
            }
            QualityAction::Show { json } => {
                engine.load_policy().await?;
                engine.refresh_quality_docs().await?;
                let view = engine.quality()?;
                if json {
                    println!("{}", serde_json::to_string(&view)?);
                } else {
                    for (advisor, score) in &view.scores {
                        println!("{advisor}: {}", score.map_or("–".to_owned(), |s| format!("{s:.1} %")));
                    }
                    for r in &view.reviews {
                        let score = r.score.score_pct.map_or("N/A".to_owned(), |s| format!("{s:.0} %"));
                        let kind = if r.review.calibration { " (calibration)" } else { "" };
                        println!("  {} by {}: {} {score}{kind}", r.review.advisor, r.review.reviewer, r.review.conversation);
                    }
                    for (conversation, c) in &view.calibrations {
                        println!("calibration {conversation}: {} reviewers, {:.0} points apart", c.reviewers.len(), c.score_spread);
                    }
                }
            }
            QualityAction::Sample { per_advisor } => {
                engine.sync_once().await?;
                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64;
                for (advisor, conversation) in engine.review_sample(per_advisor, now)? {
                    println!("{advisor}\t{conversation}");
                }
            }
        },
        Command::Csat { from, to, json } => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64;
            let (since, until) = day_range(from.as_deref(), to.as_deref(), Some(28), now)?;
            engine.sync_once().await?;
            let report = engine.csat_report(since, until).await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                print_csat("team", &report.team);
                for (who, f) in &report.by_advisor {
                    print_csat(if who.is_empty() { "(no owner)" } else { who }, f);
                }
                for (queue, f) in &report.by_queue {
                    print_csat(&format!("queue {queue}"), f);
                }
            }
        }
        Command::Activity { from, to, json, csv } => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis() as i64;
            let (since, until) = day_range(from.as_deref(), to.as_deref(), Some(28), now)?;
            let (appended, read) = engine.sync_activity().await?;
            let rows = engine.activity_daily(since, until)?;
            if json {
                println!("{}", serde_json::to_string(&rows)?);
            } else if csv {
                use blendesk_domain::csv::{row, BOM};
                let mut out = String::from(BOM);
                out.push_str(&row(&[
                    "day",
                    "advisor",
                    "claimed",
                    "replied",
                    "resolved",
                    "released",
                    "handed_back",
                    "transferred",
                    "calls",
                    "talk_seconds",
                ]));
                for r in &rows {
                    let f = &r.figures;
                    let n = |v: u32| v.to_string();
                    out.push_str(&row(&[
                        r.day.clone(),
                        r.advisor.clone(),
                        n(f.claimed),
                        n(f.replied),
                        n(f.resolved),
                        n(f.released),
                        n(f.handed_back),
                        n(f.transferred),
                        n(f.calls),
                        (f.talk_ms / 1000).to_string(),
                    ]));
                }
                print!("{out}");
            } else {
                eprintln!("{appended} events of yours appended, {read} new from the team");
                println!(
                    "{:<10}  {:<16} {:>7} {:>7} {:>8} {:>8} {:>11} {:>11} {:>5}",
                    "day", "advisor", "claimed", "replied", "resolved", "released", "handed back", "transferred", "calls"
                );
                for r in rows {
                    let f = &r.figures;
                    println!(
                        "{:<10}  {:<16} {:>7} {:>7} {:>8} {:>8} {:>11} {:>11} {:>5}",
                        r.day, r.advisor, f.claimed, f.replied, f.resolved, f.released, f.handed_back, f.transferred, f.calls
                    );
                }
            }
        }
        Command::Transfer { customer, to } => {
            let to = blendesk_domain::advisor::AdvisorId::parse(&to).map_err(|e| anyhow::anyhow!("--to {to}: {e}"))?;
            engine.sync_once().await?;
            let done = engine.transfer(&customer, &to).await?;
            println!("{} moved to {to}, {} moved by someone else first", done.moved, done.lost);
        }
        Command::Merge { key, into } => {
            engine.sync_once().await?;
            let done = engine.merge_conversations(&key, &into).await?;
            println!("{} emails now in conversation {}, {} moved by someone else first", done.changed, done.keys.join(" "), done.lost);
        }
        Command::Split { emails } => {
            engine.sync_once().await?;
            let ids = emails.iter().map(|e| engine.find_queue_email(e)).collect::<std::result::Result<Vec<_>, _>>()?;
            let done = engine.split_conversation(&ids).await?;
            let [rest, off] = [0, 1].map(|i| done.keys.get(i).cloned().unwrap_or_default());
            println!(
                "split off into conversation {off}; the rest is {rest} ({} emails marked, {} moved by someone else first)",
                done.changed, done.lost
            );
        }
        Command::Release { customer } => {
            engine.sync_once().await?;
            let done = engine.release(&customer).await?;
            println!("{} released, {} moved by someone else first", done.moved, done.lost);
        }
        Command::Park { customer: None, .. } => {
            for (customer, at) in engine.parked()? {
                println!("{customer}\t{at}");
            }
        }
        Command::Park { customer: Some(c), back: true, .. } => engine.unpark(&c)?,
        Command::Park { customer: Some(c), minutes, seconds, .. } => {
            // The park limit and return time are the team policy's.
            engine.load_policy().await?;
            let at = engine.park(&c, seconds.or(minutes.map(|m| m.saturating_mul(60))))?;
            println!("parked until {at}");
        }
        Command::Policy { action: PolicyAction::Show } => {
            let policy = engine.load_policy().await?;
            println!("{}", policy.to_json().map_err(|e| anyhow::anyhow!("{e}"))?);
        }
        Command::Coordination { action: CoordinationAction::Migrate { json } } => {
            let report = engine.migrate_to_database().await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!(
                    "{} emails read: {} owners imported ({} already there), {} releases, {} marks{}",
                    report.emails,
                    report.owners_imported,
                    report.owners_unchanged,
                    report.releases_imported,
                    report.marks_imported,
                    report.policy_version.map(|v| format!(", policy published as version {v}")).unwrap_or_default()
                );
                for (key, db, mailbox) in &report.conflicts {
                    println!("conflict: {key} is {db}'s in the database, {mailbox}'s in the mailbox (the database's owner stays)");
                }
            }
        }
        Command::Policy { action: PolicyAction::Publish { file } } => {
            let bytes = std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let policy = blendesk_domain::blending::Policy::parse(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            engine.publish_policy(&policy).await?;
            println!("published");
        }
        Command::Sync { json } => {
            let report = engine.sync_once().await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                for f in &report.folders {
                    println!("{:<20} {:>7} messages ({} new)", f.folder, f.messages, f.new);
                }
                println!("{:<20} {:>7} messages ({} new)", "total", report.messages, report.new);
            }
        }
        Command::Status { json } => {
            let status = engine.status()?;
            if json {
                println!("{}", serde_json::to_string(&status)?);
            } else {
                println!("advisor       {}", status.advisor);
                for f in &status.folders {
                    println!("folder        {:<20} {:>7} messages  uidvalidity {}", f.name, f.messages, f.uidvalidity);
                }
                println!("messages      {}", status.messages);
                println!("last sync     {}", status.last_sync_at.map(format_ms).unwrap_or_else(|| "never".into()));
                println!(
                    "capabilities  {}",
                    if status.capabilities.is_empty() { "(not connected yet)".into() } else { status.capabilities.join(" ") }
                );
                let outbox: Vec<String> = status.outbox.iter().map(|(k, v)| format!("{k} {v}")).collect();
                println!("outbox        {}", outbox.join(", "));
                let c = &status.connections_per_app;
                println!(
                    "connections   {} per app in team mode ({} IDLE, one per queue; {} for claims and for presence, duties and Sent)",
                    c.total, c.watch, c.team
                );
            }
        }
        Command::Watch => {
            let mut events = engine.subscribe();
            let printer = tokio::spawn(async move {
                while let Ok(e) = events.recv().await {
                    if let Ok(line) = serde_json::to_string(&e) {
                        println!("{line}");
                    }
                }
            });
            let watcher = engine.clone();
            let sender = engine.clone();
            let stopper = engine.clone();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                stopper.shutdown();
            });
            tokio::join!(watcher.watch(), sender.run_outbox());
            printer.abort();
        }
        Command::Reply { message, body } => {
            let id = engine.queue_reply(message, &body)?;
            println!("{id}");
        }
        Command::Outbox { action: OutboxAction::Flush { max_wait, json } } => {
            let report = engine.flush_outbox(Duration::from_secs(max_wait)).await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!(
                    "attempted {}, sent {}, retrying {}, failed {}, filed in Sent {}",
                    report.attempted, report.sent, report.retrying, report.failed, report.filed_in_sent
                );
            }
        }
        Command::Outbox { action: OutboxAction::List { json } } => {
            let items = engine.store().outbox_list(100)?;
            if json {
                println!("{}", serde_json::to_string(&items)?);
            } else {
                for i in items {
                    println!(
                        "{:>5} {:<8} attempts {:>2}  <{}>  {}",
                        i.id,
                        i.state.as_str(),
                        i.attempts,
                        i.message_id,
                        i.last_error.unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(())
}

/// The headless engine: the runtime's tasks (the same list as the desktop's), without a
/// window; events as JSON lines on stdout, the last one how it stopped.
async fn run_headless(engine: Arc<Engine>, claims: bool) -> Result<()> {
    use blendesk_domain::blending::{AdvisorEvent, ManualState};
    use blendesk_engine::runtime::{Mode, OnTeamFailure, Runtime};
    let mut events = engine.subscribe();
    let printer = tokio::spawn(async move {
        while let Ok(e) = events.recv().await {
            print_json_line(&e);
        }
    });
    let mode = if claims { Mode::Team } else { Mode::Solo };
    // Heard from the first moment: a stop asked while the app is still connecting (a
    // slow server, a loaded machine) is a clean stop, not death by the signal.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    // From here a SIGTERM is a clean stop (a supervisor or test waits for this line).
    print_json_line(&serde_json::json!({ "type": "starting" }));
    let started = tokio::select! {
        r = Runtime::start(engine.clone(), mode, OnTeamFailure::Stop) => r,
        () = stop_requested(&mut term) => {
            engine.shutdown();
            printer.abort();
            let open = engine.imap_connections();
            print_json_line(&serde_json::json!({ "type": "runtime_stopped", "finished": 0, "aborted": 0, "open_connections": open }));
            return Ok(());
        }
    };
    let runtime = match started {
        Ok(r) => r,
        // Team mode needs the compare-and-swap: say so at once rather than run half a team.
        Err(e) if claims => return Err(anyhow::Error::new(e).context("team mode cannot start; run with --no-claims for solo mode")),
        Err(e) => return Err(e.into()),
    };
    engine.presence_event(AdvisorEvent::Set(ManualState::Available));
    tokio::select! {
        () = stop_requested(&mut term) => {}
        _ = runtime.stopping() => {}
    }
    let team_error = runtime.team_error();
    let stopped = runtime.shutdown(SHUTDOWN_GRACE).await;
    printer.abort();
    print_json_line(
        &serde_json::json!({ "type": "runtime_stopped", "finished": stopped.finished, "aborted": stopped.aborted, "open_connections": stopped.open_connections }),
    );
    if let Some(e) = team_error {
        anyhow::bail!("team mode stopped: {e}");
    }
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn stop_requested(term: &mut tokio::signal::unix::Signal) {
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// How long the runtime's tasks get to log out and finish when asked to stop.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

fn print_json_line(value: &impl serde::Serialize) {
    use std::io::Write;
    if let Ok(line) = serde_json::to_string(value) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

async fn call(config: Option<PathBuf>, request: blendesk_control::CallRequest) -> Result<()> {
    let path = config.unwrap_or_else(config::default_path);
    let config = Config::load(&path).map_err(EngineError::from)?;
    let socket = blendesk_control::socket_path(config.advisor.id.as_str())?;
    let state = blendesk_control::send_call(&socket, &request).await?;
    println!("{state}");
    Ok(())
}

/// `--from`/`--to` (YYYY-MM-DD, UTC, both days included) as `[since, until)` in unix
/// ms: `--to` defaults to today, `--from` to `default_days` before it (else the start
/// of time).
fn day_range(from: Option<&str>, to: Option<&str>, default_days: Option<i64>, now_ms: i64) -> Result<(i64, i64)> {
    const DAY_MS: i64 = 86_400_000;
    let day_end = |d: &str| blendesk_domain::metrics::day_end_ms(d).map_err(|e| anyhow::anyhow!(e));
    let until = match to {
        Some(d) => day_end(d)?,
        None => now_ms - now_ms.rem_euclid(DAY_MS) + DAY_MS,
    };
    let since = match (from, default_days) {
        (Some(d), _) => day_end(d)? - DAY_MS,
        (None, Some(days)) => until - days * DAY_MS,
        (None, None) => i64::MIN,
    };
    if since >= until {
        anyhow::bail!("--from is after --to");
    }
    Ok((since, until))
}

/// Grouped reports as CSV: one row per group, each figure a column.
fn report_csv(groups: &[(String, blendesk_domain::metrics::Report)]) -> String {
    use blendesk_domain::csv::{row, BOM};
    let mut out = String::from(BOM);
    out.push_str(&row(&[
        "group",
        "conversations",
        "first_response_minutes_mean",
        "first_response_minutes_median",
        "first_response_minutes_p90",
        "first_response_business_minutes_mean",
        "first_response_business_minutes_median",
        "first_response_business_minutes_p90",
        "sla_attainment_pct",
        "one_touch_pct",
        "reopened",
        "first_response_under_1h",
        "first_response_1h_4h",
        "first_response_4h_8h",
        "first_response_8h_24h",
        "first_response_24h_plus",
    ]));
    let summary = |s: &Option<blendesk_domain::metrics::Summary>| match s {
        Some(s) => [format!("{:.1}", s.mean), s.median.to_string(), s.p90.to_string()],
        None => [String::new(), String::new(), String::new()],
    };
    let pct = |p: Option<f64>| p.map(|p| format!("{p:.1}")).unwrap_or_default();
    for (group, r) in groups {
        let mut cells = vec![group.clone(), r.conversations.to_string()];
        cells.extend(summary(&r.first_response_minutes));
        cells.extend(summary(&r.first_response_business_minutes));
        cells.extend([pct(r.sla_attainment_pct), pct(r.one_touch_pct), r.reopened.to_string()]);
        cells.extend(r.first_response_buckets.iter().map(|n| n.to_string()));
        out.push_str(&row(&cells));
    }
    out
}

/// A document file for publishing: read whole, at most 1 MB.
fn read_document(path: &std::path::Path) -> Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if meta.len() > 1024 * 1024 {
        anyhow::bail!("{} is {} bytes: too large for a document", path.display(), meta.len());
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {} as UTF-8 text", path.display()))
}

fn print_csat(who: &str, f: &blendesk_domain::automation::survey::CsatFigures) {
    let pct = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{v:.0} %"));
    let score = f.score.map_or("–".to_owned(), |v| format!("{v:.2}"));
    println!(
        "{who}: {} surveys, {} answered ({}), score {score} / 5, satisfied {}, resolved (customer says) {}",
        f.surveys,
        f.answered,
        pct(f.response_rate_pct),
        pct(f.satisfied_pct),
        pct(f.customer_fcr_pct)
    );
}

fn print_report(r: &blendesk_domain::metrics::Report) {
    let summary = |s: Option<blendesk_domain::metrics::Summary>| {
        s.map(|s| format!("mean {:.0} min, median {} min, p90 {} min ({} answered)", s.mean, s.median, s.p90, s.count))
            .unwrap_or_else(|| "none yet".into())
    };
    let pct = |p: Option<f64>| p.map(|p| format!("{p:.1} %")).unwrap_or_else(|| "—".into());
    println!("conversations          {}", r.conversations);
    println!("first response         {}", summary(r.first_response_minutes));
    println!("  in business time     {}", summary(r.first_response_business_minutes));
    println!("SLA attainment (first) {}", pct(r.sla_attainment_pct));
    println!("one-touch resolution   {}", pct(r.one_touch_pct));
    println!("reopened               {}", r.reopened);
    let b = r.first_response_buckets;
    println!("first responses        {} under 1 h, {} 1–4 h, {} 4–8 h, {} 8–24 h, {} 24 h+", b[0], b[1], b[2], b[3], b[4]);
    println!("first-contact resolved {} ({} contacts known, email and calls)", pct(r.fcr_pct), r.fcr_contacts);
}

fn format_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}
