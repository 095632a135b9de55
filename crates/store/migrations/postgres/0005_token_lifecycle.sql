-- A token dies with its user: a service credential's token row names the user it acts
-- as (as a user token does), so that deleting the user revokes both in one statement.
UPDATE tokens SET principal = (credential::json ->> 'principal')
    WHERE credential IS NOT NULL AND principal IS NULL;
CREATE INDEX tokens_by_principal ON tokens (tenant, principal);

-- The revocation generation: bumped by every transaction that revokes a token, read by
-- each server's token cache before it trusts a cached token (another process or node
-- may have revoked it).
CREATE TABLE revocations (
    id         INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    generation BIGINT  NOT NULL
);
INSERT INTO revocations (id, generation) VALUES (1, 0);
