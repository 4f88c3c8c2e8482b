//! Claims through the mailbox: an IMAP keyword names the owner of an email, set with a
//! compare-and-swap (`UID STORE … (UNCHANGEDSINCE modseq) +FLAGS.SILENT (kw)`). These are
//! the pure parts: keyword names, reading owners from flags, judging an attempt, and the
//! fairness wait.

use crate::advisor::AdvisorId;
use std::time::Duration;

/// Prefix of owner keywords: `$bd_owner_<advisor id>`.
pub const OWNER_PREFIX: &str = "$bd_owner_";

pub fn owner_keyword(advisor: &AdvisorId) -> String {
    format!("{OWNER_PREFIX}{advisor}")
}

/// Marks an email an advisor gave back to the queue (released): their app does not take
/// it again; everyone else may.
pub const DECLINED_PREFIX: &str = "$bd_declined_";

pub fn declined_keyword(advisor: &AdvisorId) -> String {
    format!("{DECLINED_PREFIX}{advisor}")
}

/// Advisors named by owner keywords among `flags` (normally zero or one).
pub fn owners<'a>(flags: &'a [String]) -> impl Iterator<Item = &'a str> + 'a {
    flags.iter().filter_map(|f| {
        let lower = f.get(..OWNER_PREFIX.len())?;
        lower.eq_ignore_ascii_case(OWNER_PREFIX).then(|| &f[OWNER_PREFIX.len()..])
    })
}

/// The result of one claim attempt, judged from the flags read back after the STORE.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ClaimOutcome {
    /// The keyword is ours, and no other holder's.
    Won,
    /// Someone else holds it.
    Lost { holder: String },
    /// Nobody holds it but the message changed under us (another flag): try again.
    Changed,
    /// The message is gone (expunged).
    Gone,
    /// The folder's UIDVALIDITY changed: our UID no longer names this message.
    Stale,
    /// We stopped before the swap: the caller's guard said no (e.g. a call began).
    Withdrawn,
}

/// Judge an attempt to take `keyword` among keywords starting with `exclusive_prefix`,
/// from the flags after the conditional STORE.
pub fn judge(flags_after: &[String], keyword: &str, exclusive_prefix: &str) -> ClaimOutcome {
    let holders: Vec<&String> = flags_after
        .iter()
        .filter(|f| f.len() >= exclusive_prefix.len() && f[..exclusive_prefix.len()].eq_ignore_ascii_case(exclusive_prefix))
        .collect();
    let mine = holders.iter().any(|f| f.eq_ignore_ascii_case(keyword));
    match (mine, holders.iter().find(|f| !f.eq_ignore_ascii_case(keyword))) {
        (_, Some(other)) => ClaimOutcome::Lost { holder: other[exclusive_prefix.len()..].to_owned() },
        (true, None) => ClaimOutcome::Won,
        (false, None) => ClaimOutcome::Changed,
    }
}

/// An email with two or more owner keywords is an inconsistency (a server that let two
/// conditional STOREs through, a restore, a bug in an old version). Every app settles it
/// the same way: keep `preferred` when it is one of them (the owner of the rest of the
/// conversation, so a follow-up stays with whoever already answers the customer), else
/// the lowest advisor id. Returns the owner kept and the flag list to write (the others'
/// owner keywords removed), or `None` when there is nothing to settle.
pub fn settle_owners(flags: &[String], preferred: Option<&str>) -> Option<(String, Vec<String>)> {
    let mut held: Vec<&str> = owners(flags).collect();
    if held.len() < 2 {
        return None;
    }
    held.sort_by_key(|o| o.to_ascii_lowercase());
    let keep = preferred.and_then(|p| held.iter().find(|o| o.eq_ignore_ascii_case(p))).unwrap_or(&held[0]).to_string();
    let kept = format!("{OWNER_PREFIX}{keep}");
    let mut seen = false;
    let new = flags
        .iter()
        .filter(|f| {
            let is_owner = f.get(..OWNER_PREFIX.len()).is_some_and(|h| h.eq_ignore_ascii_case(OWNER_PREFIX));
            // Keep the chosen owner's keyword once.
            !is_owner || (f.eq_ignore_ascii_case(&kept) && !std::mem::replace(&mut seen, true))
        })
        .cloned()
        .collect();
    Some((keep, new))
}

/// Fairness without a server: an app holding `load` conversations waits in proportion
/// to its load before trying a claim, so less-loaded advisors win races for new mail.
/// `step` is the wait per conversation held; `jitter` in `[0,1)` breaks ties.
pub fn fairness_wait(load: u32, step: Duration, jitter: f64) -> Duration {
    let base = step.saturating_mul(load);
    base + step.mul_f64(jitter.clamp(0.0, 1.0) * 0.5)
}

