-- wrk scenarios for any server speaking NextAuth v4's REST API with a Credentials provider.
-- Configured by bench/http.sh through the environment:
--   SCENARIO  session | csrf | callback | signin | create
--   PAIRS     for `create`: a file of CSRF pairs ("token cookie" per line, bench/csrf_pairs.py),
--             each used once, so that every callback creates a new guest
--   COOKIE    the Cookie header (a session for `session`, a csrf pair for `callback`/`signin`)
--   FORM      the callback's form body (csrfToken, callbackUrl, json=true)
--   PROVIDER  the Credentials provider id (default anon)
--   CLOSE     1: session reads ask for `Connection: close` (a new connection per request)
-- Every response body is checked, so an error answered fast does not count as throughput.
local scenario = os.getenv("SCENARIO") or "session"
local cookie = os.getenv("COOKIE") or ""
local form = os.getenv("FORM") or ""
local callback = "/api/auth/callback/" .. (os.getenv("PROVIDER") or "anon")

local function post_callback()
  return wrk.format("POST", callback, {
    ["Cookie"] = cookie,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Auth-Return-Redirect"] = "1", -- Auth.js v5 wants this header for JSON; v4 reads json=true
  }, form)
end

local requests, turn = {}, 0
local pairs_of_thread = {}

local function read_pairs(path, thread_id, threads)
  local mine, n = {}, 0
  for line in io.lines(path) do
    if n % threads == thread_id then
      local token, cookie = line:match("^(%S+) (%S+)$")
      mine[#mine + 1] = { token = token, cookie = cookie }
    end
    n = n + 1
  end
  return mine
end

function init(args)
  if scenario == "create" then
    pairs_of_thread = read_pairs(assert(os.getenv("PAIRS"), "PAIRS"), thread_id, thread_count)
    return
  end
  if scenario == "session" then
    local headers = { ["Cookie"] = cookie }
    if os.getenv("CLOSE") == "1" then
      headers["Connection"] = "close"
    end
    requests = { wrk.format("GET", "/api/auth/session", headers) }
  elseif scenario == "csrf" then
    requests = { wrk.format("GET", "/api/auth/csrf") }
  elseif scenario == "callback" then
    requests = { post_callback() }
  elseif scenario == "signin" then
    -- 2 requests = 1 sign-in: a fresh csrf token, then the callback with a valid pair.
    requests = { wrk.format("GET", "/api/auth/csrf"), post_callback() }
  else
    error("unknown SCENARIO " .. scenario)
  end
end

function request()
  turn = turn + 1
  if scenario == "create" then
    local pair = pairs_of_thread[(turn - 1) % #pairs_of_thread + 1]
    return wrk.format("POST", callback, {
      ["Cookie"] = "next-auth.csrf-token=" .. pair.cookie,
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }, "csrfToken=" .. pair.token .. "&json=true")
  end
  return requests[(turn - 1) % #requests + 1]
end

checked, wrong, sample = 0, 0, ""
function response(status, headers, body)
  local ok
  if scenario == "session" then
    ok = status == 200 and body:find('"expires"', 1, true) ~= nil
  elseif scenario == "csrf" then
    ok = status == 200 and body:find('"csrfToken"', 1, true) ~= nil
  else
    ok = (status == 200 and body:find('"url"', 1, true) ~= nil and body:find("error=", 1, true) == nil
          and body:find("csrf=true", 1, true) == nil)
      or (body:find("csrfToken", 1, true) ~= nil)
  end
  checked = checked + 1
  if not ok then
    wrong = wrong + 1
    if sample == "" then sample = status .. " " .. body:sub(1, 120) end
  end
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads - 1)
  thread:set("thread_count", tonumber(os.getenv("THREADS") or "2"))
end

function done(summary, latency, requests)
  local total_checked, total_wrong, first = 0, 0, ""
  for _, t in ipairs(threads) do
    total_checked = total_checked + t:get("checked")
    total_wrong = total_wrong + t:get("wrong")
    if first == "" then first = t:get("sample") end
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout + summary.errors.status
  io.write(string.format("RESULT rps=%.0f p50_ms=%.3f p99_ms=%.3f requests=%d checked=%d wrong=%d socket_or_status_errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.requests, total_checked, total_wrong, errors))
  if first ~= "" then io.write("FIRST_WRONG " .. first .. "\n") end
end
