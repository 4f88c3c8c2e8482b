-- Group roles are cluster-wide: every team database shares them, so creating one that
-- exists (or that a concurrent migration is creating) is not an error.
DO $$
BEGIN
    BEGIN
        CREATE ROLE blendesk_advisor NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    BEGIN
        CREATE ROLE blendesk_supervisor NOLOGIN;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
END
$$;
-- Supervisors are advisors too: they inherit every advisor grant.
GRANT blendesk_advisor TO blendesk_supervisor;

GRANT USAGE ON SCHEMA blendesk TO blendesk_advisor;
-- Apps check the schema version at connect.
GRANT SELECT ON blendesk.migrations TO blendesk_advisor;

-- Which login role is which advisor. Written by the administrator only.
CREATE TABLE blendesk.advisors (
    advisor text PRIMARY KEY CHECK (advisor ~ '^[a-z0-9_]{1,32}$'),
    login name NOT NULL UNIQUE
);
GRANT SELECT ON blendesk.advisors TO blendesk_advisor;

-- The advisor the connected login role speaks for (NULL for anyone else). Row-level
-- security compares every written name with it.
CREATE FUNCTION blendesk.current_advisor() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT advisor FROM blendesk.advisors WHERE login = current_user $$;

CREATE FUNCTION blendesk.is_supervisor() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT pg_has_role(current_user, 'blendesk_supervisor', 'MEMBER') $$;

-- Every change other apps must hear about, as one NOTIFY per row on one channel. The
-- payload is the row without large documents (NOTIFY payloads stop at 8000 bytes).
CREATE FUNCTION blendesk.notify_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    r jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN r := to_jsonb(OLD); ELSE r := to_jsonb(NEW); END IF;
    PERFORM pg_notify('blendesk_changes',
        (jsonb_build_object('table', TG_TABLE_NAME, 'op', lower(TG_OP)) || (r - 'document'))::text);
    RETURN NULL;
END
$$;
