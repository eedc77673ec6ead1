-- wrk script: POST /api/query with a bearer token, cycling through messages.
-- Environment: CLUBOS_TOKEN; CLUBOS_BENCH_MESSAGES = a file of messages, one
-- per line (tests/bench/sop.txt: tier-0 questions whose answers may be
-- cached; tests/bench/action.txt: questions whose answers record an action;
-- tests/bench/emergency.txt: emergencies, never cached).
-- CLUBOS_BENCH_UNIQUE=1 makes every message one nobody asked before (a
-- reference number per thread and request), so each is a cache miss: the
-- traffic a venue really sees.
local token = os.getenv("CLUBOS_TOKEN")
local unique = os.getenv("CLUBOS_BENCH_UNIQUE") == "1"
local list = {}
for line in io.lines(os.getenv("CLUBOS_BENCH_MESSAGES")) do
  if line ~= "" then list[#list + 1] = line end
end
local i, n, tid = 0, 0, 0
-- A run's own prefix: a second run in the same stack must not ask the
-- first run's questions again (they would be cache hits).
local run = os.getenv("CLUBOS_BENCH_RUN") or tostring(os.time())
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

request = function()
  i = i % #list + 1
  local msg = list[i]
  if unique then
    n = n + 1
    msg = msg .. " (ref " .. run .. "-" .. tid .. "-" .. n .. ")"
  end
  return wrk.format(nil, "/api/query", nil, '{"message":"' .. msg .. '","channel":"web"}')
end

-- rps counts every response; ok_rps only the 2xx ones (a 503 `overloaded`
-- is fast and would flatter the throughput); shed = non-2xx responses.
-- The latency percentiles are wrk's, over all responses.
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local shed = summary.errors.status
  io.write(string.format("RESULT p50_ms=%.3f p99_ms=%.3f rps=%.0f ok_rps=%.0f shed=%d errors=%d requests=%d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / secs, (summary.requests - shed) / secs, shed,
    shed + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.requests))
end
