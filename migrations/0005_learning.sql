-- 0005_learning: proposals of the learning loop and the SOP change journal
-- migrate:up

-- A proposed change to one SOP.  A new_topic is a gap no SOP covers: with
-- content (a staff correction, an ingested note) approving it creates the
-- SOP described by new_sop; without, it is a flag for a person to write
-- one.  Nothing here changes the knowledge: an admin's approval does,
-- through the journal below.
CREATE TABLE proposals (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('add_examples', 'add_answer', 'revise',
                        'merge', 'new_topic')),
    analyser        text NOT NULL CHECK (analyser IN ('local', 'claude', 'ingest')),
    sop_slug        text CHECK (sop_slug ~ '^[a-z]+\.[a-z0-9-]+$'),
    new_sop         jsonb,
    cluster_key     text NOT NULL,
    base_version    int,
    base_sha256     text CHECK (base_sha256 ~ '^[0-9a-f]{64}$'),
    content         text,
    examples        jsonb NOT NULL DEFAULT '[]',
    diff            text NOT NULL,
    rationale       text NOT NULL DEFAULT '',
    evidence_ids    bigint[] NOT NULL DEFAULT '{}',
    evidence_count  int NOT NULL DEFAULT 0,
    source_sha256   text,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved',
                        'applied', 'rejected', 'stale', 'failed')),
    status_reason   text NOT NULL DEFAULT '',
    applied_version int,
    decided_by      bigint,
    decided_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (kind = 'new_topic' OR (sop_slug IS NOT NULL AND base_version IS NOT NULL
                                  AND base_sha256 IS NOT NULL AND content IS NOT NULL))
);
-- At most one pending proposal per SOP and cluster.
CREATE UNIQUE INDEX proposals_one_pending ON proposals (coalesce(sop_slug, ''), cluster_key)
    WHERE status = 'pending';
-- The same ingested text never makes a second proposal, whatever became of the first.
CREATE UNIQUE INDEX proposals_source ON proposals (source_sha256)
    WHERE source_sha256 IS NOT NULL;
CREATE INDEX proposals_status ON proposals (status, id);

-- The write-ahead journal of SOP changes.  An entry is written (pending)
-- and committed before the change; the change's own transaction moves it
-- to applied; it is done once the change was announced.  A process that
-- dies leaves pending (undone on recovery: the change never committed) or
-- applied (completed on recovery: announced again).
CREATE TABLE sop_journal (
    id              bigserial PRIMARY KEY,
    slug            text NOT NULL,
    op              text NOT NULL CHECK (op IN ('edit', 'rollback', 'proposal', 'create')),
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'applied',
                        'done', 'aborted')),
    base_version    int NOT NULL,          -- 0 and '' when the entry creates the SOP
    base_sha256     text NOT NULL,
    new_sop         jsonb,                 -- route, audience, title, keywords of a new SOP
    content         text NOT NULL,
    sha256          text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    examples        jsonb NOT NULL DEFAULT '[]',
    proposal_id     bigint REFERENCES proposals(id),
    author          text NOT NULL,
    note            text NOT NULL DEFAULT '',
    new_version     int,
    kgen            bigint,
    reason          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sop_journal_open ON sop_journal (id) WHERE state IN ('pending', 'applied');

-- Helpfulness per SOP version: the learning loop's measure of effect.
CREATE VIEW sop_feedback AS
    SELECT sop_slug, sop_version,
           count(*) FILTER (WHERE NOT helpful) AS unhelpful,
           count(*) AS total
    FROM feedback WHERE sop_slug IS NOT NULL
    GROUP BY sop_slug, sop_version;

-- A proposal as the API shows it, with the feedback on its SOP's version
-- before and after it was applied: whether the change helped.
CREATE FUNCTION proposal_json(p proposals, with_content boolean) RETURNS json AS $$
    SELECT json_build_object(
        'id', p.id, 'kind', p.kind, 'analyser', p.analyser, 'sop_slug', p.sop_slug,
        'base_version', p.base_version, 'base_sha256', p.base_sha256, 'diff', p.diff,
        'examples', p.examples, 'rationale', p.rationale, 'new_sop', p.new_sop,
        'evidence_count', p.evidence_count, 'evidence_ids', p.evidence_ids,
        'status', p.status, 'status_reason', p.status_reason,
        'applied_version', p.applied_version, 'decided_by', p.decided_by,
        'decided_at', p.decided_at, 'created_at', p.created_at, 'updated_at', p.updated_at,
        'content', CASE WHEN with_content THEN p.content END,
        'effect', json_build_object(
            'before', (SELECT json_build_object('version', p.base_version,
                           'unhelpful', coalesce(max(f.unhelpful), 0),
                           'total', coalesce(max(f.total), 0),
                           'unhelpful_rate', round(max(f.unhelpful)::numeric
                                                   / nullif(max(f.total), 0), 4))
                       FROM sop_feedback f
                       WHERE f.sop_slug = p.sop_slug AND f.sop_version = p.base_version),
            'after', CASE WHEN p.applied_version IS NOT NULL THEN
                      (SELECT json_build_object('version', p.applied_version,
                           'unhelpful', coalesce(max(f.unhelpful), 0),
                           'total', coalesce(max(f.total), 0),
                           'unhelpful_rate', round(max(f.unhelpful)::numeric
                                                   / nullif(max(f.total), 0), 4))
                       FROM sop_feedback f
                       WHERE f.sop_slug = p.sop_slug AND f.sop_version = p.applied_version)
                     END))
$$ LANGUAGE sql STABLE;

-- migrate:down
DROP FUNCTION proposal_json(proposals, boolean);
DROP VIEW sop_feedback;
DROP TABLE sop_journal;
DROP TABLE proposals;
