-- Mixed traffic for scripts/load_test.sh: session reads (valid cookie), guest sign-ins (valid
-- CSRF pair), and hostile requests. SESSION_COOKIE, CSRF_COOKIE, CSRF_TOKEN come from the shell.
local session_cookie = os.getenv("SESSION_COOKIE")
local csrf_cookie = os.getenv("CSRF_COOKIE")
local csrf_token = os.getenv("CSRF_TOKEN")
local big = string.rep("x", 70000)

local requests = {}
local function add(weight, req)
  for _ = 1, weight do requests[#requests + 1] = req end
end

-- 60 %: session reads.
add(12, wrk.format("GET", "/api/auth/session", { Cookie = session_cookie }))
-- 15 %: guest sign-ins.
add(3, wrk.format("POST", "/api/auth/callback/anon", {
  Cookie = csrf_cookie, ["Content-Type"] = "application/x-www-form-urlencoded" },
  "csrfToken=" .. csrf_token .. "&json=true&callbackUrl=%2Fshop"))
-- 25 %: hostile requests (every one must get a 2xx/4xx, never a 5xx).
add(1, wrk.format("GET", "/api/auth/signin?callbackUrl=javascript:alert(1)", nil))
add(1, wrk.format("GET", "/api/auth/session", {
  Cookie = "next-auth.session-token=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.; next-auth.callback-url=%2F%2Fevil.example" }))
add(1, wrk.format("POST", "/api/auth/callback/anon", {
  ["Content-Type"] = "application/x-www-form-urlencoded" }, "csrfToken=forged&json=true"))
add(1, wrk.format("POST", "/api/auth/session", { ["Content-Type"] = "application/json" }, "{\"data\":"))
add(1, wrk.format("POST", "/api/auth/signout", { ["Content-Type"] = "text/plain" }, big))

local i = 0
request = function()
  i = i + 1
  return requests[(i % #requests) + 1]
end

local threads = {}
setup = function(thread)
  threads[#threads + 1] = thread
end

statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests_)
  local total = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, n in pairs(counts) do
      total[status] = (total[status] or 0) + n
    end
  end
  local keys = {}
  for status in pairs(total) do keys[#keys + 1] = status end
  table.sort(keys)
  io.write("status counts:\n")
  for _, status in ipairs(keys) do
    io.write(string.format("  %d: %d\n", status, total[status]))
  end
end
