-- One row per claimed queue email. A claim is one INSERT ... ON CONFLICT DO NOTHING: the
-- primary key decides between racers. A release deletes the row; `version` comes from
-- one sequence, so every new owner of an email sees a higher number (a fencing token).
CREATE SEQUENCE blendesk.claim_versions;
GRANT USAGE ON SEQUENCE blendesk.claim_versions TO blendesk_advisor;

CREATE TABLE blendesk.claims (
    email_key text PRIMARY KEY CHECK (length(email_key) BETWEEN 1 AND 512),
    owner text NOT NULL REFERENCES blendesk.advisors (advisor),
    claimed_at timestamptz NOT NULL DEFAULT now(),
    version bigint NOT NULL DEFAULT nextval('blendesk.claim_versions')
);
CREATE INDEX claims_owner ON blendesk.claims (owner);
-- Column grants: an app names the email and the owner; the server stamps the rest.
GRANT SELECT, DELETE ON blendesk.claims TO blendesk_advisor;
GRANT INSERT (email_key, owner), UPDATE (owner) ON blendesk.claims TO blendesk_advisor;
ALTER TABLE blendesk.claims ENABLE ROW LEVEL SECURITY;
CREATE POLICY claims_read ON blendesk.claims FOR SELECT USING (true);
-- New claims only under one's own name (supervisors: anyone's, for hand-over and import).
CREATE POLICY claims_insert ON blendesk.claims FOR INSERT
    WITH CHECK (owner = blendesk.current_advisor() OR blendesk.is_supervisor());
-- An owner may hand their email to anyone (a transfer); the foreign key checks the name.
CREATE POLICY claims_update ON blendesk.claims FOR UPDATE
    USING (owner = blendesk.current_advisor() OR blendesk.is_supervisor())
    WITH CHECK (true);
CREATE POLICY claims_delete ON blendesk.claims FOR DELETE
    USING (owner = blendesk.current_advisor() OR blendesk.is_supervisor());
CREATE TRIGGER claims_notify AFTER INSERT OR UPDATE OR DELETE ON blendesk.claims
    FOR EACH ROW EXECUTE FUNCTION blendesk.notify_change();
-- Every new owner gets a new version and the server's time, whoever wrote the row: the
-- version is a fencing token no app can choose.
CREATE FUNCTION blendesk.stamp_claim() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.version := nextval('blendesk.claim_versions');
    NEW.claimed_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER claims_stamp BEFORE INSERT OR UPDATE ON blendesk.claims
    FOR EACH ROW EXECUTE FUNCTION blendesk.stamp_claim();

-- An advisor who released an email: their app does not take it back.
CREATE TABLE blendesk.declined (
    email_key text NOT NULL CHECK (length(email_key) BETWEEN 1 AND 512),
    advisor text NOT NULL REFERENCES blendesk.advisors (advisor),
    declined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (email_key, advisor)
);
GRANT SELECT, DELETE ON blendesk.declined TO blendesk_advisor;
GRANT INSERT (email_key, advisor) ON blendesk.declined TO blendesk_advisor;
ALTER TABLE blendesk.declined ENABLE ROW LEVEL SECURITY;
CREATE POLICY declined_read ON blendesk.declined FOR SELECT USING (true);
CREATE POLICY declined_write ON blendesk.declined FOR INSERT
    WITH CHECK (advisor = blendesk.current_advisor() OR blendesk.is_supervisor());
CREATE POLICY declined_delete ON blendesk.declined FOR DELETE
    USING (advisor = blendesk.current_advisor() OR blendesk.is_supervisor());

-- Team-wide duties (one acknowledgement per new conversation, one still-working note per
-- breach): the first holder keeps it.
CREATE TABLE blendesk.duties (
    kind text NOT NULL CHECK (kind ~ '^[a-z_]{1,32}$'),
    duty_key text NOT NULL CHECK (length(duty_key) BETWEEN 1 AND 512),
    holder text NOT NULL REFERENCES blendesk.advisors (advisor),
    taken_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, duty_key)
);
GRANT SELECT ON blendesk.duties TO blendesk_advisor;
GRANT INSERT (kind, duty_key, holder) ON blendesk.duties TO blendesk_advisor;
ALTER TABLE blendesk.duties ENABLE ROW LEVEL SECURITY;
CREATE POLICY duties_read ON blendesk.duties FOR SELECT USING (true);
CREATE POLICY duties_insert ON blendesk.duties FOR INSERT
    WITH CHECK (holder = blendesk.current_advisor());
CREATE TRIGGER duties_notify AFTER INSERT ON blendesk.duties
    FOR EACH ROW EXECUTE FUNCTION blendesk.notify_change();
