-- 0008_settings: the settings an admin changes at runtime (contract,
-- "Settings"), one row per key, and every change with who made it.
-- migrate:up

CREATE TABLE settings (
    key        text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_by bigint,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE settings_changes (
    id         bigserial PRIMARY KEY,
    key        text NOT NULL,
    old_value  jsonb,
    new_value  jsonb NOT NULL,
    changed_by bigint,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX settings_changes_key ON settings_changes (key, id);

-- migrate:down
DROP TABLE settings_changes;
DROP TABLE settings;
