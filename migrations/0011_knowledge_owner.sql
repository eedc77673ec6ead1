-- 0011_knowledge_owner: training examples change through the journal too
-- migrate:up

-- An 'examples' entry adds (examples) or removes (example_ids) training
-- examples; it belongs to no SOP (slug '') and carries no text.
ALTER TABLE sop_journal DROP CONSTRAINT sop_journal_op_check;
ALTER TABLE sop_journal ADD CONSTRAINT sop_journal_op_check
    CHECK (op IN ('edit', 'rollback', 'proposal', 'create', 'examples'));
ALTER TABLE sop_journal
    ADD COLUMN example_ids bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN source      text NOT NULL DEFAULT 'api',
    ADD COLUMN request_id  text;

-- A request asked again (the asker's socket re-sent it after the owner died)
-- finds the entry it made: one change per request, never two.
CREATE UNIQUE INDEX sop_journal_request ON sop_journal (request_id)
    WHERE request_id IS NOT NULL AND state <> 'aborted';

-- migrate:down
DELETE FROM sop_journal WHERE op = 'examples';
DROP INDEX sop_journal_request;
ALTER TABLE sop_journal DROP COLUMN request_id, DROP COLUMN source, DROP COLUMN example_ids;
ALTER TABLE sop_journal DROP CONSTRAINT sop_journal_op_check;
ALTER TABLE sop_journal ADD CONSTRAINT sop_journal_op_check
    CHECK (op IN ('edit', 'rollback', 'proposal', 'create'));
