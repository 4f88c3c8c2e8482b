-- Each conversation's tags as the event log says (`domain::tags`): per conversation and
-- tag, the change that stands (the latest; at the same millisecond, removing), kept as
-- Tagged/Untagged events arrive. `tagged` 1: the conversation has the tag now.
CREATE TABLE conversation_tags (
    conversation TEXT    NOT NULL,
    tag          TEXT    NOT NULL,
    at_ms        INTEGER NOT NULL,
    tagged       INTEGER NOT NULL,
    PRIMARY KEY (conversation, tag)
) STRICT, WITHOUT ROWID;
