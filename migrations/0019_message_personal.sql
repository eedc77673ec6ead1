-- 0019_message_personal: a bot message that answered from a customer's own
-- record (the customerinfo route: bookings, balance, membership).  It is
-- kept for the conversation, and never quoted to the language model as a
-- recent turn.

-- migrate:up
ALTER TABLE messages ADD COLUMN personal boolean NOT NULL DEFAULT false;

-- migrate:down
ALTER TABLE messages DROP COLUMN personal;
