-- Revocations, kept in PostgreSQL as the source of truth. Redis holds the same entries as the
-- fast path every request reads, and a marker (`auth:seeded`) saying it was seeded from here:
-- a Redis that lost its data lacks the marker, and the next check re-seeds it before
-- answering, so no restart can make a revoked token valid again.
--
-- Not tenant data (the platform admin revokes any token; a guest's own sign-out names only its
-- token): no row-level security, like idempotency_keys.
CREATE TABLE revocations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- One token, by its id ...
    jti             text CHECK (length(jti) BETWEEN 1 AND 64),
    -- ... or every token of a guest issued at or before `revoked_before` (unix seconds).
    user_id         uuid,
    revoked_before  bigint,
    -- Past this no token it names can be valid any more: the row can go.
    expires_at      timestamptz NOT NULL,
    revoked_by      text NOT NULL,
    reason          text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((jti IS NOT NULL AND user_id IS NULL AND revoked_before IS NULL)
        OR (jti IS NULL AND user_id IS NOT NULL AND revoked_before IS NOT NULL))
);
CREATE INDEX revocations_live ON revocations (expires_at);
GRANT SELECT, INSERT, DELETE ON revocations TO app_runtime;
