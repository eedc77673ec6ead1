-- 0002_knowledge: SOPs, their immutable versions, and routing examples
-- migrate:up
CREATE TABLE sops (
    slug        text PRIMARY KEY CHECK (slug ~ '^[a-z]+\.[a-z0-9-]+$'),
    route       text NOT NULL CHECK (route IN ('emergency', 'booking', 'tech',
                    'brand', 'strategy', 'customerinfo', 'general')),
    audience    text NOT NULL CHECK (audience IN ('all', 'staff', 'admin')),
    escalation  int  NOT NULL CHECK (escalation BETWEEN 0 AND 3),
    actions     text[] NOT NULL DEFAULT '{}',
    title       text NOT NULL,
    keywords    text NOT NULL DEFAULT '',
    version     int  NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A version is never updated or deleted: a change or a rollback adds one.
CREATE TABLE sop_versions (
    slug        text NOT NULL REFERENCES sops(slug),
    version     int  NOT NULL CHECK (version > 0),
    content     text NOT NULL,
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    author      text NOT NULL,
    note        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (slug, version)
);

CREATE FUNCTION sop_versions_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'sop_versions rows are immutable';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER sop_versions_no_change BEFORE UPDATE OR DELETE ON sop_versions
    FOR EACH ROW EXECUTE FUNCTION sop_versions_immutable();

-- Bumped by every change to SOPs or examples: daemons compare it to what
-- they have loaded.
CREATE TABLE knowledge_generation (
    id   int PRIMARY KEY CHECK (id = 1),
    gen  bigint NOT NULL
);
INSERT INTO knowledge_generation VALUES (1, 1);

CREATE TABLE route_examples (
    id          bigserial PRIMARY KEY,
    text        text NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
    label       text NOT NULL,
    source      text NOT NULL DEFAULT 'seed',
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (text, label)
);

-- migrate:down
DROP TABLE route_examples;
DROP TABLE knowledge_generation;
DROP TABLE sop_versions;
DROP FUNCTION sop_versions_immutable();
DROP TABLE sops;
