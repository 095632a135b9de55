-- Repeated identical sensitive decisions (same actor, action, target and outcome)
-- within a window are tallied here, one row per decision key and window, the count
-- moved on in the same group-commit transaction that answers each decision; when the
-- window has ended the tally becomes one chained audit entry with its count, and the
-- row is deleted, in one transaction.
CREATE TABLE audit_tallies (
    tenant       TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key          TEXT COLLATE "C" NOT NULL,
    window_start BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL,
    after        TEXT,
    first_at     BIGINT NOT NULL,
    last_at      BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    PRIMARY KEY (tenant, key, window_start)
);

-- How far each tenant's audit chain was last verified intact: the entry's sequence
-- number and hash. A verification may resume from here instead of the first entry.
CREATE TABLE audit_verified (
    tenant      TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    hash        TEXT NOT NULL,
    verified_at BIGINT NOT NULL
);

-- Retention: entries older than a tenant's retention are pruned from the front of its
-- chain; the last pruned entry's sequence number and hash stay here as the chain's new
-- root, so the rest still verifies (its first entry's previous-hash is the root's).
CREATE TABLE audit_roots (
    tenant    TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    seq       BIGINT NOT NULL,
    hash      TEXT NOT NULL,
    pruned_at BIGINT NOT NULL
);
