-- Project polls, created from the canned templates in the org's `chat.poll_templates` config.
-- Votes are counted in chat_counters (metric `poll:<poll id>:<choice>`); who voted is not kept.
CREATE TABLE chat_polls (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL,
    project_id  uuid NOT NULL,
    template    text NOT NULL CHECK (template ~ '^[a-z][a-z0-9_-]{0,39}$'),
    question    text NOT NULL CHECK (length(question) BETWEEN 1 AND 200),
    choices     jsonb NOT NULL CHECK (jsonb_typeof(choices) = 'array'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE
);
CREATE POLICY tenant_isolation ON chat_polls
    USING (org_id = NULLIF(current_setting('app.org_id', true), '')::uuid
           AND project_id = NULLIF(current_setting('app.project_id', true), '')::uuid)
    WITH CHECK (org_id = NULLIF(current_setting('app.org_id', true), '')::uuid
           AND project_id = NULLIF(current_setting('app.project_id', true), '')::uuid);
ALTER TABLE chat_polls ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat_polls FORCE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON chat_polls TO app_runtime;

-- Metric names are canned: an action, `poll:<uuid>:<choice>`, or `_seq` (the project's
-- counter sequence). Free text cannot land here.
ALTER TABLE chat_counters ADD CONSTRAINT chat_counters_canned_metric CHECK (
    metric IN ('_seq', 'thumbs_up', 'thumbs_down', 'ready', 'blocked', 'review', 'deployed', 'tests_green')
    OR metric ~ '^poll:[0-9a-f-]{36}:[a-z0-9_-]{1,40}$'
);
