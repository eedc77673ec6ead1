-- 0014_feed_indexes: what the console's live feed (gateway/api_events.c)
-- reads every second while someone watches: the newest change of each list.
-- Without these, each poll scanned tickets, actions, conversations and
-- messages whole; with them each max() is one index probe, however long
-- the venue has run.  A message's delivery changes (sent, delivered,
-- failed) move its updated_at, so they reach the feed too.
-- migrate:up

CREATE INDEX tickets_updated ON tickets (updated_at);
CREATE INDEX actions_updated ON actions (updated_at);
CREATE INDEX conversations_last_message ON conversations (last_message_at);
CREATE INDEX messages_updated ON messages (updated_at);
CREATE INDEX traces_escalated ON traces (created_at) WHERE escalation_tier > 0;

-- migrate:down
DROP INDEX traces_escalated;
DROP INDEX messages_updated;
DROP INDEX conversations_last_message;
DROP INDEX actions_updated;
DROP INDEX tickets_updated;
