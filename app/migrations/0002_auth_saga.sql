-- Guest sign-in, the org creation saga and idempotent POSTs.

-- A guest's role in its org; guests are numbered per org (guest-0001, ...).
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member'));
ALTER TABLE organizations ADD COLUMN guest_seq integer NOT NULL DEFAULT 0;

-- The saga's progress. `lease_until` says how long the replica driving the saga owns it; the
-- recovery loop takes over PENDING orgs whose lease ran out (the driver crashed).
ALTER TABLE organizations
    ADD COLUMN saga_step text NOT NULL DEFAULT 'created'
        CHECK (saga_step IN ('created', 'defaults_applied', 'isolated', 'committed', 'compensated')),
    ADD COLUMN lease_until timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN failure text;

-- A FAILED org gives its slug back, so the admin can try again.
ALTER TABLE organizations DROP CONSTRAINT organizations_slug_key;
CREATE UNIQUE INDEX organizations_live_slug ON organizations (slug) WHERE status <> 'FAILED';

-- Invite codes: only a hash of the secret is stored. The code itself names its org, so
-- redeeming one never needs to look across tenants.
CREATE TABLE invites (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    secret_sha256  bytea NOT NULL UNIQUE CHECK (length(secret_sha256) = 32),
    role           text NOT NULL CHECK (role IN ('admin', 'member')),
    uses_left      integer NOT NULL CHECK (uses_left >= 0),
    expires_at     timestamptz NOT NULL,
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE POLICY tenant_isolation ON invites
    USING (org_id = NULLIF(current_setting('app.org_id', true), '')::uuid)
    WITH CHECK (org_id = NULLIF(current_setting('app.org_id', true), '')::uuid);
ALTER TABLE invites ENABLE ROW LEVEL SECURITY;
ALTER TABLE invites FORCE ROW LEVEL SECURITY;
GRANT SELECT, INSERT, UPDATE, DELETE ON invites TO app_runtime;

-- Idempotency-Key records of POST /api/v1/orgs. Only the platform admin creates orgs, so keys
-- share one namespace; this is the admin's operation log, not tenant data.
CREATE TABLE idempotency_keys (
    key              text PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 255),
    request_sha256   bytea NOT NULL CHECK (length(request_sha256) = 32),
    state            text NOT NULL DEFAULT 'in_flight' CHECK (state IN ('in_flight', 'done')),
    created_org      uuid REFERENCES organizations (id) ON DELETE SET NULL,
    response_status  smallint,
    response_body    jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((state = 'done') = (response_status IS NOT NULL AND response_body IS NOT NULL))
);
GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO app_runtime;

-- Two narrow windows across tenants for background work, and nothing more: the ids of orgs
-- whose saga needs recovering, and the (org, key, version) index of configs, which lets a
-- replica see what changed; the values themselves are then read per tenant. The functions run
-- as the owner, who may read these two tables in full (it could disable RLS anyway); the app
-- role may not.
CREATE POLICY owner_reads ON organizations FOR SELECT TO CURRENT_USER USING (true);
CREATE POLICY owner_reads ON service_configs FOR SELECT TO CURRENT_USER USING (true);

CREATE FUNCTION app_orgs_to_recover() RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT id FROM public.organizations WHERE status = 'PENDING' AND lease_until < now() ORDER BY created_at
$$;

CREATE FUNCTION app_config_index() RETURNS TABLE (org_id uuid, key text, version bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
AS $$
    SELECT org_id, key, version FROM public.service_configs
$$;

REVOKE ALL ON FUNCTION app_orgs_to_recover(), app_config_index() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_orgs_to_recover(), app_config_index() TO app_runtime;

-- Listing an org's projects in creation order (the hot read) without sorting the table.
CREATE INDEX projects_by_org_created ON projects (org_id, created_at, id);
