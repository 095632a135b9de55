-- Tenant separation-of-duty rules and the hash-chained audit trail.

CREATE TABLE sod_rules (
    tenant TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id     TEXT NOT NULL,
    rule   TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

-- One row per audit entry, chained per tenant: `hash` covers every other column and
-- `prev_hash` (the hash of entry `seq - 1`). Written only by `apply_audited` and
-- `append_audit`, which hold the write lock, so like `changes` it carries no foreign
-- key. A rowid table: `before` / `after` JSON can be large.
CREATE TABLE audit (
    tenant    TEXT    NOT NULL,
    seq       INTEGER NOT NULL,
    revision  INTEGER NOT NULL,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    before    TEXT,
    after     TEXT,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL,
    PRIMARY KEY (tenant, seq)
);

-- Filters read in sequence order: (tenant, actor, seq) finds one actor's entries
-- already ordered, so a page stops after `limit` rows.
CREATE INDEX audit_by_actor ON audit (tenant, actor, seq);
CREATE INDEX audit_by_target ON audit (tenant, target, seq);
CREATE INDEX audit_by_time ON audit (tenant, at);
