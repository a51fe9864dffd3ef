-- Shared by the benchmarks' wrk scripts (bench/sale.lua, bench/soak.lua, bench/soak_door.lua): a
-- monotonic clock; the main state's bookkeeping — setup() numbers the threads (global `tid` in each),
-- done() writes wrk's summary line and every thread's global `log` lines to BENCH_OUT; and a buyer's
-- cookie jar with the JSON POSTs a browser would send. Found through LUA_PATH, which bench/sale.py and
-- bench/soak.py point at bench/.

local ffi = require("ffi")
pcall(ffi.cdef, [[
  typedef struct { long tv_sec; long tv_nsec; } wrk_common_timespec;
  int clock_gettime(int clock_id, wrk_common_timespec *tp);
]])
local timespec = ffi.new("wrk_common_timespec[1]")

local common = {}
local threads = {}

-- microseconds on CLOCK_MONOTONIC, the clock of Python's time.monotonic()
function common.now_us()
  ffi.C.clock_gettime(1, timespec)
  return tonumber(timespec[0].tv_sec) * 1000000 + math.floor(tonumber(timespec[0].tv_nsec) / 1000)
end

function common.setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

-- a done() for wrk; `after_thread(thread)` may return one more line for a thread (or nil)
function common.done_writer(after_thread)
  return function(summary, latency, requests)
    local out = assert(io.open(os.getenv("BENCH_OUT"), "w"))
    out:write(string.format("# duration_us=%d requests=%d timeouts=%d connect_errors=%d read_errors=%d write_errors=%d\n",
      summary.duration, summary.requests, summary.errors.timeout, summary.errors.connect,
      summary.errors.read, summary.errors.write))
    for _, thread in ipairs(threads) do
      local lines = thread:get("log")
      if lines then
        out:write(table.concat(lines))
      end
      local extra = after_thread and after_thread(thread)
      if extra then
        out:write(extra)
      end
    end
    out:close()
  end
end

-- The seat ids on line `line_index` (0-based) of a file of comma-separated ids, one line per thread.
function common.read_seats(path, line_index)
  local file = assert(io.open(path))
  local index, result = 0, {}
  for line in file:lines() do
    if index == line_index then
      for id in string.gmatch(line, "%d+") do
        result[#result + 1] = id
      end
      break
    end
    index = index + 1
  end
  file:close()
  return result
end

-- A buyer's cookies: keep what each answer sets (wrk keeps one value per header name: enough here, as
-- every answer sets at most one cookie), and send them all back.
function common.take_cookies(cookies, headers)
  for name, value in pairs(headers) do
    if string.lower(name) == "set-cookie" then
      local cookie, content = string.match(value, "^%s*([^=]+)=([^;]*)")
      if cookie then
        cookies[cookie] = content
      end
    end
  end
end

function common.cookie_header(cookies)
  local parts = {}
  for name, value in pairs(cookies) do
    parts[#parts + 1] = name .. "=" .. value
  end
  return table.concat(parts, "; ")
end

-- A JSON POST from the event's page: the buyer's cookies, the CSRF header, a same-origin Origin/Referer.
function common.post_json(path, body, cookies, csrf, origin, event_id)
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/json",
    ["Cookie"] = common.cookie_header(cookies),
    ["X-CSRFToken"] = csrf,
    ["Origin"] = origin,
    ["Referer"] = origin .. "/events/" .. event_id .. "/",
  }, body)
end

return common
