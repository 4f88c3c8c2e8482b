//! The supervisor's analytics page and the advisor's "My week" in the real window.
//!
//! A month of mail is seeded into the shared mailbox with chosen INTERNALDATEs
//! (customer mail in INBOX, our replies in Sent threaded by In-Reply-To), then the
//! supervisor's window shows its charts and table, a bar and a table cell open exactly
//! the conversations behind them, and the CSV files written from the window hold the
//! rows on screen — in English and in Chinese. An advisor's "My week" shows her own
//! figures and the team's median, and never a colleague's name.

use blendesk_e2e::mail::{customer_email, imap_append, smtp_send};
use blendesk_e2e::webdriver::{KEY_ALT, KEY_ENTER};
use blendesk_e2e::{stack_env, unique, wait_for, App, Headless, Launch, Mailboxes, Team};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;

fn launch(mail: &Mailboxes, advisor: &str, policy: serde_json::Value) -> App {
    let app = App::launch_as(
        Launch { mail, lang: "en_US.UTF-8", wrap_up_seconds: 3, queues: &["INBOX"], setup: false, env: &[] },
        Team { advisor: Some(advisor), policy: Some(policy) },
    );
    app.wait_ready();
    app
}

/// One seeded conversation: its subject, when the customer wrote (November 2026, UTC
/// `DD HH:MM`) and when we replied.
struct Seeded {
    subject: String,
    at: (u32, u32, u32),
    reply: Option<(u32, u32, u32)>,
}

fn imap_date((d, h, m): (u32, u32, u32)) -> String {
    format!("{d:02}-Nov-2026 {h:02}:{m:02}:00 +0000")
}

/// A month: 3 conversations on the 3rd (30 min, 2 h, unanswered), 2 on the 10th (6 h;
/// a Chinese one, 20 min), 1 on the 20th (26 h).
fn seed(mail: &Mailboxes) -> Vec<Seeded> {
    let (imap, _) = stack_env();
    let tag = unique("m");
    let convs = vec![
        Seeded { subject: format!("Order late {tag} A"), at: (3, 9, 0), reply: Some((3, 9, 30)) },
        Seeded { subject: format!("Refund {tag} B"), at: (3, 10, 0), reply: Some((3, 12, 0)) },
        Seeded { subject: format!("Broken lid {tag} C"), at: (3, 11, 0), reply: None },
        Seeded { subject: format!("Invoice {tag} D"), at: (10, 9, 0), reply: Some((10, 15, 0)) },
        Seeded { subject: format!("退款问题 {tag} E"), at: (10, 14, 0), reply: Some((10, 14, 20)) },
        Seeded { subject: format!("Address change {tag} F"), at: (20, 8, 0), reply: Some((21, 10, 0)) },
    ];
    for (i, c) in convs.iter().enumerate() {
        let from = format!("{}@example.com", unique(&format!("t_cust{i}")));
        let id = format!("{}@example.com", unique("seed"));
        let msg = customer_email(&from, &mail.desk_address(), &c.subject, "Hello, a question.", &id);
        imap_append(imap, &mail.desk, "test", "INBOX", &msg, &imap_date(c.at)).expect("APPEND customer mail");
        if let Some(at) = c.reply {
            let reply = format!(
                "From: Shop Support <{desk}>\r\nTo: {from}\r\nSubject: Re: {subject}\r\nMessage-ID: <{rid}@shop.test>\r\n\
                 In-Reply-To: <{id}>\r\nReferences: <{id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThank you, done.\r\n",
                desk = mail.desk_address(),
                subject = c.subject,
                rid = unique("reply"),
            );
            imap_append(imap, &mail.desk, "test", "Sent", &reply, &imap_date(at)).expect("APPEND reply");
        }
    }
    convs
}

fn set_date(app: &App, testid: &str, value: &str) {
    // A date input takes its value as the date picker would set it.
    app.session
        .execute(
            "const el = document.querySelector(arguments[0]); el.value = arguments[1];
             el.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![json!(format!("[data-testid={testid}]")), json!(value)],
        )
        .unwrap();
}

/// The table's rows as on screen: each row's cells (the period's name, then every figure).
fn table_rows(app: &App) -> Vec<Vec<String>> {
    let v = app
        .session
        .execute(
            "return [...document.querySelectorAll('[data-testid=an-table] tr[data-testid=an-row], [data-testid=an-table] tfoot tr')]
               .map((tr) => [...tr.querySelectorAll('th, td')].map((c) => c.innerText.trim()));",
            vec![],
        )
        .unwrap();
    serde_json::from_value(v).unwrap_or_default()
}

fn drill_subjects(app: &App) -> BTreeSet<String> {
    app.session.find_all("[data-testid=an-drill-subject]").unwrap().iter().map(|e| e.text().unwrap()).collect()
}

fn wait_drill(app: &App, expected: &BTreeSet<String>) {
    wait_for("the drill-down's conversations", Duration::from_secs(10), || (drill_subjects(app) == *expected).then_some(()));
}

