-- messages.id is the handle the window and the CLI use (`send_reply(message)`), but the
-- table has no AUTOINCREMENT: SQLite gives a new row max(id) + 1, so the id of a deleted
-- newest row came back for the next message, and a reply could thread onto it. New rows
-- take their id from this high-water mark instead (store/mirror.rs `insert_one`), which
-- only grows. (Rebuilding the table with AUTOINCREMENT would cascade-delete the rows
-- that reference it: foreign keys cannot be switched off inside a migration.)
CREATE TABLE messages_id_high (
    n INTEGER NOT NULL
) STRICT;
INSERT INTO messages_id_high (n) SELECT coalesce(max(id), 0) FROM messages;
CREATE TRIGGER messages_id_high_insert AFTER INSERT ON messages BEGIN
    UPDATE messages_id_high SET n = max(n, new.id);
END;
