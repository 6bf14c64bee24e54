-- Bounded growth: what a tenant adds is capped by quotas (checked in the app) or trimmed.

-- Counting an org's live guests and finding its expired ones without a scan.
CREATE INDEX users_by_org_created ON users (org_id, created_at);
-- A user's closed chat sessions in a project, newest first, for trimming on open.
CREATE INDEX chat_sessions_closed ON chat_sessions (project_id, user_id, closed_at DESC) WHERE closed_at IS NOT NULL;
-- A project's polls newest first: snapshots carry the newest, the poll list pages by them.
CREATE INDEX chat_polls_by_project_created ON chat_polls (project_id, created_at DESC, id DESC);

-- A key's history newest first: what the history endpoint reads and the trim keeps.
CREATE INDEX config_history_by_key ON config_history (org_id, key, version DESC, id DESC);

-- config_history stays append-only for the app; this trims the current tenant's history of
-- one key to its newest `keep` changes, and nothing else. It runs as the owner, for whom the
-- table's tenant policy still applies (RLS is forced), and names the tenant's org itself.
CREATE FUNCTION app_trim_config_history(p_key text, p_keep integer) RETURNS bigint
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    WITH gone AS (
        DELETE FROM public.config_history
         WHERE id IN (SELECT id FROM public.config_history
                       WHERE org_id = NULLIF(current_setting('app.org_id', true), '')::uuid AND key = p_key
                       ORDER BY version DESC, id DESC OFFSET greatest(p_keep, 1))
        RETURNING 1)
    SELECT count(*) FROM gone
$$;
REVOKE ALL ON FUNCTION app_trim_config_history(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_trim_config_history(text, integer) TO app_runtime;
