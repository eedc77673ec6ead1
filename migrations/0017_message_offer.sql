-- 0017_message_offer: a bot message that asks which of two SOPs the customer
-- means keeps what it offered ([{"slug", "title"}, ...] in the order shown),
-- so the customer's next message ("2", "the first one", "cancel") picks one
-- of them, whichever daemon answers it.

-- migrate:up
ALTER TABLE messages ADD COLUMN offer jsonb
    CHECK (offer IS NULL OR jsonb_typeof(offer) = 'array');

-- migrate:down
ALTER TABLE messages DROP COLUMN offer;
