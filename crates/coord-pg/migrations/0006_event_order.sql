-- The order events were recorded in, so apps read the log on from where they stopped
-- (`events_since`). A sequence number is taken at insert, not at commit: readers look
-- back a margin past their last number, and the event id keeps each event once.
ALTER TABLE blendesk.events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE UNIQUE INDEX events_by_seq ON blendesk.events (seq);
