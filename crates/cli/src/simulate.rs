//! `blendesk simulate`: the domain's blending simulator (`blendesk_domain::simulate`) on
//! the standard day or a scenario file, under its policy or a supervisor's draft.

use anyhow::{Context, Result};
use blendesk_domain::blending::Policy;
use blendesk_domain::simulate::{run as run_variant, standard_scenario, table, Outcome, ScenarioFile, Variant};
use std::path::Path;

pub fn run(scenario_file: Option<&Path>, policy: Option<&Path>, seed: u64, json: bool) -> Result<()> {
    let mut scenario = match scenario_file {
        None => standard_scenario(),
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            let file: ScenarioFile = serde_json::from_str(&text).with_context(|| format!("{} is not a scenario", path.display()))?;
            file.scenario().map_err(|why| anyhow::anyhow!("{} is not a usable scenario: {why}", path.display()))?
        }
    };
    if let Some(path) = policy {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        scenario.policy = Policy::parse(&bytes).with_context(|| format!("{} is not a valid policy", path.display()))?;
    }
    let started = std::time::Instant::now();
    let outcomes: Vec<Outcome> = Variant::ALL.iter().map(|v| run_variant(&scenario, *v, seed)).collect();
    if json {
        println!("{}", serde_json::to_string(&outcomes)?);
    } else {
        println!(
            "{}: {} advisors, {} emails, {} calls in {} h; seed {seed}; {} ms",
            scenario_file.map_or_else(|| "standard day".to_owned(), |p| p.display().to_string()),
            scenario.advisors.len(),
            scenario.emails,
            scenario.calls,
            scenario.hours,
            started.elapsed().as_millis()
        );
        print!("{}", table(&outcomes));
    }
    Ok(())
}
