-- Shared documents mirrored from the mailbox (Blendesk/Knowledge, Blendesk/Templates),
-- the knowledge index, and what the customer history needs: every address a message
-- names (indexed), Reply-To, and addresses linked by hand.

-- One row per document folder: what was last seen on the server.
CREATE TABLE doc_folders (
    name          TEXT    PRIMARY KEY,
    uidvalidity   INTEGER NOT NULL DEFAULT 0,
    highestmodseq INTEGER NOT NULL DEFAULT 0,
    uidnext       INTEGER NOT NULL DEFAULT 0
) STRICT;

-- One row per message (version) in a document folder. kind: article | tombstone |
-- usage | template | invalid (with the reason in `problem`, shown by `list`).
CREATE TABLE doc_versions (
    id            INTEGER PRIMARY KEY,
    folder        TEXT    NOT NULL REFERENCES doc_folders(name) ON DELETE CASCADE,
    uid           INTEGER NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('article', 'tombstone', 'usage', 'template', 'invalid')),
    doc_id        TEXT    NOT NULL DEFAULT '',
    title         TEXT    NOT NULL DEFAULT '',
    tags          TEXT    NOT NULL DEFAULT '[]',
    queue         TEXT    NOT NULL DEFAULT '',
    language      TEXT    NOT NULL DEFAULT '',
    footer        INTEGER NOT NULL DEFAULT 0,
    body          TEXT    NOT NULL DEFAULT '',
    author        TEXT    NOT NULL DEFAULT '',
    problem       TEXT    NOT NULL DEFAULT '',
    internal_date INTEGER NOT NULL DEFAULT 0,
    flags         TEXT    NOT NULL DEFAULT '[]',
    UNIQUE (folder, uid)
) STRICT;
CREATE INDEX doc_versions_doc ON doc_versions(folder, kind, doc_id, uid);

-- The articles in force: per article id the newest article or tombstone version not
-- flagged \Deleted; absent when that is a tombstone. id = doc_versions.id = FTS rowid.
CREATE TABLE kb_articles (
    id         INTEGER PRIMARY KEY,
    article_id TEXT    NOT NULL UNIQUE,
    title      TEXT    NOT NULL,
    tags       TEXT    NOT NULL DEFAULT '[]',
    body       TEXT    NOT NULL,
    author     TEXT    NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE VIRTUAL TABLE kb_fts USING fts5(
    title, tags, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Every address a mirrored message names (From, To, Cc, Reply-To), lowercased: the
-- customer history looks a customer up here instead of scanning JSON columns.
CREATE TABLE message_addresses (
    address     TEXT    NOT NULL,
    message_ref INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (address, message_ref)
) STRICT, WITHOUT ROWID;
CREATE INDEX message_addresses_message ON message_addresses(message_ref);

ALTER TABLE messages ADD COLUMN reply_to TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_reply_to ON messages(reply_to) WHERE reply_to != '';

INSERT OR IGNORE INTO message_addresses (address, message_ref)
    SELECT lower(from_addr), id FROM messages WHERE from_addr != '';
INSERT OR IGNORE INTO message_addresses (address, message_ref)
    SELECT lower(j.value), m.id FROM messages m, json_each(m.to_addrs) j
    WHERE json_valid(m.to_addrs) AND j.value != '';
INSERT OR IGNORE INTO message_addresses (address, message_ref)
    SELECT lower(j.value), m.id FROM messages m, json_each(m.cc_addrs) j
    WHERE json_valid(m.cc_addrs) AND j.value != '';

-- Two addresses an advisor said are the same customer (kept on this machine; one row
-- per direction).
CREATE TABLE customer_links (
    address    TEXT    NOT NULL,
    alias      TEXT    NOT NULL,
    created_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (address, alias)
) STRICT;
