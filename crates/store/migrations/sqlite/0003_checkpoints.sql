-- Checkpoints: a tenant's whole state at a revision, serialized by the server, so that
-- reading an old revision starts from the nearest checkpoint instead of the creation.
-- A rowid table: the data can be large.
CREATE TABLE checkpoints (
    tenant   TEXT    NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    data     BLOB    NOT NULL,
    PRIMARY KEY (tenant, revision)
);

-- `revision_at_time`: the latest revision at or before a time is one seek backwards from
-- (tenant, time), `revision` breaking ties. Partial: one entry per revision, its first
-- change-log row (every row of a revision has its time), so a bulk batch adds one index
-- entry, not one per change.
CREATE INDEX changes_by_time ON changes (tenant, at, revision) WHERE seq = 0;
