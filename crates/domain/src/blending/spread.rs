//! Spreading the head of the queue over the advisors who could take an email now.
//!
//! Every app computes the same offer order. If all of them went for the top email, each
//! race would cost everyone a round trip and the team would claim one email at a time.
//! So every app works out the same matching of the next emails to the advisors with
//! room, and tries only its own: emails in offer order, each to the advisor who can take
//! it and can take the fewest of the others, then the least loaded (then by id). An
//! advisor with a rare skill (a language) is thereby kept for the emails only they can
//! take, the less loaded get the next email first (fairness without a race), and nobody
//! races.
//!
//! The apps see the team through the presence board, which lags; an advisor matched to
//! an email may not take it after all (a call began). The engine therefore lets any
//! advisor take an email that stayed matched to someone else for a short while.

use super::offer::CandidateEmail;
use super::policy::Skills;

/// An advisor who could claim now (available, with room).
#[derive(Debug, Clone, Copy)]
pub struct Racer<'a> {
    pub id: &'a str,
    pub skills: &'a Skills,
    /// Conversations held now.
    pub load: u32,
}

fn can_take<Id>(racer: &Racer<'_>, email: &CandidateEmail<Id>) -> bool {
    racer.skills.covers_queue(&email.queue) && racer.skills.covers_language(email.language.as_deref())
}

/// The position in `order` (the team's offer order: waiting emails nobody holds) of the
/// email `me` should try, or `None` when the matching gives every email `me` could take
/// to someone else. `racers` may or may not include `me`; `me` is always counted.
pub fn my_share<Id>(order: &[&CandidateEmail<Id>], racers: &[Racer<'_>], me: Racer<'_>) -> Option<usize> {
    let mut team: Vec<Racer<'_>> = racers.iter().copied().filter(|r| r.id != me.id).collect();
    team.push(me);
    // How many of the emails each advisor could take: the narrower, the sooner matched.
    let reach: Vec<usize> = team.iter().map(|r| order.iter().filter(|e| can_take(r, e)).count()).collect();
    let mut free: Vec<bool> = vec![true; team.len()];
    for (position, email) in order.iter().enumerate() {
        let pick = (0..team.len()).filter(|&i| free[i] && can_take(&team[i], email)).min_by_key(|&i| (reach[i], team[i].load, team[i].id));
        let Some(i) = pick else { continue };
        if team[i].id == me.id {
            return Some(position);
        }
        free[i] = false;
        if !free.iter().any(|f| *f) {
            break;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn email(id: u32, language: &str) -> CandidateEmail<u32> {
        CandidateEmail {
            id,
            queue: "INBOX".into(),
            language: Some(language.into()),
            sender: format!("c{id}@example.com"),
            subject: String::new(),
            body_excerpt: String::new(),
            received_at_ms: id as i64,
            sla_due_at_ms: None,
            owner: None,
            owner_offline_past_grace: false,
        }
    }

    fn speaks(languages: &[&str]) -> Skills {
        Skills { queues: None, languages: Some(languages.iter().map(|l| l.to_string()).collect::<BTreeSet<_>>()) }
    }

    #[test]
    fn each_advisor_gets_a_different_email_and_together_they_take_the_head_of_the_queue() {
        let all = Skills::default();
        let emails: Vec<_> = (0..5).map(|i| email(i, "en")).collect();
        let order: Vec<_> = emails.iter().collect();
        let team = ["a1", "a2", "a3"].map(|id| Racer { id, skills: &all, load: 0 });
        let picks: Vec<_> = team.iter().map(|me| my_share(&order, &team, *me)).collect();
        assert_eq!(picks, vec![Some(0), Some(1), Some(2)]);
    }

    #[test]
    fn a_rare_skill_is_kept_for_the_email_that_needs_it() {
        let (both, en) = (speaks(&["en", "zh"]), speaks(&["en"]));
        let emails = [email(0, "en"), email(1, "zh"), email(2, "en")];
        let order: Vec<_> = emails.iter().collect();
        let team = [
            Racer { id: "a1", skills: &both, load: 0 },
            Racer { id: "a3", skills: &en, load: 0 },
            Racer { id: "a4", skills: &en, load: 0 },
        ];
        // The bilingual advisor is matched to the Chinese email although an English one is older.
        assert_eq!(my_share(&order, &team, team[0]), Some(1));
        assert_eq!(my_share(&order, &team, team[1]), Some(0));
        assert_eq!(my_share(&order, &team, team[2]), Some(2));
    }

    #[test]
    fn the_least_loaded_advisor_gets_the_next_email() {
        let all = Skills::default();
        let emails = [email(0, "en"), email(1, "en")];
        let order: Vec<_> = emails.iter().collect();
        let team = [
            Racer { id: "a1", skills: &all, load: 2 },
            Racer { id: "a2", skills: &all, load: 0 },
            Racer { id: "a3", skills: &all, load: 1 },
        ];
        assert_eq!(my_share(&order, &team, team[1]), Some(0));
        assert_eq!(my_share(&order, &team, team[2]), Some(1));
        assert_eq!(my_share(&order, &team, team[0]), None);
    }

    #[test]
    fn with_more_advisors_than_emails_the_rest_wait_and_no_email_is_matched_twice() {
        let all = Skills::default();
        let emails = [email(0, "en")];
        let order: Vec<_> = emails.iter().collect();
        let team = ["a1", "a2"].map(|id| Racer { id, skills: &all, load: 0 });
        assert_eq!(my_share(&order, &team, team[0]), Some(0));
        assert_eq!(my_share(&order, &team, team[1]), None);
    }

    #[test]
    fn an_advisor_missing_from_the_board_still_counts_themselves() {
        let all = Skills::default();
        let emails = [email(0, "en"), email(1, "en")];
        let order: Vec<_> = emails.iter().collect();
        let board = [Racer { id: "a1", skills: &all, load: 0 }];
        assert_eq!(my_share(&order, &board, Racer { id: "a2", skills: &all, load: 0 }), Some(1));
        assert_eq!(my_share::<u32>(&[], &board, Racer { id: "a2", skills: &all, load: 0 }), None);
    }

    #[test]
    fn an_email_nobody_on_the_board_can_take_is_skipped_not_blocking() {
        let (zh, en) = (speaks(&["zh"]), speaks(&["en"]));
        let emails = [email(0, "en"), email(1, "zh")];
        let order: Vec<_> = emails.iter().collect();
        let team = [Racer { id: "a5", skills: &zh, load: 0 }, Racer { id: "a3", skills: &en, load: 0 }];
        assert_eq!(my_share(&order, &team, team[0]), Some(1));
        assert_eq!(my_share(&order, &team, team[1]), Some(0));
    }
}
