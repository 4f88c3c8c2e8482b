-- Handle time in the daily roll-ups: replies the window timed, and their time in total.
ALTER TABLE activity_days ADD COLUMN timed_replies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activity_days ADD COLUMN handle_ms INTEGER NOT NULL DEFAULT 0;
