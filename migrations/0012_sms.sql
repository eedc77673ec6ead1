-- 0012_sms: the SMS front door on top of 0006: OpenPhone's webhook
-- events as they arrived, what clubos-conversations needs to answer them
-- once, and the outbox's parts, rate and delivery state.
-- migrate:up

-- Every signed event the gateway accepted, stored before it answered 200.
-- The provider's event id is unique, so a redelivery changes nothing;
-- processed_at is set in the same transaction as the event's effects.
CREATE TABLE webhook_events (
    id           bigserial PRIMARY KEY,
    provider     text NOT NULL DEFAULT 'openphone',
    event_id     text NOT NULL,
    type         text NOT NULL,
    payload      jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    attempts     int NOT NULL DEFAULT 0,
    last_error   text,
    UNIQUE (provider, event_id)
);
CREATE INDEX webhook_events_pending ON webhook_events (id) WHERE processed_at IS NULL;

-- A conversation counts consecutive bot replies (reset by a staff
-- message), remembers when a missed call was texted back, and when staff
-- last read it (for "unread"); a web chat belongs to the user who started it.
ALTER TABLE conversations
    ADD COLUMN user_id            bigint,
    ADD COLUMN bot_streak         int NOT NULL DEFAULT 0,
    ADD COLUMN missed_call_at     timestamptz,
    ADD COLUMN staff_read_at      timestamptz;

-- An outgoing text longer than one SMS goes out as numbered parts;
-- parts_sent says how far a send got, so a retry resumes after the last
-- part the provider accepted.
ALTER TABLE messages
    ADD COLUMN parts_sent int NOT NULL DEFAULT 0;

-- Each part the provider accepted: its id (for delivery events), the
-- number it went to (the per-number rate cap counts these), its state.
CREATE TABLE sms_parts (
    id          bigserial PRIMARY KEY,
    message_id  bigint NOT NULL REFERENCES messages(id),
    n           int NOT NULL,
    phone       text NOT NULL,
    provider_id text NOT NULL UNIQUE,
    status      text NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'delivered', 'failed')),
    sent_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (message_id, n)
);
CREATE INDEX sms_parts_phone ON sms_parts (phone, sent_at);
CREATE INDEX messages_sending ON messages (updated_at) WHERE delivery = 'sending';

-- migrate:down
DROP INDEX messages_sending;
DROP TABLE sms_parts;
ALTER TABLE messages DROP COLUMN parts_sent;
ALTER TABLE conversations DROP COLUMN staff_read_at, DROP COLUMN missed_call_at,
    DROP COLUMN bot_streak, DROP COLUMN user_id;
DROP TABLE webhook_events;
