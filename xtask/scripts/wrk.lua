-- wrk script of `cargo xtask bench`. Two modes, picked by the first script argument:
--   submit <tokens file> <n threads> : POST /v1/responses, each request answering a
--                          distinct pre-minted survey link; thread i of n takes lines i, i+n, …
--   get <path> <bearer>  : GET <path> with the bearer key (the KPI read).
-- `done` prints machine-readable lines (KPI_…) that xtask parses; latencies in microseconds.
local threads = {}
local count = 0

function setup(thread)
  thread:set("id", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  reused = 0
  non2xx = 0
  if mode == "submit" then
    tokens = {}
    local i, n = 0, tonumber(args[3])
    for line in io.lines(args[2]) do
      if i % n == id then tokens[#tokens + 1] = line end
      i = i + 1
    end
    next_i = 0
    wrk.method = "POST"
    wrk.path = "/v1/responses"
    wrk.headers["Content-Type"] = "application/json"
  else
    wrk.method = "GET"
    wrk.path = args[2]
    wrk.headers["Authorization"] = "Bearer " .. args[3]
  end
end

function request()
  if mode ~= "submit" then return wrk.format() end
  next_i = next_i + 1
  if next_i > #tokens then
    -- Out of distinct links: the next answers are re-answers (updates); counted and reported.
    next_i = 1
    reused = reused + 1
  end
  local body = '{"token":"' .. tokens[next_i] .. '","score":' .. ((next_i * 7) % 11) .. '}'
  return wrk.format(nil, nil, nil, body)
end

-- Every answer that is not a 2xx (wrk itself only counts statuses >= 400).
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end

function done(summary, latency, requests)
  local wraps, bad = 0, 0
  for _, t in ipairs(threads) do
    wraps = wraps + (t:get("reused") or 0)
    bad = bad + (t:get("non2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "KPI_RESULT requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d wraps=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, bad, e.connect, e.read, e.write, e.timeout, wraps,
    latency:percentile(50), latency:percentile(99), latency.max))
end
