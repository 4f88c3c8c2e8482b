//! The one compare-and-swap every claim uses (`rewrite_flags`): take an IMAP keyword on a
//! message only if nobody holds one of its kind (owner claims `$bd_owner_<id>`), or
//! replace its flag list (moving an owner, a conversation token). Team-wide duties are
//! decided by bids instead (`duty_bids.rs`).
//! What is taken is always named for the taker and judged by reading back: a STORE
//! that would change nothing is answered OK even when its MODSEQ is stale.
//! Never MOVE or COPY to claim: measured on Dovecot, concurrent MOVEs duplicate mail.
//!
//! First use of a keyword: Dovecot applies every concurrent `UNCHANGEDSINCE` STORE of a
//! keyword its mailbox has never seen (measured: 28–62 % of six-way races left several
//! owners, each STORE answered OK). So before a keyword's first conditional use in a
//! folder (not in the SELECT's FLAGS list) it is *registered*: stored and removed
//! unconditionally on a resolved message, which no claim ever targets
//! (`register_keywords`); a folder without one gets the measured fallback instead, a
//! throw-away keyword stored and removed on another message right before the swap
//! (`touch_another`). Measured: no double set in 1,000 six-way races per format either way.

use crate::engine::{Engine, EngineError, Result};
use blendesk_domain::claim::{judge, ClaimOutcome, OWNER_PREFIX};
use blendesk_domain::keywords::{unknown, RESOLVED_KEYWORD, TOUCH_KEYWORD};
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
    pub async fn connect_for_team(&self) -> Result<crate::connections::Connected> {
        let c = self.connect().await?;
        // With the team's database coordinating, the mailbox only carries mail: neither
        // CONDSTORE nor keywords are needed (IDLE still tells us of new mail).
        if self.coordinated_by_database() {
            return Ok(c);
        }
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

    /// The keywords this change writes.
    fn keywords(&self) -> &[String] {
        match self {
            FlagChange::Add(k) => std::slice::from_ref(k),
            FlagChange::Replace(new) => new,
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
/// never written to. The outcome is what the flags read back say, never the STORE's
/// answer alone: a STORE that changes nothing is answered OK without `[MODIFIED]`.
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
    let mut known = selected.keywords;
    let mut last = Vec::new();
    let mut attempts = 0;
    while attempts < REWRITE_ATTEMPTS {
        let Some((flags, modseq)) = imap::flags_of(session, uid).await? else { return Ok(Rewrite::Gone) };
        let Some(want) = change(&flags) else { return Ok(Rewrite::Declined(flags)) };
        if want.is_done(&flags) {
            return Ok(Rewrite::Done(flags));
        }
        // New to the folder: register first, then read the MODSEQ the swap is made on.
        let new = unknown(want.keywords(), &known).into_iter().map(str::to_owned).collect::<Vec<_>>();
        let mut touch = false;
        if !new.is_empty() {
            match register_keywords(session, folder, uid, &new, known.len()).await? {
                Registered::Yes => {
                    known.extend(new);
                    continue;
                }
                // No marker to be had (no resolved mail, no right to add one): the
                // measured fallback, a write of our own right before the swap.
                Registered::NoMarker => touch = true,
            }
        }
        attempts += 1;
        if touch {
            touch_another(session, uid).await.map_err(|e| keyword_limit(e, folder, known.len()))?;
        }
        imap::store_conditional(session, uid, modseq, &want.store_command()).await.map_err(|e| keyword_limit(e, folder, known.len()))?;
        let Some((after, _)) = imap::flags_of(session, uid).await? else { return Ok(Rewrite::Gone) };
        if want.is_done(&after) {
            return Ok(Rewrite::Done(after));
        }
        last = after;
    }
    Ok(Rewrite::Contended(last))
}

/// Cyrus's "Too many user flags" as the error that says what to do.
pub(crate) fn keyword_limit(e: imap::ImapError, folder: &str, count: usize) -> EngineError {
    if imap::is_keyword_limit(&e) {
        EngineError::KeywordLimit { folder: folder.to_owned(), count }
    } else {
        EngineError::Imap(e)
    }
}

/// Whether `register_keywords` could register.
pub(crate) enum Registered {
    Yes,
    /// The folder has no resolved message to register on.
    NoMarker,
}

/// Make `keywords` known to the selected `folder` before their first conditional use:
/// store and remove them on a marker message, never on `target` (that would move its
/// MODSEQ, and a racer could take it between the two STOREs). The marker is a resolved
/// email: no claim, duty or merge ever writes to one. (Appending a marker of our own
/// would need the insert right, which advisors in a shared mailbox may lack, and would
/// put a message that is not mail among the customers'.) `count`: the folder's keywords
/// so far, for the limit's error.
pub(crate) async fn register_keywords(
    session: &mut ImapSession,
    folder: &str,
    target: u32,
    keywords: &[String],
    count: usize,
) -> Result<Registered> {
    let resolved = imap::uid_search(session, &format!("KEYWORD {RESOLVED_KEYWORD}")).await?;
    for marker in resolved.into_iter().filter(|u| *u != target).take(3) {
        // Only what it did not carry comes off again.
        let Some((before, _)) = imap::flags_of(session, marker).await? else { continue };
        let added: Vec<&str> = keywords.iter().map(String::as_str).filter(|k| !before.iter().any(|f| f.eq_ignore_ascii_case(k))).collect();
        if added.is_empty() {
            return Ok(Registered::Yes);
        }
        let list = added.join(" ");
        imap::store(session, marker, &format!("+FLAGS.SILENT ({list})")).await.map_err(|e| keyword_limit(e, folder, count))?;
        imap::store(session, marker, &format!("-FLAGS.SILENT ({list})")).await?;
        tracing::debug!(folder, keywords = %list, marker, "registered keywords");
        return Ok(Registered::Yes);
    }
    Ok(Registered::NoMarker)
}

/// The fallback without a marker (measured on Dovecot: no double set in 1,000 six-way
/// races): store and remove `$bd_touch`, a keyword nobody reads, on another message,
/// after the MODSEQ was read and right before the conditional STORE. Harmless to that
/// message: nothing judges `$bd_touch`, and every rewrite of it is conditional. Touching
/// the target itself does not help (measured: 52 of 300 races doubled). A folder whose
/// only message is the target has nothing to touch: the repair (`keywords.rs`) is what
/// settles a double there.
/// Its errors are the server's, so a full Cyrus folder's refusal of `$bd_touch` reads as
/// the keyword limit it is.
async fn touch_another(session: &mut ImapSession, target: u32) -> std::result::Result<(), imap::ImapError> {
    let Some(other) = imap::uid_search(session, "ALL").await?.into_iter().find(|u| *u != target) else { return Ok(()) };
    imap::store(session, other, &format!("+FLAGS.SILENT ({TOUCH_KEYWORD})")).await?;
    imap::store(session, other, &format!("-FLAGS.SILENT ({TOUCH_KEYWORD})")).await?;
    Ok(())
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
