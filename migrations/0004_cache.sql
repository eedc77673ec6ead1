-- 0004_cache: the durable tier of the response cache (L3)
-- migrate:up
CREATE TABLE cache_entries (
    key          text PRIMARY KEY,
    scope        text NOT NULL,
    sop_slug     text NOT NULL,
    sop_version  int  NOT NULL,
    value        text NOT NULL,
    hits         bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX cache_entries_slug ON cache_entries (sop_slug);
CREATE INDEX cache_entries_expires ON cache_entries (expires_at);

-- migrate:down
DROP TABLE cache_entries;
