-- The automatic-acknowledgement verdict for each mirrored message, computed from its
-- headers at sync time (RFC 3834 rules): 'acknowledge', 'skip:<reason>', or '' when
-- not decided (mirrored before this migration, or not a queue message).
ALTER TABLE messages ADD COLUMN ack_decision TEXT NOT NULL DEFAULT '';
