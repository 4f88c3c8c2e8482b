//! Taking a team-wide duty by bid (`blendesk_domain::automation::duty`): APPEND a bid to
//! the duties folder, search the duty's bids, the lowest UID holds it. The holder then
//! checks the email still needs it, marks it (`$bd_ack` / `$bd_late`, a plain +FLAGS:
//! the bid already decided) and removes its bid; a loser removes its own at once, so
//! the folder stays nearly empty.
//!
//! Why the holder re-reads the email before it marks it: a slow app may bid after the
//! holder has marked the email and removed its bid, and then find itself lowest. The
//! holder marks before it removes, so whoever is lowest after the removal sees the mark.

use crate::engine::Result;
use blendesk_domain::advisor::AdvisorId;
use blendesk_domain::automation::ack::is_ack_flag;
use blendesk_domain::automation::duty::{bidder_of, holder, Duty, DutyKind};
use blendesk_domain::automation::late::is_late_flag;
use blendesk_domain::claim::ClaimOutcome;
use blendesk_mail::imap::{self, ImapSession};

/// Whether a flag says a duty is taken care of.
pub type IsMark = fn(&str) -> bool;

/// The mark a duty's holder sets on the email, and what reads as "taken care of"
/// (this version's mark or an earlier version's per-holder names). None for the
/// duties whose bid stays as their record (`DutyKind::keeps_bid`).
pub fn duty_mark(kind: DutyKind) -> Option<(&'static str, IsMark)> {
    match kind {
        DutyKind::Ack => Some((blendesk_domain::automation::ack::ACK_KEYWORD, is_ack_flag)),
        DutyKind::Late => Some((blendesk_domain::automation::late::LATE_KEYWORD, is_late_flag)),
        DutyKind::Survey | DutyKind::FileAnswer => None,
    }
}

/// Take `duty` for `me` by a bid in `duties_folder` (created when missing). `from`: the
/// address the bid is written from. `Won`: this app holds it and the email now carries
/// the mark. `Lost`: another app's bid is lower (`holder`: its advisor), or the email
/// was already marked (`holder`: the mark). `Gone` / `Stale`: the email is not there
/// under that UID any more.
pub async fn take_duty(
    session: &mut ImapSession,
    duties_folder: &str,
    duty: &Duty<'_>,
    me: &AdvisorId,
    from: &str,
) -> Result<ClaimOutcome> {
    let nonce = format!("{:016x}", rand::random::<u64>());
    let bid = duty.bid(me, &nonce, from);
    // The folder exists after the team's first duty: create it only when refused.
    if let Err(e) = imap::append(session, duties_folder, "(\\Seen)", &bid).await {
        if !e.is_refused() {
            return Err(e.into());
        }
        imap::create_folder(session, duties_folder).await?;
        imap::append(session, duties_folder, "(\\Seen)", &bid).await?;
    }
    imap::select(session, duties_folder, false).await?;
    let bids = imap::uid_search(session, &duty.search()).await?;
    let lowest = holder(&bids);
    let lowest_bidder = match lowest {
        Some(uid) => imap::fetch_raw(session, &uid.to_string(), true).await?.into_iter().next().and_then(|(_, h)| bidder_of(&h)),
        None => None,
    };
    let Some(mine) = lowest.filter(|_| lowest_bidder.as_ref().is_some_and(|(_, n)| *n == nonce)) else {
        // Someone else's bid is lower: remove this one (found by its nonce).
        let own = imap::uid_search(session, &format!("HEADER {} \"{nonce}\"", blendesk_domain::automation::duty::BIDDER_HEADER)).await?;
        imap::delete_uids(session, &own).await?;
        let holder = lowest_bidder.map(|(a, _)| a.as_str().to_owned()).unwrap_or_else(|| "unknown".to_owned());
        return Ok(ClaimOutcome::Lost { holder });
    };
    let Some((mark, marked)) = duty_mark(duty.kind) else {
        // The bid stays as the record; the email must still be there.
        return still_there(session, duty).await;
    };
    let outcome = mark_email(session, duty, mark, marked).await?;
    imap::select(session, duties_folder, false).await?;
    imap::delete_uids(session, &[mine]).await?;
    Ok(outcome)
}

/// Remove bids kept as records (`DutyKind::keeps_bid`) once they are `BID_KEEP_DAYS`
/// old. Any app may: removing a bid twice is harmless.
pub async fn prune_bids(session: &mut ImapSession, duties_folder: &str, now_ms: i64) -> Result<usize> {
    let Ok(selected) = imap::select(session, duties_folder, false).await else { return Ok(0) };
    if selected.exists == 0 {
        return Ok(0);
    }
    let before = now_ms / 1000 - i64::from(blendesk_domain::automation::duty::BID_KEEP_DAYS) * 86_400;
    let old = imap::uid_search(session, &format!("BEFORE {}", imap::search_date(before))).await?;
    imap::delete_uids(session, &old).await?;
    Ok(old.len())
}

async fn still_there(session: &mut ImapSession, duty: &Duty<'_>) -> Result<ClaimOutcome> {
    let selected = imap::select(session, duty.folder, true).await?;
    if selected.uidvalidity != duty.uidvalidity {
        return Ok(ClaimOutcome::Stale);
    }
    Ok(match imap::flags_of(session, duty.uid).await? {
        Some(_) => ClaimOutcome::Won,
        None => ClaimOutcome::Gone,
    })
}

/// The bid holds the duty: mark the email unless it is gone or already marked.
async fn mark_email(session: &mut ImapSession, duty: &Duty<'_>, mark: &str, marked: fn(&str) -> bool) -> Result<ClaimOutcome> {
    let selected = imap::select(session, duty.folder, true).await?;
    if selected.uidvalidity != duty.uidvalidity {
        return Ok(ClaimOutcome::Stale);
    }
    let Some((flags, _)) = imap::flags_of(session, duty.uid).await? else { return Ok(ClaimOutcome::Gone) };
    if let Some(done) = flags.iter().find(|f| marked(f)) {
        return Ok(ClaimOutcome::Lost { holder: done.clone() });
    }
    imap::store(session, duty.uid, &format!("+FLAGS.SILENT ({mark})"))
        .await
        .map_err(|e| crate::claims::keyword_limit(e, duty.folder, selected.keywords.len()))?;
    Ok(ClaimOutcome::Won)
}
