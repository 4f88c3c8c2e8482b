-- A heartbeat that changes nothing the others act on is not announced: every app reads
-- the whole board on its own heartbeat anyway, and announcing each one made every app
-- read the board on every other app's heartbeat (200 apps: ~8,000 reads a second). A
-- change of state or load still reaches everyone at once.
DROP TRIGGER presence_notify ON blendesk.presence;
CREATE TRIGGER presence_notify_insert AFTER INSERT ON blendesk.presence
    FOR EACH ROW EXECUTE FUNCTION blendesk.notify_change();
CREATE TRIGGER presence_notify_update AFTER UPDATE ON blendesk.presence
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.load IS DISTINCT FROM NEW.load)
    EXECUTE FUNCTION blendesk.notify_change();

-- A supervisor's approval of a template version is heard by every app at once (their
-- document mirror shows the template as approved without polling for it).
CREATE TRIGGER approvals_notify AFTER INSERT OR DELETE ON blendesk.template_approvals
    FOR EACH ROW EXECUTE FUNCTION blendesk.notify_change();
