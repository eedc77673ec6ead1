-- 0009_actions: what the action executor needs on top of 0006: every
-- attempt at an outside call, idempotency keys for records written late
-- from the local spool, a lease on a running action, the escalation
-- ladder's state, each provider's circuit, and the facility's outside ids.
-- migrate:up

-- A record written from the spool after PostgreSQL came back carries the
-- key it was spooled under, so replaying the spool twice writes it once.
ALTER TABLE tickets ADD COLUMN idem_key text;
CREATE UNIQUE INDEX tickets_idem ON tickets (idem_key) WHERE idem_key IS NOT NULL;

-- next_attempt_at: a queued action is not taken before then (backoff,
-- Retry-After, an open circuit).  lease_until: a running action whose
-- lease ran out belongs to an executor that died mid-call.  provider_ref:
-- what the provider called the result (Slack's message ts, a job id).
-- The ladder (alert_oncall): who acknowledged, when, and when to page the
-- next contact if nobody has.
ALTER TABLE actions
    ADD COLUMN idem_key        text,
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN lease_until     timestamptz,
    ADD COLUMN provider_ref    text,
    ADD COLUMN acked_by        text,
    ADD COLUMN acked_at        timestamptz,
    ADD COLUMN page_step       int NOT NULL DEFAULT 0,
    ADD COLUMN next_page_at    timestamptz;
CREATE UNIQUE INDEX actions_idem ON actions (idem_key) WHERE idem_key IS NOT NULL;
CREATE INDEX actions_ready ON actions (next_attempt_at, id) WHERE status = 'queued';
CREATE INDEX actions_provider_ref ON actions (provider_ref) WHERE provider_ref IS NOT NULL;
CREATE INDEX actions_ladder ON actions (next_page_at)
    WHERE type = 'alert_oncall' AND acked_at IS NULL AND next_page_at IS NOT NULL;

-- One row per call to an outside system, written before the call
-- (outcome NULL) and completed after it.  An attempt still NULL when its
-- action's lease ran out is a call whose outcome nobody knows.
CREATE TABLE action_attempts (
    id          bigserial PRIMARY KEY,
    action_id   bigint NOT NULL REFERENCES actions(id),
    n           int NOT NULL,
    provider    text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome     text CHECK (outcome IN ('ok', 'retry', 'error', 'unknown')),
    http_status int,
    error       text,
    UNIQUE (action_id, n)
);

-- Each provider as the executor last saw it (health reads it): whether it
-- is configured there, and its circuit.
CREATE TABLE provider_circuits (
    provider   text PRIMARY KEY,
    configured boolean NOT NULL DEFAULT true,
    state      text NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
    failures   int NOT NULL DEFAULT 0,
    opened_at  timestamptz,
    last_error text,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Slack delivers an event again when it thinks we missed it: each event
-- is acted on once.
CREATE TABLE slack_events (
    event_id    text PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now()
);

-- The facility's ids in outside systems (sop-catalog.json): the UniFi
-- Access door of each location and the NinjaOne device of each bay's PC.
ALTER TABLE locations ADD COLUMN front_door_id text;
CREATE TABLE bay_devices (
    location  text NOT NULL REFERENCES locations(slug),
    bay       int NOT NULL CHECK (bay > 0),
    device_id text NOT NULL,
    PRIMARY KEY (location, bay)
);

-- migrate:down
DROP TABLE bay_devices;
ALTER TABLE locations DROP COLUMN front_door_id;
DROP TABLE slack_events;
DROP TABLE provider_circuits;
DROP TABLE action_attempts;
DROP INDEX actions_ladder;
DROP INDEX actions_provider_ref;
DROP INDEX actions_ready;
DROP INDEX actions_idem;
ALTER TABLE actions DROP COLUMN next_page_at, DROP COLUMN page_step, DROP COLUMN acked_at,
    DROP COLUMN acked_by, DROP COLUMN provider_ref, DROP COLUMN lease_until,
    DROP COLUMN next_attempt_at, DROP COLUMN idem_key;
DROP INDEX tickets_idem;
ALTER TABLE tickets DROP COLUMN idem_key;
