-- wrk script: POST /api/query with a bearer token, cycling through messages.
-- Environment: CLUBOS_TOKEN, CLUBOS_BENCH_PATH = sop | emergency
-- The SOP messages are tier-0 questions (their answers may be cached); the
-- bench runs them once with the cache on (hits) and once with it off (the
-- full path: classifier, worker, database).
local token = os.getenv("CLUBOS_TOKEN")
local path = os.getenv("CLUBOS_BENCH_PATH") or "sop"
local messages = {
  sop = {
    "how do I book a bay for saturday",
    "are you open on christmas",
    "where do I park at riverside",
    "can I bring my own food",
    "what is the wifi password",
    "how long does 18 holes take for 2 people",
    "do you have left handed clubs",
    "is there a minimum age for kids",
  },
  emergency = {
    "water is pouring through the ceiling onto the bay 3 screen",
    "my friend collapsed and isn't responding",
    "there's smoke coming out of the projector",
  },
}
local list = messages[path]
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token

request = function()
  i = i % #list + 1
  return wrk.format(nil, "/api/query", nil, '{"message":"' .. list[i] .. '","channel":"web"}')
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT p50_ms=%.3f p99_ms=%.3f rps=%.0f errors=%d requests=%d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6),
    summary.errors.status + summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.requests))
end
