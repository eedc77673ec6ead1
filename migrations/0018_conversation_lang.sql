-- 0018_conversation_lang: the language the customer writes in ("en" or
-- "fr"), as their last text that read in one did.  The desk's fixed lines
-- and the action executor's follow-ups are said in it.

-- migrate:up
ALTER TABLE conversations ADD COLUMN lang text NOT NULL DEFAULT 'en'
    CHECK (lang IN ('en', 'fr'));

-- migrate:down
ALTER TABLE conversations DROP COLUMN lang;
