-- Tenant separation-of-duty rules and the hash-chained audit trail.

CREATE TABLE sod_rules (
    tenant TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id     TEXT COLLATE "C" NOT NULL,
    rule   TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);

-- One row per audit entry, chained per tenant: `hash` covers every other column and
-- `prev_hash` (the hash of entry `seq - 1`). Written only by `apply_audited` and
-- `append_audit`, which hold the tenant row's lock, so like `changes` it carries no
-- foreign key. "C" collation: bytewise equality and index-friendly `LIKE 'prefix%'`.
CREATE TABLE audit (
    tenant    TEXT COLLATE "C" NOT NULL,
    seq       BIGINT NOT NULL,
    revision  BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    actor     TEXT COLLATE "C" NOT NULL,
    action    TEXT COLLATE "C" NOT NULL,
    target    TEXT COLLATE "C" NOT NULL,
    before    TEXT,
    after     TEXT,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    PRIMARY KEY (tenant, seq)
);

-- Filters read in sequence order: (tenant, actor, seq) finds one actor's entries
-- already ordered, so a page stops after `limit` rows.
CREATE INDEX audit_by_actor ON audit (tenant, actor, seq);
CREATE INDEX audit_by_target ON audit (tenant, target, seq);
CREATE INDEX audit_by_time ON audit (tenant, at);