/// The part of the fairness wait that comes from the advisor's idle time (no input on
/// their desktop): half a step per idle minute, at most two steps, so someone at the
/// keyboard wins a race against a colleague who stepped away at the same load, while
/// load still weighs more.
pub fn idle_wait(idle: Duration, step: Duration) -> Duration {
    let minutes = (idle.as_secs() / 60).min(4) as u32;
    (step / 2).saturating_mul(minutes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn owner_keywords_round_trip() {
        let alice = AdvisorId::parse("alice").unwrap();
        assert_eq!(owner_keyword(&alice), "$bd_owner_alice");
        let f = flags(&["\\Seen", "$bd_owner_alice", "$bd_ack"]);
        assert_eq!(owners(&f).collect::<Vec<_>>(), vec!["alice"]);
    }

    #[test]
    fn judging_an_attempt() {
        let kw = "$bd_owner_alice";
        assert_eq!(judge(&flags(&["\\Seen", kw]), kw, OWNER_PREFIX), ClaimOutcome::Won);
        assert_eq!(judge(&flags(&["$bd_owner_bob"]), kw, OWNER_PREFIX), ClaimOutcome::Lost { holder: "bob".into() });
        // Both present can only come from a non-conditional write: never count it as a win.
        assert_eq!(judge(&flags(&[kw, "$bd_owner_bob"]), kw, OWNER_PREFIX), ClaimOutcome::Lost { holder: "bob".into() });
        assert_eq!(judge(&flags(&["\\Seen"]), kw, OWNER_PREFIX), ClaimOutcome::Changed);
        // Servers may report keywords in another case.
        assert_eq!(judge(&flags(&["$BD_OWNER_ALICE"]), kw, OWNER_PREFIX), ClaimOutcome::Won);
    }

    #[test]
    fn more_load_waits_longer() {
        let step = Duration::from_millis(100);
        assert!(fairness_wait(0, step, 0.99) < fairness_wait(1, step, 0.0));
        assert!(fairness_wait(2, step, 0.99) < fairness_wait(3, step, 0.0));
        assert_eq!(fairness_wait(0, step, 0.0), Duration::ZERO);
    }

    #[test]
    fn idle_advisors_wait_a_little_longer_but_load_weighs_more() {
        let step = Duration::from_millis(50);
        assert_eq!(idle_wait(Duration::from_secs(59), step), Duration::ZERO);
        assert!(idle_wait(Duration::from_secs(120), step) > idle_wait(Duration::from_secs(60), step));
        assert_eq!(idle_wait(Duration::from_secs(3600), step), step * 2, "capped at two steps");
        // One conversation more always outweighs any idle time (with jitter).
        assert!(fairness_wait(0, step, 0.99) + idle_wait(Duration::from_secs(3600), step) < fairness_wait(3, step, 0.0));
    }

    #[test]
    fn two_owners_are_settled_the_same_way_in_every_app() {
        let f = flags(&["\\Seen", "$bd_owner_carol", "$bd_ack", "$bd_owner_bob"]);
        // No preference: the lowest id.
        let (keep, new) = settle_owners(&f, None).unwrap();
        assert_eq!(keep, "bob");
        assert_eq!(new, flags(&["\\Seen", "$bd_ack", "$bd_owner_bob"]));
        // The conversation's owner, when they are one of them.
        let (keep, new) = settle_owners(&f, Some("carol")).unwrap();
        assert_eq!(keep, "carol");
        assert_eq!(new, flags(&["\\Seen", "$bd_owner_carol", "$bd_ack"]));
        // A preference that is not among them changes nothing.
        assert_eq!(settle_owners(&f, Some("dan")).unwrap().0, "bob");
        // The order of the flags does not matter.
        let mut r = f.clone();
        r.reverse();
        assert_eq!(settle_owners(&r, None).unwrap().0, "bob");
        // One owner, or none: nothing to settle.
        assert_eq!(settle_owners(&flags(&["$bd_owner_bob", "\\Seen"]), None), None);
        assert_eq!(settle_owners(&flags(&[]), None), None);
        // Six at once, as a server without registered keywords can leave them.
        let six = flags(&["$bd_owner_a5", "$bd_owner_a3", "$bd_owner_a0", "$bd_owner_a4", "$bd_owner_a1", "$bd_owner_a2"]);
        let (keep, new) = settle_owners(&six, None).unwrap();
        assert_eq!((keep.as_str(), new), ("a0", flags(&["$bd_owner_a0"])));
    }
}
