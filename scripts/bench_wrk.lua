-- Requests for the benchmark, read from a file and sent in turn by wrk (the compiled load generator).
-- wrk -t1 -s bench_wrk.lua URL -- FILE METHOD LIMIT  (one thread: see request())
--   FILE: one request a line: "PATH" for GET, "PATH<TAB>JSON BODY" for POST.
--   LIMIT: 0 runs for wrk's -d duration; N > 0 stops once N requests from the file were answered
--          (connections still open meanwhile ask GET /healthz every 200 ms, told apart by its 200).
-- An answer fails when its status is 300 or more, or, given BENCH_EXPECT, when its body lacks that text.
-- The bearer key, if any, comes from the BENCH_AUTH environment variable, never a command line.
-- done() prints one JSON line: requests, duration, answers by class, latency percentiles (microseconds).
local lines, index, limit, method, probed = {}, 0, 0, "GET", false
answered, failed, extra = 0, 0, 0
local threads, expect = {}, nil

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(args[1]) do lines[#lines + 1] = line end
  method = args[2]
  limit = tonumber(args[3])
  wrk.headers["Content-Type"] = "application/json"
  expect = os.getenv("BENCH_EXPECT")
  if expect == "" then expect = nil end
  local auth = os.getenv("BENCH_AUTH")
  if auth and auth ~= "" then wrk.headers["Authorization"] = "Bearer " .. auth end
end

function request()
  -- wrk calls request() once on thread 0 after init to learn the request's shape, and never sends that one
  if not probed then
    probed = true
    return wrk.format("GET", "/healthz", nil, nil)
  end
  index = index + 1
  if limit > 0 and index > limit then return wrk.format("GET", "/healthz", nil, nil) end
  local line = lines[(index - 1) % #lines + 1]
  if method == "POST" then
    local tab = line:find("\t", 1, true)
    return wrk.format("POST", line:sub(1, tab - 1), nil, line:sub(tab + 1))
  end
  return wrk.format("GET", line, nil, nil)
end

-- a connection with nothing left to send asks /healthz only every 200 ms, not in a tight loop
function delay()
  if limit > 0 and index >= limit then return 200 end
  return 0
end

function response(status, headers, body)
  if limit > 0 and status == 200 then
    extra = extra + 1
    return
  end
  answered = answered + 1
  if status >= 300 or (expect and not body:find(expect, 1, true)) then failed = failed + 1 end
  if limit > 0 and answered == limit then
    -- wrk's main thread sleeps for -d whatever its threads do, until a SIGINT; sent a moment later from a
    -- child shell, once this thread has ended, so that the main thread is the one to take it
    wrk.thread:stop()
    os.execute("(sleep 0.02; kill -INT $PPID) &")
  end
end

function done(summary, latency, requests)
  local a, f, x = 0, 0, 0
  for _, thread in ipairs(threads) do
    a = a + thread:get("answered")
    f = f + thread:get("failed")
    x = x + thread:get("extra")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "answered": %d, "failed": %d, "filler": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, a, f, x, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