/// The CSV lines (BOM gone), split into cells (no cell of this test holds a comma).
fn read_csv(path: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(text.starts_with('\u{feff}'), "UTF-8 with a byte-order mark");
    text.trim_start_matches('\u{feff}').lines().map(|l| l.split(',').map(str::to_owned).collect()).collect()
}

fn export(app: &App, button: &str, previous: Option<&str>) -> String {
    app.session.find(&format!("[data-testid={button}]")).unwrap().click().unwrap();
    wait_for("the path written", Duration::from_secs(10), || {
        let p = app.session.find("[data-testid=an-exported]").ok()?.attr("data-path").ok()??;
        (Some(p.as_str()) != previous && std::path::Path::new(&p).exists()).then_some(p)
    })
}

#[test]
fn supervisor_analytics_charts_a_month_drills_down_and_exports_what_is_on_screen() {
    let mail = Mailboxes::new();
    let seeded = seed(&mail);
    let subjects = |idx: &[usize]| idx.iter().map(|i| seeded[*i].subject.clone()).collect::<BTreeSet<_>>();
    let policy = json!({"version": 1, "wrap_up_seconds": 3, "supervisors": ["sam"], "advisors": {"sam": {"cap": 0}}});
    let app = launch(&mail, "sam", policy);
    // Exports go to the user's Downloads folder (the XDG user-dirs setting).
    let downloads = app.dir.join("downloads");
    std::fs::write(app.dir.join("config/user-dirs.dirs"), format!("XDG_DOWNLOAD_DIR=\"{}\"\n", downloads.display())).unwrap();

    wait_for("the supervisor tab", Duration::from_secs(10), || app.session.find("[data-testid=supervisor-tab]").ok());
    app.session.key_chord(KEY_ALT, "v").unwrap();
    wait_for("the analytics page", Duration::from_secs(10), || app.session.find("[data-testid=an-table]").ok());
    set_date(&app, "an-from", "2026-11-01");
    set_date(&app, "an-to", "2026-11-30");
    // The six conversations, once the mirror has them: a line per day with mail.
    wait_for("the month's table", Duration::from_secs(30), || {
        let rows = table_rows(&app);
        (rows.len() == 4 && rows[3].get(1).map(String::as_str) == Some("6")).then_some(())
    });
    let rows = table_rows(&app);
    let periods: Vec<&str> = rows[..3].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(periods, ["2026-11-03", "2026-11-10", "2026-11-20"]);
    // The 3rd: three conversations, two answered (30 min and 2 h: median 30, p90 120).
    assert_eq!(&rows[0][1..5], ["3", "2", "30", "120"], "{rows:?}");
    // Buckets over the month: 0–1 h ×2 (30 min, 20 min), 1–4 h, 4–8 h, 24 h+.
    assert_eq!(&rows[3][9..14], ["2", "1", "1", "0", "1"], "{rows:?}");

    // Charts: a bar per day, five buckets with the same counts as the table.
    assert_eq!(app.session.find_all("[data-testid=an-series-bar]").unwrap().len(), 3);
    let bucket_values: Vec<String> = app
        .session
        .find_all("[data-testid=an-bucket-bar]")
        .unwrap()
        .iter()
        .map(|b| b.attr("data-value").unwrap().unwrap_or_default())
        .collect();
    assert_eq!(bucket_values, ["2", "1", "1", "0", "1"]);
    assert!(app.session.find("[data-testid=an-median-line]").is_ok(), "median first response drawn");
    app.screenshot("70-analytics-en");

    // Drill-down from a bar: the 0–1 h bucket is A and E, nothing else.
    app.session.find("[data-testid=an-bucket-bar][data-bucket='0']").unwrap().click().unwrap();
    wait_drill(&app, &subjects(&[0, 4]));
    // From a table cell: the 3rd's conversations are A, B and C (C unanswered).
    app.session.find("[data-testid=an-row][data-period='2026-11-03'] [data-testid=an-cell-conversations]").unwrap().click().unwrap();
    wait_drill(&app, &subjects(&[0, 1, 2]));
    let drill_text = app.session.find("[data-testid=an-drill]").unwrap().text().unwrap();
    assert!(drill_text.contains("2026-11-03 09:00") && drill_text.contains("2026-11-03 09:30 (30 min)"), "{drill_text}");
    app.screenshot("71-analytics-drill-en");

    // CSV of the table: the rows on screen, figure by figure.
    let table_path = export(&app, "an-export-table", None);
    assert!(table_path.starts_with(&downloads.display().to_string()), "{table_path}");
    let csv = read_csv(&table_path);
    assert_eq!(csv[0][0], "period");
    assert_eq!(csv.len(), 1 + rows.len(), "{csv:?}");
    for (line, screen) in csv[1..].iter().zip(&rows) {
        assert_eq!(line.len(), screen.len(), "{line:?} vs {screen:?}");
        // The total's name is written in the reader's language on screen.
        let from = if line[0] == "total" { 1 } else { 0 };
        assert_eq!(&line[from..], &screen[from..], "CSV line vs screen");
    }
    // CSV of the list behind the cell: the same three conversations, with their times.
    let list_path = export(&app, "an-export-list", Some(&table_path));
    let list = read_csv(&list_path);
    assert_eq!(list[0][..2], ["opened_utc", "subject"]);
    let listed: BTreeSet<String> = list[1..].iter().map(|l| l[1].clone()).collect();
    assert_eq!(listed, subjects(&[0, 1, 2]));
    let a = list.iter().find(|l| l[1] == seeded[0].subject).unwrap();
    assert_eq!((a[0].as_str(), a[6].as_str(), a[7].as_str()), ("2026-11-03 09:00", "2026-11-03 09:30", "30"));

    // Filters: Chinese mail only, then per week.
    app.session.find("[data-testid=an-language] option[value=zh]").unwrap().click().unwrap();
    wait_for("the Chinese conversation alone", Duration::from_secs(10), || {
        let rows = table_rows(&app);
        (rows.len() == 2 && rows[0][0] == "2026-11-10" && rows[1][1] == "1").then_some(())
    });
    app.session.find("[data-testid=an-language] option[value='']").unwrap().click().unwrap();
    app.session.find("[data-testid=an-by] option[value=week]").unwrap().click().unwrap();
    wait_for("weeks", Duration::from_secs(10), || {
        let rows = table_rows(&app);
        let periods: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
        (periods.len() == 4 && periods[..3] == ["2026-W45", "2026-W46", "2026-W47"]).then_some(())
    });

    // Chinese: the same page, translated; keyboard: a focused bar opens its list with Enter.
    app.session.find("[data-testid=lang-toggle]").unwrap().click().unwrap();
    wait_for("Chinese labels", Duration::from_secs(5), || app.session.find("#an-title").ok()?.text().ok().filter(|t| t == "数据分析"));
    let header = app.session.find("[data-testid=an-table] thead").unwrap().text().unwrap();
    assert!(header.contains("0–1 小时") && header.contains("首次回复中位数"), "{header}");
    app.session.execute("document.querySelector(\"[data-testid=an-series-bar][data-period='2026-W46']\").focus();", vec![]).unwrap();
    app.session.press(KEY_ENTER).unwrap();
    wait_drill(&app, &subjects(&[3, 4]));
    let title = app.session.find("#an-drill-title").unwrap().text().unwrap();
    assert!(title.starts_with("会话"), "{title}");
    app.screenshot("72-analytics-zh");
    for p in [table_path, list_path] {
        std::fs::remove_file(p).ok();
    }
}

