-- A team coordinated through PostgreSQL keeps owners and marks out of the mailbox. The
-- app copies them here (`coord_marks`), and they are merged into the mirrored flags of
-- their message, so every reader of `messages.flags` (claims, the window, the clocks)
-- sees one list whichever backend coordinates. The server's flags never carry them, so
-- each sync's write of the server's flags gets them merged back in (the triggers).
CREATE TABLE coord_marks (
    folder      TEXT    NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    flag        TEXT    NOT NULL,
    PRIMARY KEY (folder, uidvalidity, uid, flag)
) STRICT;

CREATE TRIGGER coord_marks_on_insert AFTER INSERT ON messages
WHEN EXISTS (SELECT 1 FROM coord_marks c JOIN folders f ON f.name = c.folder AND f.uidvalidity = c.uidvalidity
             WHERE f.id = new.folder_id AND c.uid = new.uid)
BEGIN
    UPDATE messages SET flags = (
        SELECT json_group_array(v) FROM (
            SELECT value AS v FROM json_each(new.flags)
            UNION
            SELECT c.flag FROM coord_marks c JOIN folders f ON f.name = c.folder AND f.uidvalidity = c.uidvalidity
            WHERE f.id = new.folder_id AND c.uid = new.uid))
    WHERE id = new.id;
END;

CREATE TRIGGER coord_marks_on_update AFTER UPDATE OF flags ON messages
WHEN EXISTS (SELECT 1 FROM coord_marks c JOIN folders f ON f.name = c.folder AND f.uidvalidity = c.uidvalidity
             WHERE f.id = new.folder_id AND c.uid = new.uid)
BEGIN
    UPDATE messages SET flags = (
        SELECT json_group_array(v) FROM (
            SELECT value AS v FROM json_each(new.flags)
            UNION
            SELECT c.flag FROM coord_marks c JOIN folders f ON f.name = c.folder AND f.uidvalidity = c.uidvalidity
            WHERE f.id = new.folder_id AND c.uid = new.uid))
    WHERE id = new.id;
END;

-- A first sync inserts a folder's messages before it records the folder's UIDVALIDITY:
-- marks that arrived meanwhile are merged in once it is known.
CREATE TRIGGER coord_marks_on_uidvalidity AFTER UPDATE OF uidvalidity ON folders
WHEN new.uidvalidity IS NOT old.uidvalidity
BEGIN
    UPDATE messages SET flags = flags
    WHERE folder_id = new.id
      AND uid IN (SELECT uid FROM coord_marks WHERE folder = new.name AND uidvalidity = new.uidvalidity);
END;
