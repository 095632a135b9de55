-- Service credentials are tokens with details (name, abilities, scope, expiry, the user
-- they act as for writes), kept as JSON the engine reads; NULL for ordinary tokens.
ALTER TABLE tokens ADD COLUMN credential TEXT;
