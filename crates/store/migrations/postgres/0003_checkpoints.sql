-- Checkpoints: a tenant's whole state at a revision, serialized by the server, so that
-- reading an old revision starts from the nearest checkpoint instead of the creation.
CREATE TABLE checkpoints (
    tenant   TEXT COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    revision BIGINT NOT NULL,
    data     BYTEA  NOT NULL,
    PRIMARY KEY (tenant, revision)
);

-- `revision_at_time`: the latest change-log row at or before a time is one seek
-- backwards from (tenant, time); `revision` breaks ties and makes the index covering.
CREATE INDEX changes_by_time ON changes (tenant, at, revision);
