//! The two blending rules for the time around calls (policy switches `gap_pacing` and
//! `hand_back`), measured in the simulator (`crate::simulate`) before they are on by
//! default.
//!
//! - Gap-aware pacing: an advisor who will likely take a call in four minutes should get
//!   the email that fits in four minutes, not the one that takes twenty.
//! - Hand back: an email claimed just before a long call waits out the call while its
//!   promise runs; once the call has lasted so long that waiting as long again would
//!   miss the promise, the email goes back to the queue for someone available.

use super::offer::{sla_at_risk, CandidateEmail};

/// Expected time until an available advisor's next call: calls ring to the longest-idle
/// available advisor, so with `calls_per_hour` arriving and `ahead` advisors before this
/// one in that line, about `(ahead + 1) / rate`. `None` when no calls come.
pub fn expected_gap_ms(calls_per_hour: f64, ahead: usize) -> Option<i64> {
    (calls_per_hour > 0.0).then(|| ((ahead as f64 + 1.0) / calls_per_hour * 3_600_000.0) as i64)
}

/// The team's call rate: call starts seen in the last hour (server seconds), over the
/// part of that hour this app has been watching (a new app does not read a quiet hour
/// into its first minutes). `None` before a minute of watching.
pub fn calls_per_hour(call_starts_s: &[i64], now_s: i64, watching_since_s: i64) -> Option<f64> {
    let window = (now_s - watching_since_s).clamp(0, 3_600);
    if window < 60 {
        return None;
    }
    let seen = call_starts_s.iter().filter(|&&t| t > now_s - window && t <= now_s).count();
    Some(seen as f64 * 3_600.0 / window as f64)
}

/// What characters of customer text a typical email has: an email this long takes the
/// queue's `handle_minutes`.
const TYPICAL_CHARS: f64 = 200.0;

/// An email's handle-time estimate for pacing: the queue's handle time scaled by how
/// much the customer wrote (`text_chars` of its excerpt), between half and twice: a
/// two-line thank-you is quicker than a page.
pub fn estimate_handle_ms(handle_ms: i64, text_chars: usize) -> i64 {
    let scale = (text_chars as f64 / TYPICAL_CHARS).clamp(0.5, 2.0);
    (handle_ms as f64 * scale) as i64
}

/// Gap-aware pacing: of `order` (the offer order) from position `from` on (the advisor's
/// share), the first email whose estimated handle time fits `gap_ms`. An email at SLA
/// risk is never passed over for one that fits; when nothing fits, the share stands.
pub fn pace<Id>(
    order: &[&CandidateEmail<Id>],
    from: usize,
    estimate_ms: impl Fn(&CandidateEmail<Id>) -> i64,
    gap_ms: i64,
    now_ms: i64,
    at_risk_ms: i64,
) -> usize {
    for (i, email) in order.iter().enumerate().skip(from) {
        if estimate_ms(email) <= gap_ms {
            return i;
        }
        if sla_at_risk(email.sla_due_at_ms, now_ms, at_risk_ms) {
            return from;
        }
    }
    from
}

/// Whether an email its owner has not answered goes back to the queue during their
/// call: the call has lasted `on_call_ms`, and should it last as long again (the best
/// guess of a call's remaining length is its length so far), then wrap-up and the
/// email's remaining work would end past its due time. Never when a reply is already on
/// its way (`reply_queued`) or the email has no due time.
pub fn should_hand_back(
    now_ms: i64,
    on_call_ms: i64,
    wrap_up_ms: i64,
    remaining_work_ms: i64,
    due_ms: Option<i64>,
    reply_queued: bool,
) -> bool {
    let Some(due) = due_ms else { return false };
    !reply_queued && now_ms + on_call_ms + wrap_up_ms + remaining_work_ms > due
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(n: u32, due: Option<i64>) -> CandidateEmail<u32> {
        CandidateEmail {
            id: n,
            queue: "Support".into(),
            language: None,
            sender: String::new(),
            subject: String::new(),
            body_excerpt: String::new(),
            received_at_ms: 0,
            sla_due_at_ms: due,
            owner: None,
            owner_offline_past_grace: false,
        }
    }

    #[test]
    fn the_call_rate_is_read_over_what_this_app_has_watched() {
        let starts = [100, 1_000, 3_000, 3_500];
        assert_eq!(calls_per_hour(&starts, 3_600, 3_590), None, "ten seconds of watching say nothing");
        assert_eq!(calls_per_hour(&starts, 3_600, 0), Some(4.0));
        // Half an hour of watching, two calls in it: four an hour.
        assert_eq!(calls_per_hour(&starts, 3_600, 1_800), Some(4.0));
        // Calls older than an hour are gone.
        assert_eq!(calls_per_hour(&starts, 5_000, 0), Some(2.0));
    }

    #[test]
    fn a_short_email_is_estimated_shorter_than_a_long_one() {
        let min = 60_000;
        assert_eq!(estimate_handle_ms(10 * min, 20), 5 * min, "at least half");
        assert_eq!(estimate_handle_ms(10 * min, 200), 10 * min);
        assert_eq!(estimate_handle_ms(10 * min, 5_000), 20 * min, "at most twice");
    }

    #[test]
    fn the_gap_is_the_line_before_this_advisor_over_the_call_rate() {
        assert_eq!(expected_gap_ms(60.0, 0), Some(60_000));
        assert_eq!(expected_gap_ms(60.0, 3), Some(240_000));
        assert_eq!(expected_gap_ms(0.0, 3), None);
    }

    #[test]
    fn a_short_gap_gets_the_email_that_fits_unless_one_before_it_is_at_risk() {
        let emails = [email(1, None), email(2, None), email(3, None)];
        let order: Vec<&CandidateEmail<u32>> = emails.iter().collect();
        let minutes = |e: &CandidateEmail<u32>| [20, 10, 2][(e.id - 1) as usize] * 60_000;
        assert_eq!(pace(&order, 0, minutes, 4 * 60_000, 0, 0), 2, "the 2-minute email fits a 4-minute gap");
        assert_eq!(pace(&order, 0, minutes, 60 * 60_000, 0, 0), 0, "a long gap keeps the order");
        assert_eq!(pace(&order, 0, minutes, 60_000, 0, 0), 0, "nothing fits: the share stands");
        let risky = [email(1, None), email(2, Some(1_000)), email(3, None)];
        let order: Vec<&CandidateEmail<u32>> = risky.iter().collect();
        assert_eq!(pace(&order, 0, minutes, 4 * 60_000, 0, 30 * 60_000), 0, "not past an email at risk");
    }

    #[test]
    fn a_long_call_hands_back_an_email_whose_promise_it_threatens() {
        let min = 60_000;
        // Due 30 min after the call began, 5 min of work, 1 min wrap-up: after 10 min on
        // the call, another 10 would still leave time (20+1+5 ≤ 30); after 13, another 13
        // would not (26+1+5 > 30).
        // (The call began at 0; `now` is its length.)
        assert!(!should_hand_back(10 * min, 10 * min, min, 5 * min, Some(30 * min), false));
        assert!(should_hand_back(13 * min, 13 * min, min, 5 * min, Some(30 * min), false));
        assert!(!should_hand_back(13 * min, 13 * min, min, 5 * min, Some(30 * min), true), "a reply is on its way");
        assert!(!should_hand_back(13 * min, 13 * min, min, 5 * min, None, false));
    }
}
