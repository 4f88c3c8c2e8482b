-- One row per advisor; `heartbeat` is the server's clock, so advisors' clocks need not agree.
CREATE TABLE blendesk.presence (
    advisor text PRIMARY KEY REFERENCES blendesk.advisors (advisor),
    state text NOT NULL CHECK (state ~ '^[a-z_]{1,32}$'),
    load integer NOT NULL CHECK (load >= 0),
    heartbeat timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON blendesk.presence TO blendesk_advisor;
GRANT INSERT (advisor, state, load), UPDATE (state, load) ON blendesk.presence TO blendesk_advisor;
ALTER TABLE blendesk.presence ENABLE ROW LEVEL SECURITY;
CREATE POLICY presence_read ON blendesk.presence FOR SELECT USING (true);
CREATE POLICY presence_insert ON blendesk.presence FOR INSERT
    WITH CHECK (advisor = blendesk.current_advisor());
CREATE POLICY presence_update ON blendesk.presence FOR UPDATE
    USING (advisor = blendesk.current_advisor())
    WITH CHECK (advisor = blendesk.current_advisor());
CREATE TRIGGER presence_notify AFTER INSERT OR UPDATE ON blendesk.presence
    FOR EACH ROW EXECUTE FUNCTION blendesk.notify_change();
-- The heartbeat is the server's time on every write: no app can look alive into the future.
CREATE FUNCTION blendesk.stamp_heartbeat() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN NEW.heartbeat := now(); RETURN NEW; END $$;
CREATE TRIGGER presence_stamp BEFORE INSERT OR UPDATE ON blendesk.presence
    FOR EACH ROW EXECUTE FUNCTION blendesk.stamp_heartbeat();

-- Versions, never edits: the highest version is the policy. Advisors may read it; the
-- insert grant is the group's, and row-level security admits supervisors only, so an
-- advisor's attempt fails in the database (SQLSTATE 42501). Nobody may UPDATE or DELETE.
CREATE TABLE blendesk.policy (
    version bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document jsonb NOT NULL CHECK (jsonb_typeof(document) = 'object'),
    published_by text NOT NULL REFERENCES blendesk.advisors (advisor),
    published_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON blendesk.policy TO blendesk_advisor;
GRANT INSERT (document, published_by) ON blendesk.policy TO blendesk_advisor;
ALTER TABLE blendesk.policy ENABLE ROW LEVEL SECURITY;
CREATE POLICY policy_read ON blendesk.policy FOR SELECT USING (true);
CREATE POLICY policy_insert ON blendesk.policy FOR INSERT
    WITH CHECK (blendesk.is_supervisor() AND published_by = blendesk.current_advisor());
CREATE TRIGGER policy_notify AFTER INSERT ON blendesk.policy
    FOR EACH ROW EXECUTE FUNCTION blendesk.notify_change();
