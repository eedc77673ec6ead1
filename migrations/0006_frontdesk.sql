-- 0006_frontdesk: conversations and their messages, and actions and
-- tickets that people work.  The shared shape the SMS front door, the
-- action executor and the console build on; each adds its own columns in
-- a migration of its own.
-- migrate:up

-- One thread with one customer on one channel.  A conversation is 'bot'
-- while ClubOS answers, 'human' once a person has it (ClubOS stores what
-- the customer sends and answers none of it), 'closed' when done.
CREATE TABLE conversations (
    id              bigserial PRIMARY KEY,
    channel         text NOT NULL DEFAULT 'sms' CHECK (channel IN ('sms', 'web', 'kiosk')),
    phone           text,
    customer_id     bigint REFERENCES customers(id),
    location        text REFERENCES locations(slug),
    bay             int CHECK (bay > 0),
    status          text NOT NULL DEFAULT 'bot' CHECK (status IN ('bot', 'human', 'closed')),
    status_reason   text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_message_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversations_phone ON conversations (phone, last_message_at DESC);
CREATE INDEX conversations_status ON conversations (status, last_message_at DESC);

-- Every message in and out.  An outgoing message with delivery 'queued' is
-- the outbox: whoever writes one (a reply, a staff answer, an action's
-- follow-up) inserts it and NOTIFYs clubos_outbox; the sender delivers it
-- once and records the outcome.
CREATE TABLE messages (
    id              bigserial PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations(id),
    direction       text NOT NULL CHECK (direction IN ('in', 'out')),
    author          text NOT NULL CHECK (author IN ('customer', 'bot', 'staff')),
    author_user     bigint,
    text            text NOT NULL,
    trace_id        text,
    delivery        text CHECK (delivery IN ('received', 'queued', 'sending', 'sent',
                        'delivered', 'failed', 'draft', 'shadow', 'discarded')),
    provider_id     text,
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);
CREATE INDEX messages_outbox ON messages (next_attempt_at, id) WHERE delivery = 'queued';
CREATE UNIQUE INDEX messages_provider_id ON messages (provider_id) WHERE provider_id IS NOT NULL;

-- Tickets: open -> in_progress -> resolved, with who has it and notes.
ALTER TABLE tickets DROP CONSTRAINT tickets_status_check;
UPDATE tickets SET status = 'resolved' WHERE status = 'closed';
ALTER TABLE tickets ADD CONSTRAINT tickets_status_check
    CHECK (status IN ('open', 'in_progress', 'resolved'));
ALTER TABLE tickets
    ADD COLUMN title           text,
    ADD COLUMN conversation_id bigint REFERENCES conversations(id),
    ADD COLUMN assignee        bigint,
    ADD COLUMN notes           jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN updated_at      timestamptz NOT NULL DEFAULT now();
UPDATE tickets SET title = summary WHERE title IS NULL;
CREATE INDEX tickets_status ON tickets (status, id);

-- Actions: the contract's whole life cycle, and what the executor records.
ALTER TABLE actions DROP CONSTRAINT actions_status_check;
ALTER TABLE actions ADD CONSTRAINT actions_status_check
    CHECK (status IN ('pending_confirmation', 'pending_approval', 'queued', 'running',
                      'done', 'failed', 'expired', 'cancelled'));
ALTER TABLE actions
    ADD COLUMN conversation_id bigint REFERENCES conversations(id),
    ADD COLUMN attempts        int NOT NULL DEFAULT 0,
    ADD COLUMN last_error      text,
    ADD COLUMN expires_at      timestamptz,
    ADD COLUMN decided_by      bigint,
    ADD COLUMN decided_at      timestamptz;
CREATE INDEX actions_status ON actions (status, id);
CREATE INDEX actions_conversation ON actions (conversation_id) WHERE conversation_id IS NOT NULL;

-- migrate:down
DROP INDEX actions_conversation;
DROP INDEX actions_status;
ALTER TABLE actions DROP COLUMN decided_at, DROP COLUMN decided_by, DROP COLUMN expires_at,
    DROP COLUMN last_error, DROP COLUMN attempts, DROP COLUMN conversation_id;
ALTER TABLE actions DROP CONSTRAINT actions_status_check;
UPDATE actions SET status = 'failed' WHERE status IN ('running', 'expired', 'cancelled');
ALTER TABLE actions ADD CONSTRAINT actions_status_check
    CHECK (status IN ('queued', 'pending_confirmation', 'pending_approval', 'done', 'failed'));
DROP INDEX tickets_status;
ALTER TABLE tickets DROP COLUMN updated_at, DROP COLUMN notes, DROP COLUMN assignee,
    DROP COLUMN conversation_id, DROP COLUMN title;
ALTER TABLE tickets DROP CONSTRAINT tickets_status_check;
UPDATE tickets SET status = 'closed' WHERE status IN ('in_progress', 'resolved');
ALTER TABLE tickets ADD CONSTRAINT tickets_status_check CHECK (status IN ('open', 'closed'));
DROP TABLE messages;
DROP TABLE conversations;
