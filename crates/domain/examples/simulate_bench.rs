//! How long the blending simulator takes (printed, not asserted):
//! one standard day (each variant), and a four-week what-if (20 business days under
//! today's policy and under a draft).
//! `cargo run --release -p blendesk-domain --example simulate_bench`

use blendesk_domain::simulate::{run, standard_scenario, Variant};
use std::time::Instant;

fn main() {
    let scenario = standard_scenario();
    for variant in Variant::ALL {
        let t = Instant::now();
        let o = run(&scenario, variant, 1);
        println!(
            "one standard day, {:<20} {:>6.0} ms  ({} emails, {} calls)",
            variant.label(),
            t.elapsed().as_secs_f64() * 1000.0,
            o.emails,
            o.calls_offered
        );
    }
    let mut draft = scenario.clone();
    draft.policy.default_cap = 2;
    let t = Instant::now();
    let mut met = [0u64; 2];
    for day in 1..=20u64 {
        for (i, s) in [&scenario, &draft].into_iter().enumerate() {
            met[i] += u64::from(run(s, Variant::Blendesk, day).replied_within_4_business_h);
        }
    }
    println!(
        "four-week what-if (20 days × today's policy and a draft): {:.2} s; replies within 4 business h: {} vs {}",
        t.elapsed().as_secs_f64(),
        met[0],
        met[1]
    );
}
