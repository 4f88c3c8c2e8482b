-- Hold time in the daily roll-ups: the time customers spent on hold during calls (the
-- softphone's hold/resume events). Earlier events carry none: 0.
ALTER TABLE activity_days ADD COLUMN hold_ms INTEGER NOT NULL DEFAULT 0;
