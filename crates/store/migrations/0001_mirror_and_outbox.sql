-- The mailbox mirror, its search index, and the durable outbox.

CREATE TABLE folders (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    uidvalidity   INTEGER NOT NULL DEFAULT 0,
    highestmodseq INTEGER NOT NULL DEFAULT 0,
    last_sync_at  INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    folder_id       INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    uid             INTEGER NOT NULL,
    identity        TEXT    NOT NULL,
    message_id      TEXT,
    in_reply_to     TEXT,
    refs            TEXT    NOT NULL DEFAULT '[]',
    subject         TEXT    NOT NULL DEFAULT '',
    from_addr       TEXT    NOT NULL DEFAULT '',
    from_name       TEXT    NOT NULL DEFAULT '',
    to_addrs        TEXT    NOT NULL DEFAULT '[]',
    cc_addrs        TEXT    NOT NULL DEFAULT '[]',
    sent_at         INTEGER,
    internal_date   INTEGER NOT NULL DEFAULT 0,
    size            INTEGER NOT NULL DEFAULT 0,
    flags           TEXT    NOT NULL DEFAULT '[]',
    modseq          INTEGER NOT NULL DEFAULT 0,
    body_state      TEXT    NOT NULL DEFAULT 'full'
                    CHECK (body_state IN ('full', 'headers_only', 'raw_only')),
    body_text       TEXT    NOT NULL DEFAULT '',
    body_html       TEXT,
    parse_note      TEXT,
    has_attachments INTEGER NOT NULL DEFAULT 0,
    UNIQUE (folder_id, uid)
) STRICT;
CREATE INDEX messages_identity ON messages(identity);
CREATE INDEX messages_sender ON messages(from_addr, internal_date);
CREATE INDEX messages_message_id ON messages(message_id);

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    message_ref  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    part         INTEGER NOT NULL,
    filename     TEXT    NOT NULL DEFAULT '',
    content_type TEXT    NOT NULL DEFAULT 'application/octet-stream',
    size         INTEGER NOT NULL DEFAULT 0,
    content_id   TEXT
) STRICT;
CREATE INDEX attachments_message ON attachments(message_ref);

-- Contentless: the text lives in `messages`; rowid = messages.id.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    subject, sender, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    message_id       TEXT    NOT NULL UNIQUE,
    recipients       TEXT    NOT NULL,
    sender           TEXT    NOT NULL,
    raw              BLOB    NOT NULL,
    state            TEXT    NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER,
    -- The message being answered, to flag it \Answered: (folder, uidvalidity, uid).
    answers_folder   TEXT,
    answers_uidvalidity INTEGER,
    answers_uid      INTEGER,
    answers_message_id TEXT,
    appended_to_sent INTEGER NOT NULL DEFAULT 0,
    flagged_answered INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
