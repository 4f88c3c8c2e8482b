-- Indexes of the event log for the paths that ask by key, filled as events arrive (the
-- team's as read back, and this app's own when recorded) so a report, the analytics
-- poll, the survey pass and the review form never parse the whole log.
-- When each email was resolved, by the Message-ID resolved through; a time once.
CREATE TABLE activity_resolutions (
    message_id TEXT    NOT NULL,
    at_ms      INTEGER NOT NULL,
    PRIMARY KEY (message_id, at_ms)
) STRICT, WITHOUT ROWID;
CREATE INDEX activity_resolutions_at ON activity_resolutions(at_ms);

-- Each reply's template or article use (`Replied.assisted`: 1, 0 or NULL when unknown),
-- by the Message-ID it answered.
CREATE TABLE activity_replies (
    message_id TEXT    NOT NULL,
    at_ms      INTEGER NOT NULL,
    assisted   INTEGER,
    PRIMARY KEY (message_id, at_ms)
) STRICT, WITHOUT ROWID;

-- The event's kind beside its JSON, so the contacts behind first-contact resolution
-- (calls, linked numbers) are read without the rest of the log.
ALTER TABLE team_activity ADD COLUMN kind TEXT;
UPDATE team_activity SET kind = json_extract(json, '$.kind') WHERE json_valid(json);
CREATE INDEX team_activity_kind ON team_activity(kind, at_ms);

-- Events already kept (the team's, and this app's own).
INSERT OR IGNORE INTO activity_resolutions (message_id, at_ms)
SELECT json_extract(json, '$.message_id'), at_ms FROM team_activity
WHERE kind = 'resolved' AND json_type(json, '$.message_id') = 'text'
UNION ALL
SELECT json_extract(kind, '$.message_id'), at_ms FROM activity
WHERE json_valid(kind) AND json_extract(kind, '$.kind') = 'resolved' AND json_type(kind, '$.message_id') = 'text';

INSERT OR IGNORE INTO activity_replies (message_id, at_ms, assisted)
SELECT json_extract(json, '$.message_id'), at_ms, json_extract(json, '$.assisted') FROM team_activity
WHERE kind = 'replied' AND json_type(json, '$.message_id') = 'text'
UNION ALL
SELECT json_extract(kind, '$.message_id'), at_ms, json_extract(kind, '$.assisted') FROM activity
WHERE json_valid(kind) AND json_extract(kind, '$.kind') = 'replied' AND json_type(kind, '$.message_id') = 'text';
