//! `blendesk simulate`: the standard day's outcome table for the three ways of working,
//! a supervisor's draft policy changing the prediction, and a bad draft refused clearly.
//! No mailbox: the simulator is the domain's.

use std::path::Path;
use std::process::Command;

fn simulate(args: &[&str]) -> std::process::Output {
    Command::new(Path::new(env!("CARGO_BIN_EXE_blendesk"))).arg("simulate").args(args).output().expect("blendesk runs")
}

fn outcomes(args: &[&str]) -> Vec<serde_json::Value> {
    let out = simulate(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON outcomes")
}

fn of<'a>(all: &'a [serde_json::Value], variant: &str) -> &'a serde_json::Value {
    all.iter().find(|o| o["variant"] == variant).unwrap_or_else(|| panic!("no {variant} in {all:?}"))
}

#[test]
fn the_standard_day_prints_the_table_for_three_ways_of_working() {
    let out = simulate(&[]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for row in ["no blending", "fixed cap, no pause", "Blendesk", "Blendesk + gap pacing", "Blendesk + hand-back"] {
        assert!(text.contains(row), "{text}");
    }
    // First replies within 1 / 4 / 24 hours, calendar and business.
    let header = text.lines().find(|l| l.starts_with("variant")).unwrap_or_else(|| panic!("no header: {text}"));
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(columns[1..7], ["1h", "4h", "24h", "1bh", "4bh", "24bh"], "{header}");
    let all = outcomes(&["--json", "--seed", "2"]);
    let (blendesk, none) = (of(&all, "blendesk"), of(&all, "no_blending"));
    assert_eq!(blendesk["emails"], 1200);
    assert_eq!(blendesk["calls_offered"], 900);
    assert_eq!(blendesk["claimed_during_calls"], 0);
    assert!(blendesk["replied_within_4_business_h"].as_u64().unwrap() * 100 >= 95 * 1200, "{blendesk}");
    let within = |field: &str| blendesk[field].as_u64().unwrap_or_else(|| panic!("no {field} in {blendesk}"));
    for (calendar, business) in [
        ("replied_within_1h", "replied_within_1_business_h"),
        ("replied_within_4h", "replied_within_4_business_h"),
        ("replied_within_24h", "replied_within_24_business_h"),
    ] {
        assert!(within(calendar) <= within(business), "business time never exceeds calendar time: {blendesk}");
    }
    assert!(blendesk["calls_answered"].as_u64() >= none["calls_answered"].as_u64(), "{blendesk} vs {none}");
    assert!(of(&all, "fixed_cap_no_pause")["claimed_during_calls"].as_u64().unwrap() > 0);
    // Deterministic per seed.
    assert_eq!(outcomes(&["--json", "--seed", "2"]), all);
}

#[test]
fn a_draft_policy_changes_the_prediction_and_a_bad_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // What if every advisor could hold only one conversation and wrap-up took 2 minutes?
    let draft = dir.path().join("draft.json");
    std::fs::write(&draft, r#"{"version": 1, "default_cap": 1, "wrap_up_seconds": 120, "idle_to_away_seconds": 0}"#).unwrap();
    let base = outcomes(&["--json"]);
    let what_if = outcomes(&["--json", "--policy", draft.to_str().unwrap()]);
    let replied = |all: &[serde_json::Value]| of(all, "blendesk")["replied_within_1h"].as_u64().unwrap();
    assert!(
        replied(&what_if) < replied(&base),
        "fewer fast replies with cap 1 and long wrap-up: {} vs {}",
        replied(&what_if),
        replied(&base)
    );

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{not json").unwrap();
    let out = simulate(&["--policy", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a valid policy"), "{err}");
}

#[test]
fn a_scenario_file_sets_the_day_and_a_bad_one_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir.path().join("small.json");
    std::fs::write(&day, r#"{"advisors": ["ann", "bo", "cy"], "hours": 3, "emails": 60, "calls": 30, "languages": {"zh": 1}}"#).unwrap();
    let all = outcomes(&[day.to_str().unwrap(), "--json"]);
    let blendesk = of(&all, "blendesk");
    assert_eq!((blendesk["emails"].as_u64(), blendesk["calls_offered"].as_u64()), (Some(60), Some(30)), "{blendesk}");
    assert_eq!(blendesk["occupancy"].as_array().unwrap().len(), 3, "three advisors");
    let text = String::from_utf8_lossy(&simulate(&[day.to_str().unwrap()]).stdout).into_owned();
    assert!(text.contains("small.json: 3 advisors, 60 emails, 30 calls in 3 h"), "{text}");

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"hours": 30}"#).unwrap();
    let out = simulate(&[bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not a usable scenario") && err.contains("hours must be 1 to 24"), "{err}");
}
