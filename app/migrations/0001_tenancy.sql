-- Tenancy: organizations own projects; every tenant row carries org_id (and project_id where
-- it is scoped to a project). Row-level security is ENABLED and FORCED on every tenant table,
-- with one policy reading the tenant the app sets per transaction:
--   set_config('app.org_id', ..., true), set_config('app.project_id', ..., true)
-- Unset or empty settings match nothing. The app runs as app_runtime, which is not a
-- superuser, does not bypass RLS and owns no table (migrations run as the owner).

-- Roles are cluster-wide. Where the database owner may not create roles (CloudNativePG's initdb
-- owner), the cluster makes app_runtime first (its managed roles) and this leaves it be: the
-- privilege check of CREATE ROLE comes before its duplicate check, so it must not even run.
-- Several databases may migrate at once, so one created concurrently is fine.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app_runtime') THEN
        CREATE ROLE app_runtime NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

CREATE TABLE organizations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9-]{0,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status      text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'COMMITTED', 'FAILED')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projects (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name),
    -- Lets children reference (project, org) together: a row can never point across tenants.
    UNIQUE (id, org_id)
);

CREATE TABLE users (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- Guest identities only: guest-NNNN, no personal data.
    user_key    text NOT NULL CHECK (user_key ~ '^guest-[0-9]{4,}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, user_key),
    UNIQUE (id, org_id)
);

CREATE TABLE project_members (
    org_id      uuid NOT NULL,
    project_id  uuid NOT NULL,
    user_id     uuid NOT NULL,
    role        text NOT NULL CHECK (role IN ('owner', 'member')),
    PRIMARY KEY (project_id, user_id),
    FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, org_id) REFERENCES users (id, org_id) ON DELETE CASCADE
);

CREATE TABLE chat_sessions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL,
    project_id  uuid NOT NULL,
    user_id     uuid NOT NULL,
    opened_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    closed_at   timestamptz,
    FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (user_id, org_id) REFERENCES users (id, org_id) ON DELETE CASCADE
);
CREATE INDEX chat_sessions_active ON chat_sessions (project_id, user_id, opened_at) WHERE closed_at IS NULL;

-- Anonymous aggregates only; no message is ever stored.
CREATE TABLE chat_counters (
    org_id      uuid NOT NULL,
    project_id  uuid NOT NULL,
    metric      text NOT NULL CHECK (length(metric) BETWEEN 1 AND 64),
    value       bigint NOT NULL DEFAULT 0 CHECK (value >= 0),
    PRIMARY KEY (project_id, metric),
    FOREIGN KEY (project_id, org_id) REFERENCES projects (id, org_id) ON DELETE CASCADE
);

CREATE TABLE service_configs (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    scope       text NOT NULL DEFAULT 'service' CHECK (scope IN ('service', 'project')),
    key         text NOT NULL CHECK (key ~ '^[a-z][a-z0-9._-]{0,127}$'),
    value_json  jsonb NOT NULL,
    version     bigint NOT NULL CHECK (version > 0),
    updated_by  text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, key)
);

-- Append-only audit of every config change.
CREATE TABLE config_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    key         text NOT NULL,
    old_json    jsonb,
    new_json    jsonb NOT NULL,
    version     bigint NOT NULL,
    actor       text NOT NULL,
    reason      text NOT NULL,
    ts          timestamptz NOT NULL DEFAULT now()
);

-- One policy per table; USING and WITH CHECK alike, so a row can be neither seen nor written
-- (nor moved) outside the current tenant.
CREATE POLICY tenant_isolation ON organizations
    USING (id = NULLIF(current_setting('app.org_id', true), '')::uuid)
    WITH CHECK (id = NULLIF(current_setting('app.org_id', true), '')::uuid);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['projects', 'users', 'project_members', 'service_configs', 'config_history'] LOOP
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I
                 USING (org_id = NULLIF(current_setting(''app.org_id'', true), '''')::uuid)
                 WITH CHECK (org_id = NULLIF(current_setting(''app.org_id'', true), '''')::uuid)', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['chat_sessions', 'chat_counters'] LOOP
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I
                 USING (org_id = NULLIF(current_setting(''app.org_id'', true), '''')::uuid
                        AND project_id = NULLIF(current_setting(''app.project_id'', true), '''')::uuid)
                 WITH CHECK (org_id = NULLIF(current_setting(''app.org_id'', true), '''')::uuid
                        AND project_id = NULLIF(current_setting(''app.project_id'', true), '''')::uuid)', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['organizations', 'projects', 'users', 'project_members', 'chat_sessions',
                             'chat_counters', 'service_configs', 'config_history'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO app_runtime', t);
    END LOOP;
END
$$;

-- config_history is append-only, for the app too.
REVOKE UPDATE, DELETE ON config_history FROM app_runtime;
GRANT USAGE ON SCHEMA public TO app_runtime;
