-- 0007_users: accounts that can be switched off, and the lookups auth makes
-- migrate:up

-- A disabled user keeps the row (and their history) but no token of theirs
-- is accepted and they cannot log in.  The gateway reads role and disabled
-- by primary key on every authenticated request, so a change is live at once.
ALTER TABLE users
    ADD COLUMN disabled   boolean NOT NULL DEFAULT false,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- Login looks a user up by lower(email); without this it scans the table.
CREATE INDEX users_email_lower ON users (lower(email));

-- migrate:down
DROP INDEX users_email_lower;
ALTER TABLE users DROP COLUMN updated_at, DROP COLUMN disabled;
