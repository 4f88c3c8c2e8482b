//! `blendesk simulate`: the domain's blending simulator (`blendesk_domain::simulate`) on
//! the standard day, under the scenario's policy or a supervisor's draft.

use anyhow::{Context, Result};
use blendesk_domain::blending::Policy;
use blendesk_domain::simulate::{run as run_variant, standard_scenario, table, Outcome, Variant};
use std::path::Path;

pub fn run(policy: Option<&Path>, seed: u64, json: bool) -> Result<()> {
    let mut scenario = standard_scenario();
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
            "standard day: {} advisors, {} emails, {} calls in {} h; seed {seed}; {} ms",
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
