-- 0015_llm_totals: running totals of the generative tier's calls, kept by a trigger on
-- llm_calls, so /metrics and GET /api/llm/stats read a handful of rows
-- however long the call log grows (they used to aggregate all of it on
-- every scrape).  Rows deleted from llm_calls (a retention job, a test)
-- are taken off again, so the totals always equal the log.

-- migrate:up
CREATE TABLE llm_totals (
    kind              text NOT NULL CHECK (kind IN ('outcome', 'rejection', 'shadow')),
    key               text NOT NULL,
    calls             bigint NOT NULL DEFAULT 0,
    prompt_tokens     bigint NOT NULL DEFAULT 0,
    completion_tokens bigint NOT NULL DEFAULT 0,
    cost_usd          double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, key)
);

CREATE FUNCTION llm_totals_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r    llm_calls;
    sign int;
BEGIN
    IF TG_OP = 'INSERT' THEN
        r := NEW;
        sign := 1;
    ELSE
        r := OLD;
        sign := -1;
    END IF;
    INSERT INTO llm_totals AS t VALUES ('outcome', r.outcome, sign, sign * r.prompt_tokens,
                                        sign * r.completion_tokens, sign * r.cost_usd)
        ON CONFLICT (kind, key) DO UPDATE SET calls = t.calls + sign,
            prompt_tokens = t.prompt_tokens + sign * r.prompt_tokens,
            completion_tokens = t.completion_tokens + sign * r.completion_tokens,
            cost_usd = t.cost_usd + sign * r.cost_usd;
    IF r.outcome = 'rejected' THEN
        INSERT INTO llm_totals AS t (kind, key, calls)
            VALUES ('rejection', split_part(r.reason, ':', 1), sign)
            ON CONFLICT (kind, key) DO UPDATE SET calls = t.calls + sign;
    END IF;
    IF r.agreed IS NOT NULL THEN
        INSERT INTO llm_totals AS t (kind, key, calls)
            VALUES ('shadow', CASE WHEN r.agreed THEN 'agreed' ELSE 'disagreed' END, sign)
            ON CONFLICT (kind, key) DO UPDATE SET calls = t.calls + sign;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER llm_totals_count AFTER INSERT OR DELETE ON llm_calls
    FOR EACH ROW EXECUTE FUNCTION llm_totals_count();

-- What was logged before this migration.
INSERT INTO llm_totals
    SELECT 'outcome', outcome, count(*), sum(prompt_tokens), sum(completion_tokens), sum(cost_usd)
    FROM llm_calls GROUP BY outcome;
INSERT INTO llm_totals (kind, key, calls)
    SELECT 'rejection', split_part(reason, ':', 1), count(*) FROM llm_calls
    WHERE outcome = 'rejected' GROUP BY 2;
INSERT INTO llm_totals (kind, key, calls)
    SELECT 'shadow', CASE WHEN agreed THEN 'agreed' ELSE 'disagreed' END, count(*)
    FROM llm_calls WHERE agreed IS NOT NULL GROUP BY 2;

-- migrate:down
DROP TRIGGER llm_totals_count ON llm_calls;
DROP FUNCTION llm_totals_count();
DROP TABLE llm_totals;
