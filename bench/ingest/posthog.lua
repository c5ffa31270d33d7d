-- wrk script: POSTs pre-generated PostHog bodies (one per line in BODIES_FILE), cycling through them.
local bodies = {}
local counter = 0

function init(args)
  local path = os.getenv("BODIES_FILE")
  for line in io.lines(path) do
    bodies[#bodies + 1] = line
  end
  counter = tonumber(os.getenv("WRK_THREAD_OFFSET") or "0")
end

-- PACE_MS (optional): each connection waits this long before its next request, so 16 connections send
-- at a chosen rate instead of as fast as the server answers (latency at a given load, not at saturation).
local pace_ms = tonumber(os.getenv("PACE_MS") or "0")

function delay()
  return pace_ms
end

function request()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

done = function(summary, latency, requests)
  local statuses = summary.errors.status
  io.write(string.format("RESULT requests=%d duration_us=%d non2xx=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, statuses, latency:percentile(50), latency:percentile(99)))
end
