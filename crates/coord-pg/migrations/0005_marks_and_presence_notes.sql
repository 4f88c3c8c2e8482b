-- What the mailbox backend keeps as fixed keywords on a queue email ($Resolved,
-- $bd_breached, the duty marks $bd_ack / $bd_late, conversation-token bits): with
-- PostgreSQL they are rows, so the mailbox never holds a keyword. Anyone on the team may
-- set or clear a mark (as on the mailbox), each row names who set it.
CREATE TABLE blendesk.marks (
    email_key text NOT NULL CHECK (length(email_key) BETWEEN 1 AND 512),
    mark text NOT NULL CHECK (mark ~ '^\$[A-Za-z0-9_]{1,48}$'),
    set_by text NOT NULL REFERENCES blendesk.advisors (advisor),
    set_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (email_key, mark)
);
GRANT SELECT, DELETE ON blendesk.marks TO blendesk_advisor;
GRANT INSERT (email_key, mark, set_by) ON blendesk.marks TO blendesk_advisor;
ALTER TABLE blendesk.marks ENABLE ROW LEVEL SECURITY;
CREATE POLICY marks_read ON blendesk.marks FOR SELECT USING (true);
CREATE POLICY marks_insert ON blendesk.marks FOR INSERT
    WITH CHECK (set_by = blendesk.current_advisor());
CREATE POLICY marks_delete ON blendesk.marks FOR DELETE USING (true);
CREATE TRIGGER marks_notify AFTER INSERT OR DELETE ON blendesk.marks
    FOR EACH ROW EXECUTE FUNCTION blendesk.notify_change();

-- A release is heard by the other apps too (they may take the email now).
CREATE TRIGGER declined_notify AFTER INSERT OR DELETE ON blendesk.declined
    FOR EACH ROW EXECUTE FUNCTION blendesk.notify_change();

-- The whole presence note (state, load, cap, since, today's figures) beside the columns
-- the database checks; the notification leaves it out (it can be large), readers fetch it.
ALTER TABLE blendesk.presence ADD COLUMN note jsonb CHECK (note IS NULL OR jsonb_typeof(note) = 'object');
GRANT INSERT (note), UPDATE (note) ON blendesk.presence TO blendesk_advisor;
CREATE OR REPLACE FUNCTION blendesk.notify_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    r jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN r := to_jsonb(OLD); ELSE r := to_jsonb(NEW); END IF;
    PERFORM pg_notify('blendesk_changes',
        (jsonb_build_object('table', TG_TABLE_NAME, 'op', lower(TG_OP)) || (r - 'document' - 'note'))::text);
    RETURN NULL;
END
$$;

-- Taking over an offline advisor's email: anyone may move it to themselves, and only to
-- themselves, once the owner's app has been silent 15 s (three missed heartbeats of 5 s);
-- the apps add the policy's grace on top. The database checks the silence on its own
-- clock. A function, not an UPDATE policy: permissive policies' checks are OR-ed, so a
-- policy would let a taker hand the email to anyone. It runs as its owner and names the
-- caller by the login (`session_user`). An owner whose app never sent a heartbeat
-- (imported claims) is left to a supervisor's transfer.
CREATE FUNCTION blendesk.take_over(key text, gone text) RETURNS bigint
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
    UPDATE blendesk.claims SET owner = (SELECT a.advisor FROM blendesk.advisors a WHERE a.login = session_user)
    WHERE email_key = key AND owner = gone
      AND EXISTS (SELECT 1 FROM blendesk.advisors a WHERE a.login = session_user)
      AND EXISTS (SELECT 1 FROM blendesk.presence p WHERE p.advisor = gone AND p.heartbeat <= now() - interval '15 seconds')
    RETURNING version
$$;
REVOKE ALL ON FUNCTION blendesk.take_over(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION blendesk.take_over(text, text) TO blendesk_advisor;
