//! The one compare-and-swap every team-wide decision uses (`rewrite_flags`): take an
//! IMAP keyword on a message only if nobody holds one of its kind (owner claims
//! `$bd_owner_<id>`, team-wide duties such as sending the acknowledgement once), or
//! replace its flag list (moving an owner, a conversation token).
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
/// The keyword is added with `+FLAGS.SILENT` `UNCHANGEDSINCE` (`rewrite_flags`): a swap
/// that failed because some other flag moved (another app's duty keyword, a breach mark,
/// \Seen) while nobody took the keyword is tried again, so the caller does not move on
/// to a lower-ranked email.
pub async fn take_keyword_guarded(
    session: &mut ImapSession,
    folder: &str,
    uidvalidity: u32,
    uid: u32,
    keyword: &str,
    exclusive_prefix: &str,
    guard: &(dyn Fn() -> bool + Sync),
) -> Result<ClaimOutcome> {
    // Only while nobody holds one of its kind, and the guard still agrees.
    let change = |flags: &[String]| match judge(flags, keyword, exclusive_prefix) {
        ClaimOutcome::Changed if guard() => Some(FlagChange::Add(keyword.to_owned())),
        _ => None,
    };
    Ok(match rewrite_flags(session, folder, uidvalidity, uid, &change).await? {
        Rewrite::Stale => ClaimOutcome::Stale,
        Rewrite::Gone => ClaimOutcome::Gone,
        Rewrite::Done(after) => judge(&after, keyword, exclusive_prefix),
        // Already ours or someone else's; nobody's means the guard said no.
        Rewrite::Declined(flags) => match judge(&flags, keyword, exclusive_prefix) {
            ClaimOutcome::Changed => ClaimOutcome::Withdrawn,
            settled => settled,
        },
        Rewrite::Contended(_) => ClaimOutcome::Changed,
    })
}

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

/// How a conditional rewrite (`rewrite_flags`) ended. Each carries the flags as last read.
pub(crate) enum Rewrite {
    /// The server holds the list `change` asked for.
    Done(Vec<String>),
    /// `change` declined on these flags (`None`): left as it was.
    Declined(Vec<String>),
    /// Other flags kept moving under every attempt.
    Contended(Vec<String>),
    /// The message is gone.
    Gone,
    /// The folder was rebuilt (UIDVALIDITY changed): the UID names nothing we know.
    Stale,
}

/// What a conditional rewrite writes: one keyword added (`+FLAGS.SILENT`, claims and
/// duties), or the whole list replaced (`FLAGS.SILENT`, moving an owner or a token).
pub(crate) enum FlagChange {
    Add(String),
    Replace(Vec<String>),
}

fn has(flags: &[String], flag: &str) -> bool {
    flags.iter().any(|f| f.eq_ignore_ascii_case(flag))
}

impl FlagChange {
    fn store_command(&self) -> String {
        match self {
            FlagChange::Add(k) => format!("+FLAGS.SILENT ({k})"),
            FlagChange::Replace(new) => format!("FLAGS.SILENT ({})", new.join(" ")),
        }
    }

    /// Whether `flags` are what this change asked for.
    fn is_done(&self, flags: &[String]) -> bool {
        match self {
            FlagChange::Add(k) => has(flags, k),
            FlagChange::Replace(new) => flags.len() == new.len() && flags.iter().all(|f| has(new, f)),
        }
    }
}

/// Attempts at a conditional rewrite while unrelated flags keep moving.
const REWRITE_ATTEMPTS: usize = 5;

/// The conditional rewrite every team-wide decision is made of (claims, duties,
/// transfers, take-overs, releases, merges, splits): read `uid`'s flags and MODSEQ, let
/// `change` decide what to write (`None`: leave it), STORE it `UNCHANGEDSINCE` that
/// MODSEQ, and read back. A STORE the server skipped because some flag moved meanwhile
/// is decided again on a fresh reading: `change` sees the new flags (if someone took
/// the email meanwhile, it declines). UIDVALIDITY is re-checked first, so a stale UID is
/// never written to.
pub(crate) async fn rewrite_flags(
    session: &mut ImapSession,
    folder: &str,
    uidvalidity: u32,
    uid: u32,
    change: &(dyn Fn(&[String]) -> Option<FlagChange> + Sync),
) -> Result<Rewrite> {
    let selected = imap::select(session, folder, true).await?;
    if selected.highestmodseq.is_none() {
        return Err(EngineError::MissingCapability("CONDSTORE"));
    }
    if selected.uidvalidity != uidvalidity {
        return Ok(Rewrite::Stale);
    }
    let mut last = Vec::new();
    for _ in 0..REWRITE_ATTEMPTS {
        let Some((flags, modseq)) = imap::flags_of(session, uid).await? else { return Ok(Rewrite::Gone) };
        let Some(want) = change(&flags) else { return Ok(Rewrite::Declined(flags)) };
        if want.is_done(&flags) {
            return Ok(Rewrite::Done(flags));
        }
        imap::store_unchanged_since(session, uid, modseq, &want.store_command()).await?;
        let Some((after, _)) = imap::flags_of(session, uid).await? else { return Ok(Rewrite::Gone) };
        if want.is_done(&after) {
            return Ok(Rewrite::Done(after));
        }
        last = after;
    }
    Ok(Rewrite::Contended(last))
}

/// Move ownership atomically: replace `from` with `to` (or with nobody) in one
/// conditional `FLAGS.SILENT` replacement (`rewrite_flags`), so there is never a moment
/// with two owners or an owner lost in between. Used for take-over of an offline
/// advisor's conversations, supervisor transfers and releases.
pub async fn swap_owner(
    session: &mut ImapSession,
    folder: &str,
    uidvalidity: u32,
    uid: u32,
    from: &str,
    to: Option<&str>,
) -> Result<ClaimOutcome> {
    let holds = |flags: &[String]| has(flags, from);
    let change = |flags: &[String]| -> Option<FlagChange> {
        // Someone already moved it (or it was released): leave it.
        if !holds(flags) {
            return None;
        }
        let mut new: Vec<String> = flags.iter().filter(|f| !f.eq_ignore_ascii_case(from)).cloned().collect();
        new.extend(to.map(str::to_owned));
        Some(FlagChange::Replace(new))
    };
    let flags = match rewrite_flags(session, folder, uidvalidity, uid, &change).await? {
        Rewrite::Stale => return Ok(ClaimOutcome::Stale),
        Rewrite::Gone => return Ok(ClaimOutcome::Gone),
        Rewrite::Done(f) | Rewrite::Declined(f) | Rewrite::Contended(f) => f,
    };
    // Who holds it now.
    Ok(match to {
        Some(kw) => judge(&flags, kw, OWNER_PREFIX),
        None if holds(&flags) => ClaimOutcome::Changed,
        None => ClaimOutcome::Won,
    })
}
