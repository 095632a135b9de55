-- rolecall store schema, PostgreSQL flavour. Identifiers use the "C" collation so that
-- ordering is bytewise (as in SQLite and Rust) and index comparisons are cheap. JSON
-- columns are TEXT, not JSONB: key order matters (attributes and grants are ordered
-- pairs) and JSONB would reorder keys.

CREATE TABLE tenants (
    id           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name         TEXT   NOT NULL,
    profile_id   TEXT   NOT NULL,
    profile_text TEXT   NOT NULL,
    revision     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE entities (
    tenant     TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    ty         TEXT COLLATE "C" NOT NULL,
    id         TEXT COLLATE "C" NOT NULL,
    name       TEXT,
    attributes TEXT NOT NULL,
    PRIMARY KEY (tenant, ty, id)
);

-- relations and changes carry no foreign key to tenants: they are written only by
-- `apply`, which has already locked the tenant's row in the same transaction, and a
-- per-row foreign-key check costs a quarter of bulk-write throughput.
CREATE TABLE relations (
    tenant   TEXT COLLATE "C" NOT NULL,
    rtype    TEXT COLLATE "C" NOT NULL,
    rid      TEXT COLLATE "C" NOT NULL,
    relation TEXT COLLATE "C" NOT NULL,
    stype    TEXT COLLATE "C" NOT NULL,
    sid      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, rtype, rid, relation, stype, sid)
);

CREATE INDEX relations_by_subject ON relations (tenant, stype, sid);

CREATE TABLE roles (
    tenant  TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id      TEXT COLLATE "C" NOT NULL,
    spec    TEXT   NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE assignments (
    tenant     TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         TEXT COLLATE "C" NOT NULL,
    principal  TEXT NOT NULL,
    role       TEXT NOT NULL,
    scope      TEXT NOT NULL,
    expires_at BIGINT,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE settings (
    tenant TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key    TEXT COLLATE "C" NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (tenant, key)
);

CREATE TABLE changes (
    tenant   TEXT COLLATE "C" NOT NULL,
    revision BIGINT  NOT NULL,
    seq      INTEGER NOT NULL,
    change   TEXT    NOT NULL,
    actor    TEXT    NOT NULL,
    at       BIGINT  NOT NULL,
    PRIMARY KEY (tenant, revision, seq)
);

CREATE TABLE tokens (
    id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    hash       TEXT    NOT NULL UNIQUE,
    tenant     TEXT COLLATE "C" REFERENCES tenants (id) ON DELETE CASCADE,
    principal  TEXT,
    created_at BIGINT  NOT NULL,
    revoked    BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX tokens_by_tenant ON tokens (tenant);
