-- 0013_llm: the generative tier's calls (each with its tokens, cost,
-- outcome and, in shadow mode, the local answer beside the model's) and
-- each assistant's view of the tier (ok, failing, over_budget) for health.
-- migrate:up

CREATE TABLE llm_calls (
    id                bigserial PRIMARY KEY,
    trace_id          text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    route             text NOT NULL,
    purpose           text NOT NULL CHECK (purpose IN ('compose', 'choose')),
    mode              text NOT NULL CHECK (mode IN ('shadow', 'on')),
    model             text NOT NULL,
    -- used: the model's reply was sent; shadow: computed, passed, not sent;
    -- declined: it chose another SOP or none; rejected: a guardrail said no;
    -- error: HTTP, timeout, malformed or refused; skipped: not asked
    -- (circuit open, no time, over budget)
    outcome           text NOT NULL
                      CHECK (outcome IN ('used', 'shadow', 'declined', 'rejected', 'error',
                                         'skipped')),
    reason            text NOT NULL DEFAULT '',
    attempts          int NOT NULL DEFAULT 0,
    http_status       int NOT NULL DEFAULT 0,
    prompt_tokens     int NOT NULL DEFAULT 0,
    completion_tokens int NOT NULL DEFAULT 0,
    cost_usd          double precision NOT NULL DEFAULT 0,
    latency_ms        int NOT NULL DEFAULT 0,
    local_sop         text,
    llm_sop           text,
    escalate          boolean,
    local_reply       text,
    llm_reply         text,
    agreed            boolean
);
CREATE INDEX llm_calls_created ON llm_calls (created_at);
CREATE INDEX llm_calls_trace ON llm_calls (trace_id);

CREATE TABLE llm_status (
    instance   text PRIMARY KEY,
    state      text NOT NULL CHECK (state IN ('ok', 'failing', 'over_budget')),
    detail     text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- migrate:down
DROP TABLE llm_status;
DROP TABLE llm_calls;
