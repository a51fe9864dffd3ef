-- wrk script for bench/sale.py: every booking is a new buyer, as at a real on-sale.
--
--   GET  /api/session          (no cookies: a new visitor; take the csrftoken cookie and csrf_token)
--   POST /api/seats/hold       (2 free seats of this thread's own slice; take the sessionid cookie)
--   POST /api/bookings/confirm (tok_ok, an e-mail of its own, X-CSRFToken, Origin)
--
-- Run with as many threads as connections (-t N -c N): one connection per Lua state, so the state
-- machine below always knows which buyer a response belongs to. Seats come from BENCH_SEATS, one line
-- of comma-separated seat ids per thread (disjoint slices: buyers never collide). Per-request timings
-- use CLOCK_MONOTONIC through LuaJIT's FFI (wrk itself only reports latency over all requests); the
-- clock, the output and the cookie jar are bench/wrk_common.lua's (found through LUA_PATH).
-- done() writes one line per request to BENCH_OUT: thread,endpoint,status,latency_us,end_us,error.
-- A thread whose slice is used up appends its id to BENCH_DONE and stops.

local common = require("wrk_common")
local now_us = common.now_us

-- setup/done phase (the main Lua state) -------------------------------------------------------------

setup = common.setup
done = common.done_writer()

-- running phase (one Lua state per thread = per connection = one buyer at a time) ----------------

local seats = {}        -- this thread's seat ids, taken two at a time
local next_seat = 1
local event_id, run_id, origin, done_file
local buyer = 0         -- bookings attempted by this thread
local step = "session"  -- what the next request is
local cookies = {}
local csrf
local pair
local in_flight         -- endpoint of the request awaiting its response
local sent_at
log = {}                -- read by done() through thread:get("log")

function init(args)
  event_id = os.getenv("BENCH_EVENT")
  run_id = os.getenv("BENCH_RUN")
  origin = os.getenv("BENCH_ORIGIN")
  done_file = os.getenv("BENCH_DONE")
  seats = common.read_seats(os.getenv("BENCH_SEATS"), tid)
end

local function record(endpoint, status, latency, finished, err)
  log[#log + 1] = string.format("%d,%s,%d,%d,%d,%s\n", tid, endpoint, status, latency, finished, err or "")
end

local function post(path, body)
  return common.post_json(path, body, cookies, csrf, origin, event_id)
end

local exhausted = false

local function out_of_seats()
  if exhausted then
    return wrk.format("GET", "/api/session")
  end
  exhausted = true
  local file = io.open(done_file, "a")
  if file then
    file:write(tid .. "\n")
    file:close()
  end
  wrk.thread:stop()
  in_flight, sent_at = "x", now_us()  -- the request below still goes out; its answer is not recorded
  return wrk.format("GET", "/api/session")
end

-- wrk calls request() once on the first thread's state to check the script, before it runs: that
-- request is never sent, so it must not start a buyer.
local verified = false

function request()
  if seats[1] == nil or (tid == 0 and not verified) then
    verified = true
    return wrk.format("GET", "/api/session")
  end
  if in_flight and in_flight ~= "x" then  -- the answer never came (connection reset or refused)
    record(in_flight, 0, now_us() - sent_at, now_us(), "no_response")
    -- a lost session request touched no seat: the next buyer takes the same pair; after a lost hold or
    -- confirm the pair's state is unknown, so that buyer is dropped with its seats
    if in_flight == "session" then
      next_seat = next_seat - 2
      buyer = buyer - 1
    end
    step = "session"
  end
  if step == "session" then
    if next_seat + 1 > #seats then
      return out_of_seats()
    end
    pair = seats[next_seat] .. "," .. seats[next_seat + 1]
    next_seat = next_seat + 2
    buyer = buyer + 1
    cookies, csrf = {}, nil
    in_flight, sent_at = "session", now_us()
    return wrk.format("GET", "/api/session")
  elseif step == "hold" then
    in_flight, sent_at = "hold", now_us()
    return post("/api/seats/hold", '{"event_id":' .. event_id .. ',"seat_ids":[' .. pair .. ']}')
  else
    local key = string.format("%s-%d-%d", run_id, tid, buyer)
    in_flight, sent_at = "confirm", now_us()
    return post("/api/bookings/confirm", string.format(
      '{"event_id":%s,"payment_token":"tok_ok","idempotency_key":"bench-%s",'
        .. '"customer":{"name":"Bench Buyer %d","email":"b%s@bench.example.com"}}',
      event_id, key, buyer, key))
  end
end


function response(status, headers, body)
  local finished = now_us()
  local endpoint = in_flight
  in_flight = nil
  if endpoint == nil or endpoint == "x" then
    return
  end
  local err
  if status >= 400 then
    err = string.match(body, '"error"%s*:%s*"([^"]+)"') or ""
  end
  record(endpoint, status, finished - sent_at, finished, err)
  common.take_cookies(cookies, headers)
  if endpoint == "session" and status == 200 then
    csrf = string.match(body, '"csrf_token"%s*:%s*"([^"]+)"')
    step = csrf and "hold" or "session"
  elseif endpoint == "hold" and status == 200 then
    step = "confirm"
  else
    step = "session"  -- booked, or failed: the next booking is a new buyer
  end
end
