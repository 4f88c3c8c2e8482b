-- Knowledge articles, templates and usage events: versions, never edits (the highest
-- version of a (kind, doc_id) is in force; a tombstone withdraws it). Knowledge is the
-- supervisors'; templates count once a supervisor approves a version.
CREATE TABLE blendesk.documents (
    version bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('knowledge', 'template', 'usage')),
    doc_id text NOT NULL CHECK (length(doc_id) BETWEEN 1 AND 200),
    document jsonb NOT NULL,
    tombstone boolean NOT NULL DEFAULT false,
    author text NOT NULL REFERENCES blendesk.advisors (advisor),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_by_id ON blendesk.documents (kind, doc_id, version DESC);
GRANT SELECT ON blendesk.documents TO blendesk_advisor;
GRANT INSERT (kind, doc_id, document, tombstone, author) ON blendesk.documents TO blendesk_advisor;
ALTER TABLE blendesk.documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY documents_read ON blendesk.documents FOR SELECT USING (true);
CREATE POLICY documents_insert ON blendesk.documents FOR INSERT
    WITH CHECK (author = blendesk.current_advisor() AND (kind <> 'knowledge' OR blendesk.is_supervisor()));
CREATE TRIGGER documents_notify AFTER INSERT ON blendesk.documents
    FOR EACH ROW EXECUTE FUNCTION blendesk.notify_change();

CREATE TABLE blendesk.template_approvals (
    version bigint NOT NULL REFERENCES blendesk.documents (version),
    supervisor text NOT NULL REFERENCES blendesk.advisors (advisor),
    approved_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (version, supervisor)
);
GRANT SELECT ON blendesk.template_approvals TO blendesk_advisor;
GRANT INSERT (version, supervisor) ON blendesk.template_approvals TO blendesk_advisor;
ALTER TABLE blendesk.template_approvals ENABLE ROW LEVEL SECURITY;
CREATE POLICY approvals_read ON blendesk.template_approvals FOR SELECT USING (true);
CREATE POLICY approvals_insert ON blendesk.template_approvals FOR INSERT
    WITH CHECK (blendesk.is_supervisor() AND supervisor = blendesk.current_advisor());

-- Each queue email's conversation token (merge and split write them).
CREATE TABLE blendesk.conversation_tokens (
    email_key text PRIMARY KEY CHECK (length(email_key) BETWEEN 1 AND 512),
    token bigint NOT NULL CHECK (token > 0),
    set_by text NOT NULL REFERENCES blendesk.advisors (advisor),
    set_at timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT ON blendesk.conversation_tokens TO blendesk_advisor;
GRANT INSERT (email_key, token, set_by), UPDATE (token, set_by, set_at) ON blendesk.conversation_tokens TO blendesk_advisor;
ALTER TABLE blendesk.conversation_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY tokens_read ON blendesk.conversation_tokens FOR SELECT USING (true);
CREATE POLICY tokens_insert ON blendesk.conversation_tokens FOR INSERT
    WITH CHECK (set_by = blendesk.current_advisor());
CREATE POLICY tokens_update ON blendesk.conversation_tokens FOR UPDATE
    USING (true) WITH CHECK (set_by = blendesk.current_advisor());
CREATE TRIGGER tokens_notify AFTER INSERT OR UPDATE ON blendesk.conversation_tokens
    FOR EACH ROW EXECUTE FUNCTION blendesk.notify_change();

-- Append-only: an event id is recorded once (a retry is a no-op), never changed.
CREATE TABLE blendesk.events (
    event_id text PRIMARY KEY CHECK (length(event_id) BETWEEN 1 AND 100),
    kind text NOT NULL CHECK (kind ~ '^[a-z_]{1,32}$'),
    advisor text NOT NULL REFERENCES blendesk.advisors (advisor),
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    body jsonb NOT NULL DEFAULT '{}'
);
GRANT SELECT ON blendesk.events TO blendesk_advisor;
GRANT INSERT (event_id, kind, advisor, occurred_at, body) ON blendesk.events TO blendesk_advisor;
ALTER TABLE blendesk.events ENABLE ROW LEVEL SECURITY;
CREATE POLICY events_read ON blendesk.events FOR SELECT USING (true);
CREATE POLICY events_insert ON blendesk.events FOR INSERT
    WITH CHECK (advisor = blendesk.current_advisor());
-- Even the table's owner cannot rewrite history by accident.
CREATE FUNCTION blendesk.events_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'blendesk.events is append-only' USING ERRCODE = '42501'; END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON blendesk.events
    FOR EACH ROW EXECUTE FUNCTION blendesk.events_append_only();
