-- "Come back later": this advisor's parked conversations, by customer. Local to the
-- advisor's app (parking is a personal to-do, not a team fact) and kept across restarts.
CREATE TABLE parked (
    customer     TEXT PRIMARY KEY NOT NULL,
    return_at_ms INTEGER NOT NULL
) STRICT;
