-- Quality reviews are mirrored like the other shared documents: the kind list grows by
-- 'scorecard' (doc_id = its name) and 'review' (doc_id = the conversation reviewed).
-- SQLite cannot alter a CHECK, so the table is rebuilt; nothing references its rows.
CREATE TABLE doc_versions_new (
    id            INTEGER PRIMARY KEY,
    folder        TEXT    NOT NULL REFERENCES doc_folders(name) ON DELETE CASCADE,
    uid           INTEGER NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('article', 'tombstone', 'usage', 'template', 'draft', 'scorecard', 'review', 'invalid')),
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
INSERT INTO doc_versions_new SELECT * FROM doc_versions;
DROP TABLE doc_versions;
ALTER TABLE doc_versions_new RENAME TO doc_versions;
CREATE INDEX doc_versions_doc ON doc_versions(folder, kind, doc_id, uid);
