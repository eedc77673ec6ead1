-- 0020_trace_step_sets: a daemon's steps of one request stored as one row
-- (a JSON array, as the trace bus carries them) instead of a row per step.
-- At saturation the trace writers were about a sixth of all CPU, most of it
-- PostgreSQL inserting ~6 small rows per request, each into a heap, two
-- btrees and a sequence.  Readers keep the old shape: trace_steps is now a
-- view with the same columns, one row per step, ordered as before by
-- (at, id).

-- migrate:up
CREATE TABLE trace_step_sets (
    id        bigserial NOT NULL,
    trace_id  text NOT NULL,
    daemon    text NOT NULL,
    steps     jsonb NOT NULL CHECK (jsonb_typeof(steps) = 'array'),
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trace_step_sets_trace ON trace_step_sets (trace_id);

INSERT INTO trace_step_sets (trace_id, daemon, steps, at)
SELECT trace_id, daemon,
       jsonb_agg(jsonb_build_object('step', step, 'detail', detail, 'us', elapsed_us,
                                    'at_ms', floor(extract(epoch FROM at) * 1000))
                 ORDER BY at, id),
       min(at)
FROM trace_steps GROUP BY trace_id, daemon ORDER BY min(at);
DROP TABLE trace_steps;

-- id: the set's, then the step's place in it, so (at, id) keeps the order
-- in which steps were recorded.
CREATE VIEW trace_steps AS
SELECT s.id * 1000 + e.n AS id,
       s.trace_id,
       s.daemon,
       e.step ->> 'step' AS step,
       COALESCE(e.step -> 'detail', '{}'::jsonb) AS detail,
       COALESCE((e.step ->> 'us')::bigint, 0) AS elapsed_us,
       COALESCE(to_timestamp((e.step ->> 'at_ms')::double precision / 1000), s.at) AS at
FROM trace_step_sets s
CROSS JOIN LATERAL jsonb_array_elements(s.steps) WITH ORDINALITY AS e(step, n);

-- migrate:down
CREATE TABLE trace_steps_rows (
    id          bigserial PRIMARY KEY,
    trace_id    text NOT NULL,
    daemon      text NOT NULL,
    step        text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    elapsed_us  bigint NOT NULL DEFAULT 0,
    at          timestamptz NOT NULL DEFAULT now()
);
INSERT INTO trace_steps_rows (trace_id, daemon, step, detail, elapsed_us, at)
SELECT trace_id, daemon, COALESCE(step, ''), detail, elapsed_us, at
FROM trace_steps ORDER BY at, id;
DROP VIEW trace_steps;
DROP TABLE trace_step_sets;
ALTER TABLE trace_steps_rows RENAME TO trace_steps;
ALTER SEQUENCE trace_steps_rows_id_seq RENAME TO trace_steps_id_seq;
ALTER INDEX trace_steps_rows_pkey RENAME TO trace_steps_pkey;
CREATE INDEX trace_steps_trace ON trace_steps (trace_id, at);
