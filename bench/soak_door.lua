-- wrk script for bench/soak.py: door devices scanning the tickets the soak's buyers were just issued.
--
-- The buyers (bench/soak.lua) append "v,<token>" (valid) and "c,<token>" (cancelled before it was
-- written) to BENCH_TOKENS; thread i scans the lines i, i+N, i+2N… (no two devices scan a new ticket at
-- once, so every answer has one expected result). Each scan, by chance:
--   forged  (BENCH_FORGED share)  a known token with one signature character changed → invalid
--   repeat  (BENCH_REPEAT share)  a ticket this device admitted before                 → already_admitted
--   new     otherwise             the next unscanned token: "v" → admit, "c" → invalid (cancelled/refunded)
-- (with no new token yet, a repeat or a forged one). POST /api/checkin/scan as a logged-in door user
-- (BENCH_COOKIE, BENCH_CSRF), paced by delay() (BENCH_THINK_MS × 0.5–1.5).
-- done() writes to BENCH_OUT: thread,kind,expected,status,result,reason,latency_us

local common = require("wrk_common")
local now_us = common.now_us

setup = common.setup
done = common.done_writer()

local event_id, run_id, origin, tokens_file, cookie, csrf, devices
local think_ms, forged_share, repeat_share = 200, 0.15, 0.25
local offset = 0        -- bytes of BENCH_TOKENS read so far
local line_no = 0       -- lines of BENCH_TOKENS seen so far
local fresh = {}        -- {kind, token} this device still has to scan
local admitted = {}     -- tokens this device admitted
local known = {}        -- any token seen (to forge from)
local scans = 0
local in_flight, sent_at
log = {}

function init(args)
  event_id = os.getenv("BENCH_EVENT")
  run_id = os.getenv("BENCH_RUN")
  origin = os.getenv("BENCH_ORIGIN")
  tokens_file = os.getenv("BENCH_TOKENS")
  cookie = os.getenv("BENCH_COOKIE")
  csrf = os.getenv("BENCH_CSRF")
  devices = tonumber(os.getenv("BENCH_DEVICES") or "1")
  think_ms = tonumber(os.getenv("BENCH_THINK_MS") or "200")
  forged_share = tonumber(os.getenv("BENCH_FORGED") or "0.15")
  repeat_share = tonumber(os.getenv("BENCH_REPEAT") or "0.25")
  math.randomseed(tonumber(run_id, 16) % 100000 + tid * 104729)
end

local function read_new_tokens()
  local file = io.open(tokens_file, "r")
  if not file then
    return
  end
  file:seek("set", offset)
  local data = file:read("*a") or ""
  file:close()
  local last = 0
  for line, stop in string.gmatch(data, "([^\n]*)\n()") do  -- whole lines only
    last = stop - 1
    local kind, token = string.match(line, "^(%a),(.+)$")
    if kind then
      if line_no % devices == tid then
        fresh[#fresh + 1] = {kind, token}
      end
      known[#known + 1] = token
      if #known > 2000 then
        table.remove(known, 1)
      end
      line_no = line_no + 1
    end
  end
  offset = offset + last
end

local function forge(token)
  local at = #token - 5
  local c = string.sub(token, at, at)
  return string.sub(token, 1, at - 1) .. (c == "A" and "B" or "A") .. string.sub(token, at + 1)
end

local current = {}  -- kind, expected of the scan in flight

function delay()
  return math.floor(think_ms * (0.5 + math.random()))
end

local verified = false

local function scan(token)
  scans = scans + 1
  local body = string.format('{"token":"%s","nonce":"soak-%s-%d-%d","gate":"soak","device":"soak-%d","event_id":%s}',
    token, run_id, tid, scans, tid, event_id)
  in_flight, sent_at = true, now_us()
  return wrk.format("POST", "/api/checkin/scan", {
    ["Content-Type"] = "application/json",
    ["Cookie"] = cookie,
    ["X-CSRFToken"] = csrf,
    ["Origin"] = origin,
    ["Referer"] = origin .. "/checkin/",
  }, body)
end

function request()
  if tid == 0 and not verified then
    verified = true
    return wrk.format("GET", "/api/session")
  end
  if in_flight then
    log[#log + 1] = string.format("%d,%s,%s,0,,no_response,%d\n", tid, current.kind, current.expected,
      now_us() - sent_at)
    in_flight = nil
  end
  if #fresh == 0 then
    read_new_tokens()
  end
  local r = math.random()
  if #known > 0 and (r < forged_share or (#fresh == 0 and #admitted == 0)) then
    current = {kind = "forged", expected = "invalid"}
    return scan(forge(known[math.random(#known)]))
  elseif #admitted > 0 and (r < forged_share + repeat_share or #fresh == 0) then
    current = {kind = "repeat", expected = "already_admitted"}
    return scan(admitted[math.random(#admitted)])
  elseif #fresh > 0 then
    local entry = table.remove(fresh, 1)
    current = {kind = entry[1] == "v" and "new_valid" or "new_cancelled",
               expected = entry[1] == "v" and "admit" or "invalid", token = entry[2]}
    return scan(entry[2])
  end
  current = {kind = "idle", expected = ""}
  in_flight, sent_at = true, now_us()
  return wrk.format("GET", "/api/session")  -- nothing to scan yet
end

function response(status, headers, body)
  local finished = now_us()
  if not in_flight then
    return
  end
  in_flight = nil
  if current.kind == "idle" then
    return
  end
  local result = string.match(body, '"result"%s*:%s*"([^"]+)"') or ""
  local reason = string.match(body, '"reason"%s*:%s*"([^"]+)"') or (status >= 400 and
    (string.match(body, '"error"%s*:%s*"([^"]+)"') or "")) or ""
  log[#log + 1] = string.format("%d,%s,%s,%d,%s,%s,%d\n", tid, current.kind, current.expected, status, result,
    reason, finished - sent_at)
  if current.kind == "new_valid" and result == "admit" then
    admitted[#admitted + 1] = current.token
  end
end
