-- wrk script: every connection is a patient answering with htmx, as a browser does.
--
-- Run with one connection per thread (-t N -c N), so a thread's Lua state is its patient's state:
--   sign in (GET /, POST / with a code) -> open each assigned module (GET /quiz/<m>, htmx) ->
--   answer (POST .../answer) -> read the feedback, press Next (POST .../next) -> ... -> next module,
--   and when every module is done, the next code from the thread's list.
-- Arguments after `--`: <folder> with one file per thread (<id>.codes: one access code a line),
-- the answer key (key.tsv: question id, right choices, a wrong choice) and the module ids (modules).
-- One answer in four is wrong on purpose, so re-asked key points are part of the load.
-- Each request kind is timed here (LuaJIT's FFI clock), because wrk's own histogram mixes them; the
-- `done` hook prints one JSON line per kind: count and latency percentiles in microseconds.

local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000000 + tonumber(clock.tv_nsec) / 1000
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

-- per-thread (per-patient) state
local codes, key, modules = {}, {}, {}
local code_index, module_index = 1, 1
local state, started, kind = "home", 0, ""
local cookie, csrf, fields, answer_id = nil, nil, nil, nil
local answered = 0
-- Globals, one flat table each: `done` reads them with thread:get, which cannot copy nested tables.
KINDS = {"answer", "next", "card", "signin"}
lat_answer, lat_next, lat_card, lat_signin = {}, {}, {}, {}
counts = {bad_status = 0, lost = 0, out_of_codes = 0, wrong_on_purpose = 0}

local function lines(path)
  local found = {}
  for line in io.lines(path) do
    if line ~= "" then table.insert(found, line) end
  end
  return found
end

function init(args)
  local folder = args[1]
  codes = lines(folder .. "/" .. id .. ".codes")
  modules = lines(folder .. "/modules")
  for _, line in ipairs(lines(folder .. "/key.tsv")) do
    local qid, right, wrong = line:match("^([^\t]+)\t([^\t]*)\t([^\t]*)$")
    key[qid] = {right = right, wrong = wrong}
  end
end

local function input_value(body, name)
  for tag in body:gmatch("<input[^>]*>") do
    if tag:find('name="' .. name .. '"', 1, true) then
      return tag:match('value="([^"]*)"')
    end
  end
  return nil
end

local function choice_body(list)
  local parts = {}
  for index in list:gmatch("[^,]+") do table.insert(parts, "choice=" .. index) end
  return table.concat(parts, "&")
end

local function next_patient()
  code_index = code_index + 1
  module_index = 1
  cookie = nil
  if code_index > #codes then
    counts.out_of_codes = counts.out_of_codes + 1
    code_index = 1 -- keeps the connection busy; reported, and the run is marked invalid
  end
  state = "home"
end

local function headers(htmx, form)
  local h = {}
  if cookie then h["Cookie"] = cookie end
  if htmx then h["HX-Request"] = "true" end
  if form then h["Content-Type"] = "application/x-www-form-urlencoded" end
  h["Referer"] = "http://" .. wrk.host .. ":" .. wrk.port .. "/"
  return h
end

local function module_path()
  return "/quiz/" .. modules[module_index]
end

function request()
  started = now_us()
  if state == "home" then
    kind = "signin"
    return wrk.format("GET", "/", headers(false, false))
  elseif state == "signin" then
    kind = "signin"
    return wrk.format("POST", "/", headers(false, true), "csrf_token=" .. csrf .. "&code=" .. codes[code_index])
  elseif state == "card" then
    kind = "card"
    return wrk.format("GET", module_path(), headers(true, false))
  elseif state == "answer" then
    kind = "answer"
    answered = answered + 1
    local entry = key[fields.question_id]
    local pick = entry.right
    if answered % 4 == 0 and entry.wrong ~= "" then
      pick = entry.wrong
      counts.wrong_on_purpose = counts.wrong_on_purpose + 1
    end
    local body = "csrf_token=" .. csrf .. "&step=" .. fields.step .. "&question_id=" .. fields.question_id ..
      "&version_id=" .. fields.version_id .. "&" .. choice_body(pick)
    return wrk.format("POST", module_path() .. "/answer", headers(true, true), body)
  else -- next
    kind = "next"
    return wrk.format("POST", module_path() .. "/next", headers(true, true),
      "csrf_token=" .. csrf .. "&answer_id=" .. answer_id)
  end
end

-- Move on from a card the server sent: a question, a feedback, or a finished module.
local function read_card(body)
  local step = input_value(body, "step")
  if step then
    fields = {step = step, question_id = input_value(body, "question_id"),
              version_id = input_value(body, "version_id")}
    csrf = input_value(body, "csrf_token") or csrf
    state = "answer"
    return
  end
  local feedback = input_value(body, "answer_id")
  if feedback then
    answer_id = feedback
    csrf = input_value(body, "csrf_token") or csrf
    state = "next"
    return
  end
  -- finished (or unavailable): the next module, or the next patient
  if module_index < #modules then
    module_index = module_index + 1
    state = "card"
  else
    next_patient()
  end
end

function response(status, headers, body)
  table.insert(_G["lat_" .. kind], now_us() - started)
  local set_cookie = headers["Set-Cookie"]
  if set_cookie then cookie = set_cookie:match("^([^;]+)") end
  if status >= 400 then
    counts.bad_status = counts.bad_status + 1
    state = cookie and "card" or "home"
    return
  end
  if state == "home" then
    csrf = input_value(body, "csrf_token")
    state = csrf and "signin" or "home"
  elseif state == "signin" then
    if status == 303 then state = "card" else counts.lost = counts.lost + 1; next_patient() end
  else
    read_card(body)
  end
end

local function percentile(sorted, p)
  if #sorted == 0 then return 0 end
  local index = math.max(1, math.ceil(#sorted * p / 100))
  return sorted[index]
end

function done(summary, latency, requests)
  local merged = {answer = {}, next = {}, card = {}, signin = {}}
  local totals = {bad_status = 0, lost = 0, out_of_codes = 0, wrong_on_purpose = 0}
  for _, thread in ipairs(threads) do
    for _, name in ipairs(KINDS) do
      for _, value in ipairs(thread:get("lat_" .. name)) do table.insert(merged[name], value) end
    end
    local c = thread:get("counts")
    for name, value in pairs(c) do totals[name] = totals[name] + value end
  end
  for name, list in pairs(merged) do
    table.sort(list)
    io.write(string.format(
      'BENCH {"kind": "%s", "requests": %d, "duration_us": %d, "p50": %d, "p95": %d, "p99": %d}\n',
      name, #list, summary.duration, percentile(list, 50), percentile(list, 95), percentile(list, 99)))
  end
  io.write(string.format(
    'BENCH {"kind": "errors", "bad_status": %d, "lost": %d, "out_of_codes": %d, "wrong_on_purpose": %d, ' ..
    '"socket_errors": %d}\n', totals.bad_status, totals.lost, totals.out_of_codes, totals.wrong_on_purpose,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
