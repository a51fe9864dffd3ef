-- wrk script for bench/soak.py: buyers at a paced rate, every flow a buyer takes in a real sale.
--
-- Each buyer is a new visitor (GET /api/session), holds 1-4 seats, then, by the weights in BENCH_FLOWS:
--   release   releases the seats               (POST /api/seats/release)
--   expire    walks away: the hold lapses after HOLD_TTL_SECONDS (the seats come back to this thread
--             only after TTL + 3 s, so the next buyer's hold proves the lapsed hold was freed)
--   ok        pays with tok_ok                 (201, tickets)
--   declined  pays with tok_declined (402, the hold is kept) and half the time pays again with tok_ok
--   cancel    pays with tok_ok, then cancels the whole booking      (POST /api/bookings/{id}/cancel)
--   partial   pays with tok_ok, then cancels one of its seats
-- A share of buyers (BENCH_HOT_SHARE) try seats of a small list shared by all threads instead of their
-- own: they fight each other for them (409 seats_unavailable is expected there).
--
-- Run with as many threads as connections (-t N -c N): one connection per Lua state. Pacing: wrk's
-- delay() waits BENCH_THINK_MS (x0.5-1.5) before each request. Tickets of a paid booking are appended
-- to BENCH_TOKENS ("v,<token>" valid, "c,<token>" cancelled: written after the cancel was answered) for
-- the door scanners (bench/soak_door.lua). done() writes one line per request to BENCH_OUT:
-- thread,endpoint,status,latency_us,end_us,error,ref  (endpoint: session, hold, hold_hot, release,
-- confirm_ok, confirm_declined, cancel, cancel_part; ref: the booking id of a confirm or cancel, or for a
-- hold "reheldN": N of its seats were last held by a buyer who walked away, so that hold had lapsed).
-- And one line per flow a buyer finished: "flow,<thread>,<flow>,<outcome>"; a request in flight when wrk
-- stopped is written with status 0 and error "cut_off" (the server may still have done it).

local common = require("wrk_common")
local now_us = common.now_us

-- setup/done (the main Lua state) ------------------------------------------------------------------

setup = common.setup
-- a request still in flight when wrk stopped: the server may have done it (a cancel, a confirm)
done = common.done_writer(function(thread)
  local pending = thread:get("in_flight")
  if pending then
    return string.format("%d,%s,0,0,0,cut_off,%s\n", thread:get("tid"), pending, thread:get("booking_id") or "")
  end
end)

-- running phase (one Lua state per thread = per connection = one buyer at a time) --------------

local event_id, run_id, origin, tokens_file
local think_ms, ttl_ms, hot_share = 300, 20000, 0.05
local flows = {}        -- {name, cumulative weight}
local pool = {}         -- this thread's seats free to try now
local cooling = {}      -- {seat, usable_at_us, lapsing}: seats whose hold must lapse first
local lapsed = {}       -- seat → true: back in the pool after a buyer walked away from its hold
local hot = {}          -- seats every thread fights for
local buyer = 0
local step, flow, seats, is_hot, tickets, retried
booking_id = nil        -- globals: done() reads them through thread:get() for a request cut off at the stop
local reheld = 0        -- seats of this hold whose previous hold lapsed (the buyer walked away)
local cookies, csrf = {}, nil
local sent_at
in_flight = nil
log = {}

local function parse_flows(text)
  local total = 0
  for name, weight in string.gmatch(text, "(%a+)=(%d+)") do
    total = total + tonumber(weight)
    flows[#flows + 1] = {name, total}
  end
  for _, f in ipairs(flows) do
    f[2] = f[2] / total
  end
end

local read_seats = common.read_seats

function init(args)
  event_id = os.getenv("BENCH_EVENT")
  run_id = os.getenv("BENCH_RUN")
  origin = os.getenv("BENCH_ORIGIN")
  tokens_file = os.getenv("BENCH_TOKENS")
  think_ms = tonumber(os.getenv("BENCH_THINK_MS") or "300")
  ttl_ms = tonumber(os.getenv("BENCH_HOLD_TTL_MS") or "20000")
  hot_share = tonumber(os.getenv("BENCH_HOT_SHARE") or "0.05")
  parse_flows(os.getenv("BENCH_FLOWS") or "ok=50,declined=12,release=12,expire=10,cancel=8,partial=8")
  math.randomseed(tonumber(run_id, 16) % 100000 + tid * 7919)
  pool = read_seats(os.getenv("BENCH_SEATS"), tid)
  hot = read_seats(os.getenv("BENCH_HOT"), 0)
end

local function record(endpoint, status, latency, finished, err, ref)
  log[#log + 1] = string.format("%d,%s,%d,%d,%d,%s,%s\n", tid, endpoint, status, latency, finished, err or "",
    ref or "")
end

local function flow_done(outcome)
  log[#log + 1] = string.format("flow,%d,%s,%s\n", tid, flow or "-", outcome)
end

local function post(path, body)
  return common.post_json(path, body, cookies, csrf, origin, event_id)
end

-- seats ------------------------------------------------------------------------------------------------

local function give_back(list, after_ms, lapsing)
  if is_hot then
    return  -- hot seats belong to nobody in particular
  end
  for _, seat in ipairs(list or {}) do
    if after_ms and after_ms > 0 then
      cooling[#cooling + 1] = {seat, now_us() + after_ms * 1000, lapsing}
    else
      pool[#pool + 1] = seat
    end
  end
end

local function take_seats(n)
  local now = now_us()
  local still = {}
  for _, entry in ipairs(cooling) do
    if entry[2] <= now then
      pool[#pool + 1] = entry[1]
      if entry[3] then
        lapsed[entry[1]] = true
      end
    else
      still[#still + 1] = entry
    end
  end
  cooling = still
  if #hot >= n and math.random() < hot_share then
    local taken, used = {}, {}
    while #taken < n do
      local seat = hot[math.random(#hot)]
      if not used[seat] then
        used[seat] = true
        taken[#taken + 1] = seat
      end
    end
    return taken, true
  end
  if #pool < n then
    return nil, false
  end
  local taken = {}
  reheld = 0
  for _ = 1, n do
    local seat = table.remove(pool)
    if lapsed[seat] then
      lapsed[seat] = nil
      reheld = reheld + 1
    end
    taken[#taken + 1] = seat
  end
  return taken, false
end

local function pick_flow()
  local r = math.random()
  for _, f in ipairs(flows) do
    if r <= f[2] then
      return f[1]
    end
  end
  return flows[#flows][1]
end

local function write_tokens(kind, list)
  if #list == 0 then
    return
  end
  local file = io.open(tokens_file, "a")
  if file then
    local lines = {}
    for _, token in ipairs(list) do
      lines[#lines + 1] = kind .. "," .. token .. "\n"
    end
    file:write(table.concat(lines))  -- one write, appended as a whole (lines are far below PIPE_BUF)
    file:close()
  end
end

-- requests -------------------------------------------------------------------------------------------------

local function confirm(token)
  in_flight, sent_at = (token == "tok_ok") and "confirm_ok" or "confirm_declined", now_us()
  local key = string.format("%s-%d-%d-%s", run_id, tid, buyer, token)
  return post("/api/bookings/confirm", string.format(
    '{"event_id":%s,"payment_token":"%s","idempotency_key":"soak-%s",'
      .. '"customer":{"name":"Soak Buyer %d","email":"s%s-%d-%d@bench.example.com"}}',
    event_id, token, key, buyer, run_id, tid, buyer))
end

function delay()
  return math.floor(think_ms * (0.5 + math.random()))
end

-- wrk calls request() once on the first thread's state to check the script before it runs: that
-- request is never sent, so it must not start a buyer.
local verified = false

function request()
  if tid == 0 and not verified then
    verified = true
    return wrk.format("GET", "/api/session")
  end
  if in_flight then  -- the answer never came (timeout, reset): this buyer is dropped, its seats too
    record(in_flight, 0, now_us() - sent_at, now_us(), "no_response", booking_id)
    flow_done("no_response")
    step = "session"
  end
  if step == nil or step == "session" then
    buyer = buyer + 1
    cookies, csrf, booking_id, tickets, retried = {}, nil, nil, nil, false
    flow = pick_flow()
    seats, is_hot = take_seats(math.random(1, 4))
    if seats == nil then  -- this thread's seats are all out or cooling: look again later
      in_flight, sent_at = "session", now_us()
      step = "session"
      flow = "idle"
      return wrk.format("GET", "/api/session")
    end
    in_flight, sent_at = "session", now_us()
    return wrk.format("GET", "/api/session")
  elseif step == "hold" then
    in_flight, sent_at = is_hot and "hold_hot" or "hold", now_us()
    return post("/api/seats/hold", '{"event_id":' .. event_id .. ',"seat_ids":[' .. table.concat(seats, ",") .. ']}')
  elseif step == "release" then
    in_flight, sent_at = "release", now_us()
    return post("/api/seats/release", '{"event_id":' .. event_id .. ',"seat_ids":[' .. table.concat(seats, ",") .. ']}')
  elseif step == "confirm_ok" then
    return confirm("tok_ok")
  elseif step == "confirm_declined" then
    return confirm("tok_declined")
  elseif step == "cancel" then
    in_flight, sent_at = "cancel", now_us()
    return post("/api/bookings/" .. booking_id .. "/cancel", "{}")
  else -- cancel_part
    in_flight, sent_at = "cancel_part", now_us()
    return post("/api/bookings/" .. booking_id .. "/cancel", '{"seat_ids":[' .. tickets[1][1] .. ']}')
  end
end


local function parse_tickets(body)
  local list = {}
  for object in string.gmatch(body, "{[^{}]-\"token\"[^{}]-}") do
    local seat = string.match(object, '"seat_id"%s*:%s*(%d+)')
    local token = string.match(object, '"token"%s*:%s*"([^"]+)"')
    if seat and token then
      list[#list + 1] = {seat, token}
    end
  end
  return list
end

local function tokens_of(list, except_seat)
  local result = {}
  for _, t in ipairs(list) do
    if t[1] ~= except_seat then
      result[#result + 1] = t[2]
    end
  end
  return result
end

-- what the buyer does next, given the answer to `endpoint`
local function next_step(endpoint, status, body)
  if endpoint == "session" then
    if flow == "idle" then
      return "session"
    end
    csrf = string.match(body, '"csrf_token"%s*:%s*"([^"]+)"')
    if status == 200 and csrf then
      return "hold"
    end
    give_back(seats)
    flow_done("session_failed")
    return "session"
  elseif endpoint == "hold" or endpoint == "hold_hot" then
    if status ~= 200 then
      -- 409 on a hot seat is the fight we asked for; on our own seats it means the seat was not free:
      -- they are left alone from now on (the audit and the 409 count tell whether that happened)
      flow_done(status == 409 and "hold_conflict" or "hold_failed")
      return "session"
    end
    if flow == "release" then
      return "release"
    elseif flow == "expire" then
      give_back(seats, ttl_ms + 3000, true)
      flow_done("walked_away")
      return "session"
    elseif flow == "declined" then
      return "confirm_declined"
    end
    return "confirm_ok"
  elseif endpoint == "release" then
    if status == 200 then
      give_back(seats)
    else
      give_back(seats, ttl_ms + 3000)
    end
    flow_done(status == 200 and "released" or "release_failed")
    return "session"
  elseif endpoint == "confirm_declined" then
    if status == 402 and not retried and math.random() < 0.5 then
      retried = true
      return "confirm_ok"  -- another card: the hold was kept
    end
    give_back(seats, ttl_ms + 3000, status == 402)
    flow_done(status == 402 and "declined" or "declined_unexpected")
    return "session"
  elseif endpoint == "confirm_ok" then
    if status ~= 201 then
      if status == 202 then
        flow_done("pending")
      else
        give_back(seats, ttl_ms + 3000)
        flow_done("confirm_failed")
      end
      return "session"
    end
    booking_id = string.match(body, '"booking_id"%s*:%s*(%d+)')
    tickets = parse_tickets(body)
    if flow == "cancel" and booking_id then
      return "cancel"
    elseif flow == "partial" and booking_id and #tickets >= 2 then
      return "cancel_part"
    end
    write_tokens("v", tokens_of(tickets))
    flow_done(retried and "paid_after_decline" or "paid")
    return "session"
  elseif endpoint == "cancel" then
    if status == 200 then
      write_tokens("c", tokens_of(tickets))
      give_back(seats)
    end
    flow_done(status == 200 and "cancelled" or "cancel_failed")
    return "session"
  else -- cancel_part
    if status == 200 then
      write_tokens("c", {tickets[1][2]})
      write_tokens("v", tokens_of(tickets, tickets[1][1]))
      give_back({tickets[1][1]})
    end
    flow_done(status == 200 and "cancelled_one" or "cancel_failed")
    return "session"
  end
end

function response(status, headers, body)
  local finished = now_us()
  local endpoint = in_flight
  in_flight = nil
  if endpoint == nil then
    return
  end
  local err
  if status >= 400 then
    err = string.match(body, '"error"%s*:%s*"([^"]+)"') or ""
  end
  common.take_cookies(cookies, headers)
  local ref = nil
  if endpoint == "confirm_ok" and status == 201 then
    ref = string.match(body, '"booking_id"%s*:%s*(%d+)')
  elseif endpoint == "cancel" or endpoint == "cancel_part" then
    ref = booking_id
  elseif endpoint == "hold" and reheld > 0 then
    ref = "reheld" .. reheld
  end
  if not (endpoint == "session" and flow == "idle") then
    record(endpoint, status, finished - sent_at, finished, err, ref)
  end
  step = next_step(endpoint, status, body)
end
