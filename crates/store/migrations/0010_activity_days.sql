-- Daily roll-ups of the team's events (`domain::activity::DayFigures` per UTC day and
-- advisor), kept as events arrive, so a month or a year of history is a few thousand
-- rows instead of millions of events. Raw events stay in `team_activity` for drill-down.
CREATE TABLE activity_days (
    day         TEXT    NOT NULL,
    advisor     TEXT    NOT NULL,
    claimed     INTEGER NOT NULL DEFAULT 0,
    replied     INTEGER NOT NULL DEFAULT 0,
    resolved    INTEGER NOT NULL DEFAULT 0,
    released    INTEGER NOT NULL DEFAULT 0,
    handed_back INTEGER NOT NULL DEFAULT 0,
    transferred INTEGER NOT NULL DEFAULT 0,
    calls       INTEGER NOT NULL DEFAULT 0,
    talk_ms     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, advisor)
) STRICT, WITHOUT ROWID;

-- Events already read (the log came one version earlier).
INSERT INTO activity_days
SELECT date(at_ms / 1000, 'unixepoch'), advisor,
       sum(k = 'claimed'), sum(k = 'replied'), sum(k = 'resolved'), sum(k = 'released'),
       sum(k = 'handed_back'), sum(k = 'transferred'), sum(k = 'call'),
       sum(CASE WHEN k = 'call' THEN max(coalesce(json_extract(json, '$.talk_ms'), 0), 0) ELSE 0 END)
FROM (SELECT at_ms, advisor, json, json_extract(json, '$.kind') AS k FROM team_activity WHERE json_valid(json))
GROUP BY 1, 2;