/// "My week": Amy's own figures beside the team's median, and no colleague named —
/// while the supervisor's analytics page (Forbidden to her) stays closed.
#[test]
fn my_week_shows_her_own_figures_and_no_colleague() {
    let mail = Mailboxes::new();
    let policy = json!({"version": 1, "wrap_up_seconds": 3, "advisors": {"amy": {"cap": 1}, "ann": {"cap": 3}}});
    let app = launch(&mail, "amy", policy);
    let ann = Headless::start(&mail, "ann", "Ann Advisor", &["INBOX"]);
    let (_, smtp) = stack_env();
    for _ in 0..4 {
        let token = unique("w-");
        let from = format!("{}@example.com", unique("t_cust"));
        let msg = customer_email(&from, &mail.desk_address(), &format!("Question {token}"), "Hello.", &format!("{token}@example.com"));
        smtp_send(smtp, &from, &mail.desk_address(), &msg).expect("SMTP delivery");
    }
    let cell = |id: &str| app.session.find(&format!("[data-testid={id}]")).ok()?.text().ok();
    wait_for("Amy's own claim in My week", Duration::from_secs(60), || (cell("week-claimed")? == "1").then_some(()));
    let panel = wait_for("the team's median from two advisors", Duration::from_secs(60), || {
        let text = app.session.find("[data-testid=my-week]").ok()?.text().ok()?;
        text.contains("Team median (2)").then_some(text)
    });
    assert!(!panel.contains("ann") && !panel.contains("Ann"), "no colleague named: {panel}");
    assert!(app.session.find("[data-testid=week-colleagues]").is_err(), "the policy shares no colleague");
    // The analytics commands are the supervisors'.
    let refused = app
        .session
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI_INTERNALS__.invoke('analytics', { filter: { from: '2026-11-01', to: '2026-11-30', by: 'day' } })
               .then(() => done('allowed'), (e) => done(e.code));",
            vec![],
        )
        .unwrap();
    assert_eq!(refused, json!("forbidden"));
    app.screenshot("73-my-week-en");
    app.session.find("[data-testid=lang-toggle]").unwrap().click().unwrap();
    let zh = wait_for("My week in Chinese", Duration::from_secs(5), || {
        let text = app.session.find("[data-testid=my-week]").ok()?.text().ok()?;
        text.contains("我的本周").then_some(text)
    });
    assert!(zh.contains("团队中位数（2 人）") && !zh.contains("ann"), "{zh}");
    app.screenshot("74-my-week-zh");
    drop(ann);
}
