-- wrk script: POSTs pre-generated PostHog bodies (one per line in BODIES_FILE), each body once:
-- thread k of WRK_THREADS sends bodies START+k, START+k+WRK_THREADS, ... (about 5% of the bodies are
-- themselves retries of an earlier uuid, as PostHog's are). The bench passes START so that one round
-- goes on where the previous one stopped instead of resending its bodies as duplicates.
local bodies = {}
local counter = 0
local step = 1
local made = 0

function setup(thread)
  thread:set("thread_number", made)
  made = made + 1
end

function init(args)
  local path = os.getenv("BODIES_FILE")
  for line in io.lines(path) do
    bodies[#bodies + 1] = line
  end
  step = tonumber(os.getenv("WRK_THREADS") or "1")
  counter = tonumber(os.getenv("START") or "0") + (thread_number or 0)
end

-- PACE_MS (optional): each connection waits about this long before its next request (uniformly 0.5 to
-- 1.5 times it, so the connections do not fire in lockstep), so 16 connections send at a chosen rate
-- instead of as fast as the server answers: latency at a given load, not at saturation.
local pace_ms = tonumber(os.getenv("PACE_MS") or "0")

function delay()
  if pace_ms <= 0 then
    return 0
  end
  return math.floor(pace_ms * (0.5 + math.random()))
end

function request()
  local body = bodies[(counter % #bodies) + 1]
  counter = counter + step
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

done = function(summary, latency, requests)
  local statuses = summary.errors.status
  io.write(string.format("RESULT requests=%d duration_us=%d non2xx=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, statuses, latency:percentile(50), latency:percentile(99)))
end
