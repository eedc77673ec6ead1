-- 0003_operations: traces, feedback, tickets and the actions journal
-- migrate:up
CREATE TABLE traces (
    trace_id         text PRIMARY KEY CHECK (trace_id ~ '^[0-9a-f]{32}$'),
    user_id          bigint,
    role             text,
    channel          text,
    location         text,
    message          text NOT NULL,
    route            text,
    confidence       double precision,
    sop_slug         text,
    sop_version      int,
    response         text,
    escalation_tier  int,
    cache            text,
    total_us         bigint,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX traces_created ON traces (created_at);

CREATE TABLE trace_steps (
    id          bigserial PRIMARY KEY,
    trace_id    text NOT NULL,
    daemon      text NOT NULL,
    step        text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    elapsed_us  bigint NOT NULL DEFAULT 0,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trace_steps_trace ON trace_steps (trace_id, at);

CREATE TABLE feedback (
    id              bigserial PRIMARY KEY,
    trace_id        text NOT NULL REFERENCES traces(trace_id),
    user_id         bigint NOT NULL,
    helpful         boolean NOT NULL,
    comment         text,
    correct_answer  text,
    route           text,
    sop_slug        text,
    sop_version     int,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (trace_id, user_id)
);

CREATE TABLE tickets (
    id          bigserial PRIMARY KEY,
    trace_id    text,
    priority    text NOT NULL CHECK (priority IN ('urgent', 'normal')),
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    location    text,
    bay         int,
    summary     text NOT NULL,
    sop_slug    text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE actions (
    id          bigserial PRIMARY KEY,
    trace_id    text,
    type        text NOT NULL,
    status      text NOT NULL CHECK (status IN ('queued', 'pending_confirmation',
                    'pending_approval', 'done', 'failed')),
    location    text,
    bay         int,
    detail      jsonb NOT NULL DEFAULT '{}',
    ticket_id   bigint REFERENCES tickets(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX actions_trace ON actions (trace_id);

-- migrate:down
DROP TABLE actions;
DROP TABLE tickets;
DROP TABLE feedback;
DROP TABLE trace_steps;
DROP TABLE traces;
