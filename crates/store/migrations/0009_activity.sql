-- Who did what (`domain::activity`). `activity`: this app's own events, committed here
-- first; `batch` is set (durably) before a batch is appended to the mailbox and
-- `appended` after, so a batch keeps its composition and Message-ID across a crash.
CREATE TABLE activity (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms    INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    batch    INTEGER,
    appended INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX activity_pending ON activity(appended, batch, seq);

-- The team's events as read from Blendesk/Events/<advisor>: each id once.
CREATE TABLE team_activity (
    id      TEXT    PRIMARY KEY,
    advisor TEXT    NOT NULL,
    at_ms   INTEGER NOT NULL,
    json    TEXT    NOT NULL
) STRICT;
CREATE INDEX team_activity_at ON team_activity(at_ms);

-- How far each advisor's events folder has been read.
CREATE TABLE activity_folders (
    name        TEXT    PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    last_uid    INTEGER NOT NULL
) STRICT;
