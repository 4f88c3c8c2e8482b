-- A log of which message rows changed, numbered by a generation counter that moves on
-- every insert, update and delete, from any connection. Readers of whole-folder views
-- (the claim loop's queue heads: read many times a second by every app) keep their last
-- result and read again only the rows logged since. Readers prune the log; one that
-- falls behind the pruned point reads everything again.
CREATE TABLE messages_generation (
    n      INTEGER NOT NULL,
    pruned INTEGER NOT NULL
) STRICT;
INSERT INTO messages_generation (n, pruned) VALUES (0, 0);
CREATE TABLE messages_changes (
    id         INTEGER NOT NULL,
    generation INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_changes_generation ON messages_changes(generation);
CREATE TRIGGER messages_generation_insert AFTER INSERT ON messages BEGIN
    UPDATE messages_generation SET n = n + 1;
    INSERT INTO messages_changes (id, generation) SELECT new.id, n FROM messages_generation;
END;
CREATE TRIGGER messages_generation_update AFTER UPDATE ON messages BEGIN
    UPDATE messages_generation SET n = n + 1;
    INSERT INTO messages_changes (id, generation) SELECT new.id, n FROM messages_generation;
END;
CREATE TRIGGER messages_generation_delete AFTER DELETE ON messages BEGIN
    UPDATE messages_generation SET n = n + 1;
    INSERT INTO messages_changes (id, generation) SELECT old.id, n FROM messages_generation;
END;
