-- rolecall store schema, SQLite flavour. JSON columns hold serde_json text exactly as
-- written (key order matters: attributes and grants are ordered pairs).

CREATE TABLE tenants (
    id           TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    profile_id   TEXT    NOT NULL,
    profile_text TEXT    NOT NULL,
    revision     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE entities (
    tenant     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    ty         TEXT NOT NULL,
    id         TEXT NOT NULL,
    name       TEXT,
    attributes TEXT NOT NULL,
    PRIMARY KEY (tenant, ty, id)
) WITHOUT ROWID;

-- relations and changes carry no foreign key to tenants: they are written only by
-- `apply`, which has already locked the tenant's row in the same transaction, and a
-- per-row foreign-key check costs a quarter of bulk-write throughput.
CREATE TABLE relations (
    tenant   TEXT NOT NULL,
    rtype    TEXT NOT NULL,
    rid      TEXT NOT NULL,
    relation TEXT NOT NULL,
    stype    TEXT NOT NULL,
    sid      TEXT NOT NULL,
    PRIMARY KEY (tenant, rtype, rid, relation, stype, sid)
) WITHOUT ROWID;

CREATE INDEX relations_by_subject ON relations (tenant, stype, sid);

CREATE TABLE roles (
    tenant  TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id      TEXT    NOT NULL,
    spec    TEXT    NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

CREATE TABLE assignments (
    tenant     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    principal  TEXT NOT NULL,
    role       TEXT NOT NULL,
    scope      TEXT NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (tenant, id)
) WITHOUT ROWID;

CREATE TABLE settings (
    tenant TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (tenant, key)
) WITHOUT ROWID;

CREATE TABLE changes (
    tenant   TEXT    NOT NULL,
    revision INTEGER NOT NULL,
    seq      INTEGER NOT NULL,
    change   TEXT    NOT NULL,
    actor    TEXT    NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (tenant, revision, seq)
) WITHOUT ROWID;

CREATE TABLE tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    hash       TEXT    NOT NULL UNIQUE,
    tenant     TEXT    REFERENCES tenants (id) ON DELETE CASCADE,
    principal  TEXT,
    created_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX tokens_by_tenant ON tokens (tenant);
