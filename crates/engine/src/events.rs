//! What the engine reports to the desktop, the CLI and the tests. Tests wait on these
//! events instead of sleeping.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(rename = "EngineEvent")]
pub enum Event {
    /// Initial or catch-up sync of a folder: `done` of `total` new messages mirrored.
    SyncProgress {
        folder: String,
        done: u64,
        total: u64,
    },
    SyncFinished {
        folder: String,
        new: u64,
        messages: u64,
    },
    /// A new message is in the mirror.
    MessageArrived {
        folder: String,
        id: i64,
        uid: u32,
        message_id: Option<String>,
        subject: String,
        from: String,
    },
    MessagesExpunged {
        folder: String,
        count: u64,
    },
    FlagsChanged {
        folder: String,
        count: u64,
    },
    /// The folder's UIDVALIDITY changed and its cache was rebuilt by Message-ID.
    FolderRebuilt {
        folder: String,
        kept: u64,
        dropped: u64,
    },
    Connection {
        folder: String,
        state: ConnectionState,
        detail: Option<String>,
    },
    Outbox {
        id: i64,
        state: String,
        error: Option<String>,
    },
    /// The advisor's state changed (available, on_call, wrap_up, away, offline).
    AdvisorState {
        state: String,
        at_ms: i64,
    },
    /// This advisor won the claim on an email.
    /// `load` and `cap` are the advisor's at the moment of the claim (before it).
    /// `load` is the advisor's open conversations before the claim; `joins` is true when
    /// the email joined one of them (a chaser), which the cap does not limit.
    Claimed {
        folder: String,
        uid: u32,
        id: i64,
        message_id: Option<String>,
        at_ms: i64,
        load: u32,
        cap: u32,
        joins: bool,
        state: String,
    },
    /// An email carried two or more owner keywords (a server that let two claims
    /// through, a restore, an old version): this app settled it by the domain's rule
    /// (`claim::settle_owners`), keeping `kept` and removing `removed`.
    OwnersSettled {
        folder: String,
        uid: u32,
        id: i64,
        kept: String,
        removed: Vec<String>,
    },
    /// This app sent (queued) the team's one acknowledgement for a new conversation.
    Acknowledged {
        folder: String,
        uid: u32,
        to: String,
        outbox_id: i64,
    },
    /// Too many automatic messages in a short time: automatic mail stopped. Supervisors
    /// must look (a loop or a flood).
    BreakerTripped {
        acknowledgements: u64,
        window_minutes: u64,
    },
    /// A conversation's SLA breached: this app marked it `$bd_breached` on the server
    /// (every app's supervisor view shows it). `due_ms` is when the reply was due.
    SlaBreached {
        folder: String,
        uid: u32,
        customer: String,
        due_ms: i64,
    },
    /// This app sent (queued) the team's one "still working on it" note for a breach.
    StillWorkingSent {
        folder: String,
        uid: u32,
        to: String,
        outbox_id: i64,
    },
    /// This app queued the satisfaction survey for a resolved conversation.
    SurveySent {
        folder: String,
        uid: u32,
        to: String,
        outbox_id: i64,
    },
    /// This app filed a customer's survey answer in Blendesk/Surveys.
    SurveyAnswered {
        from: String,
        rating: Option<u8>,
        resolved: Option<bool>,
    },
    /// An email of this advisor's went back to the queue during a long call
    /// (`hand_back`); the window shows the notice after the call.
    HandedBack {
        notice: Notice,
    },
    /// New events of the team's (`activity.rs`) were read from the mailbox: figures built
    /// on them ("My day") changed.
    TeamActivity {
        new: u64,
    },
    /// A new supervisor policy (the message's UID in Blendesk/Policy) is in force.
    PolicyChanged {
        uid: u32,
    },
    /// The runtime started these tasks (`runtime::Task`, in start order).
    RuntimeStarted {
        mode: Mode,
        tasks: Vec<String>,
    },
}

/// Something the advisor should know that happened while they could not look: shown
/// after the call, until dismissed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Notice {
    /// Unique within this app's run.
    pub id: u32,
    /// `handed_back`: an email went back to the queue during the call.
    pub kind: String,
    /// The conversation's key and customer, and its subject.
    pub key: String,
    pub customer: String,
    pub subject: String,
    /// When its reply was due (unix milliseconds).
    pub due_at_ms: i64,
    /// The advisor's draft went with it.
    pub draft_sent: bool,
    pub at_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    Online,
    /// Waiting to reconnect after a failure; `detail` says why.
    Offline,
    /// The OAuth2 sign-in was revoked or expired: no more attempts until the advisor
    /// signs in again (`detail` says why).
    SignInNeeded,
}

/// How the team coordinates, which decides the runtime's task list (`runtime::plan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Claims through the mailbox's compare-and-swap, presence, team duties.
    Team,
    /// One advisor alone: no claims, no presence; Sent is watched beside the queues.
    Solo,
}
