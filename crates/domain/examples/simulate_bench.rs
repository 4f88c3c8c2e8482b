//! How long the blending simulator takes (printed, not asserted):
//! one standard day (each variant), and a four-week what-if as the window runs it:
//! four weeks of history (1,200 emails per weekday, none at weekends) fitted into days
//! (`simulate::fit`), each run under today's policy and under a draft, combined.
//! `cargo run --release -p blendesk-domain --example simulate_bench`

use blendesk_domain::simulate::fit::{combine, fit_days, ObservedEmail};
use blendesk_domain::simulate::{run, standard_scenario, Rng, Variant};
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
    // Four weeks of history ending the Friday after the standard Monday + 3 weeks.
    const DAY_MS: i64 = 86_400_000;
    let first_midnight = scenario.start_ms - scenario.start_ms.rem_euclid(DAY_MS);
    let mut rng = Rng::new(7);
    let mut history = Vec::new();
    for day in 0..28 {
        if day % 7 >= 5 {
            continue;
        }
        for i in 0..1_200 {
            // Mostly in opening hours (09:00–18:00), some overnight.
            let hour = if i % 10 == 0 { (rng.next_u64() % 9) as i64 } else { 9 + (rng.next_u64() % 9) as i64 };
            let at = first_midnight + day * DAY_MS + hour * 3_600_000 + (rng.next_u64() % 3_600_000) as i64;
            let queue = if i % 3 == 0 { "Billing" } else { "Support" };
            let language = if i % 5 < 2 { "zh" } else { "en" };
            history.push(ObservedEmail { received_ms: at, queue: queue.into(), language: language.into() });
        }
    }
    let t = Instant::now();
    let (mut days, basis) = fit_days(&history, &[], &scenario, first_midnight + 28 * DAY_MS, 28);
    let fitted = t.elapsed();
    let mut results = Vec::new();
    for cap in [3, 2] {
        let outcomes: Vec<_> = days
            .iter_mut()
            .enumerate()
            .map(|(i, d)| {
                d.policy.default_cap = cap;
                run(d, Variant::Blendesk, 1 + i as u64)
            })
            .collect();
        results.push(combine(&outcomes).expect("days to combine"));
    }
    println!(
        "four-week what-if ({} days, {} emails; fitted in {:.0} ms; today's policy and a draft): {:.2} s; replies within 4 business h: {:.1} % vs {:.1} %",
        basis.days,
        basis.emails,
        fitted.as_secs_f64() * 1000.0,
        t.elapsed().as_secs_f64(),
        results[0].first_replies_within_4_business_h_pct(),
        results[1].first_replies_within_4_business_h_pct()
    );
}
