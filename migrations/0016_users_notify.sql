-- 0016_users_notify: a change to a user (role, disabled) or their deletion is
-- announced on the channel clubos_users with the user's id, so a gateway
-- that keeps users' current roles in memory forgets that user at once,
-- whoever made the change (the API, clubosctl, an administrator in psql).

-- migrate:up
CREATE FUNCTION users_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('clubos_users', OLD.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER users_notify AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION users_notify();

-- migrate:down
DROP TRIGGER users_notify ON users;
DROP FUNCTION users_notify();
