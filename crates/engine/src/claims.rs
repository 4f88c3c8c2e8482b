//! The one compare-and-swap every team-wide decision uses: take an IMAP keyword on a
//! message only if nobody holds one of its kind. Owner claims (`$bd_owner_<id>`) and
//! team-wide duties (sending the acknowledgement once) are both this operation.
//! Never MOVE or COPY to claim: measured on Dovecot, concurrent MOVEs duplicate mail.

use crate::engine::{Engine, EngineError, Result};
use blendesk_domain::claim::{judge, ClaimOutcome, OWNER_PREFIX};
use blendesk_mail::imap::{self, ImapSession};

/// Take `keyword` on message `uid` of the selected `folder` unless a keyword starting
/// with `exclusive_prefix` is already there. `uidvalidity` is what the caller's UID was
/// read under; it is re-checked first so a stale UID is never written to.
pub async fn take_keyword(
    session: &mut ImapSession,
    folder: &str,
    uidvalidity: u32,
    uid: u32,
    keyword: &str,
    exclusive_prefix: &str,
) -> Result<ClaimOutcome> {
    take_keyword_guarded(session, folder, uidvalidity, uid, keyword, exclusive_prefix, &|| true).await
}

/// As `take_keyword`, asking `guard` right before the swap whether to go on (the claim
/// loop withdraws when the advisor's state changed during the round trips before it).
pub async fn take_keyword_guarded(
    session: &mut ImapSession,
    folder: &str,
    uidvalidity: u32,
    uid: u32,
    keyword: &str,
    exclusive_prefix: &str,
    guard: &(dyn Fn() -> bool + Sync),
) -> Result<ClaimOutcome> {
    let selected = imap::select(session, folder, true).await?;
    if selected.highestmodseq.is_none() {
        return Err(EngineError::MissingCapability("CONDSTORE"));
    }
    if selected.uidvalidity != uidvalidity {
        return Ok(ClaimOutcome::Stale);
    }
    take_keyword_selected(session, uid, keyword, exclusive_prefix, guard).await
}

/// As `take_keyword`, on the already selected folder (UIDVALIDITY already checked).
async fn take_keyword_selected(
    session: &mut ImapSession,
    uid: u32,
    keyword: &str,
    exclusive_prefix: &str,
    guard: &(dyn Fn() -> bool + Sync),
) -> Result<ClaimOutcome> {
    // A swap that failed because some other flag moved (another app's duty keyword, a
    // breach mark, \Seen) while nobody took the keyword is tried again on a fresh
    // observation: giving up would make the caller move on to a lower-ranked email.
    for _ in 0..CHANGED_RETRIES {
        // Observe: who holds it now, at which MODSEQ.
        let Some((flags, modseq)) = imap::flags_of(session, uid).await? else { return Ok(ClaimOutcome::Gone) };
        match judge(&flags, keyword, exclusive_prefix) {
            ClaimOutcome::Changed => {}
            settled => return Ok(settled), // already ours, or someone else's
        }
        if !guard() {
            return Ok(ClaimOutcome::Withdrawn);
        }
        // Swap: only if nothing changed since that observation.
        imap::store_unchanged_since(session, uid, modseq, &format!("+FLAGS.SILENT ({keyword})")).await?;
        let Some((after, _)) = imap::flags_of(session, uid).await? else { return Ok(ClaimOutcome::Gone) };
        match judge(&after, keyword, exclusive_prefix) {
            ClaimOutcome::Changed => continue,
            settled => return Ok(settled),
        }
    }
    Ok(ClaimOutcome::Changed)
}

/// How many fresh observations a swap gets when unrelated flags keep moving.
const CHANGED_RETRIES: usize = 3;

impl Engine {
    /// Connect for claiming: team mode needs CONDSTORE (the compare-and-swap), UIDPLUS,
    /// IDLE and custom keywords; a server without them gets a clear refusal.
    pub async fn connect_for_team(&self) -> Result<imap::Connected> {
        let c = self.connect().await?;
        let mut c = c;
        for needed in ["CONDSTORE", "UIDPLUS", "IDLE"] {
            if !c.has(needed) {
                imap::logout(c.session).await;
                return Err(EngineError::MissingCapability(needed));
            }
        }
        // Owner keywords are new keywords: every queue must accept them from this login.
        for queue in &self.config.imap.queues {
            let selected = imap::select(&mut c.session, queue, true).await?;
            if !selected.keywords_allowed {
                imap::logout(c.session).await;
                return Err(EngineError::NoKeywords(queue.clone()));
            }
        }
        Ok(c)
    }
}

/// Move ownership atomically: replace `from` with `to` (or with nobody) in one
/// conditional `FLAGS.SILENT` replacement, so there is never a moment with two owners or
/// an owner lost in between. Used for take-over of an offline advisor's conversations,
/// supervisor transfers and releases.
pub async fn swap_owner(
    session: &mut ImapSession,
    folder: &str,
    uidvalidity: u32,
    uid: u32,
    from: &str,
    to: Option<&str>,
) -> Result<ClaimOutcome> {
    let selected = imap::select(session, folder, true).await?;
    if selected.uidvalidity != uidvalidity {
        return Ok(ClaimOutcome::Stale);
    }
    let Some((flags, modseq)) = imap::flags_of(session, uid).await? else { return Ok(ClaimOutcome::Gone) };
    if !flags.iter().any(|f| f.eq_ignore_ascii_case(from)) {
        // Someone already moved it (or it was released): report who holds it now.
        return Ok(match to {
            Some(kw) => judge(&flags, kw, OWNER_PREFIX),
            None => ClaimOutcome::Changed,
        });
    }
    let mut new: Vec<String> = flags.into_iter().filter(|f| !f.eq_ignore_ascii_case(from)).collect();
    if let Some(kw) = to {
        new.push(kw.to_owned());
    }
    imap::store_unchanged_since(session, uid, modseq, &format!("FLAGS.SILENT ({})", new.join(" "))).await?;
    let Some((after, _)) = imap::flags_of(session, uid).await? else { return Ok(ClaimOutcome::Gone) };
    Ok(match to {
        Some(kw) => judge(&after, kw, OWNER_PREFIX),
        None if after.iter().any(|f| f.eq_ignore_ascii_case(from)) => ClaimOutcome::Changed,
        None => ClaimOutcome::Won,
    })
}
