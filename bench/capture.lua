-- wrk script: POST capture requests with unique uuids, so nothing is deduplicated away.
-- Settings come from the environment: UT_TOKEN, UT_PATH, UT_BATCH (events per request), and
-- UT_SECRET for the webhook route (PostHog's HTTP Webhook body, one event per request).
local token = os.getenv("UT_TOKEN")
local secret = os.getenv("UT_SECRET")
local path = os.getenv("UT_PATH") or "/batch/"
local batch = tonumber(os.getenv("UT_BATCH") or "1")
local counter = 0
local prefix

function setup(thread)
  thread:set("thread_id", math.random(0, 0xffff))
end

function init(args)
  prefix = string.format("%04x", thread_id or 0)
end

local function uuid()
  counter = counter + 1
  return string.format("0190f6c2-%s-7000-8000-%012x", prefix, counter)
end

local function event()
  return string.format(
    '{"event":"$autocapture","uuid":"%s","distinct_id":"user_%d","timestamp":"2026-11-24T10:00:00Z",'
    .. '"properties":{"$current_url":"https://app.acme.test/settings/billing","$session_id":"s_%d",'
    .. '"$event_type":"click","$elements_chain":"button.btn:text=\\"Upgrade\\"nth-child=\\"1\\";div.plan-card:attr__data-ph-component=\\"plan-picker\\""}}',
    uuid(), counter % 1000, counter % 5000)
end

-- PostHog's HTTP Webhook destination: its default body, {"event": {...}, "person": {...}}.
local function webhook()
  local body = string.format(
    '{"event":{"uuid":"%s","event":"$autocapture","distinct_id":"user_%d",'
    .. '"properties":{"$current_url":"https://app.acme.test/settings/billing","$session_id":"s_%d",'
    .. '"$event_type":"click"},"elements_chain":"button.btn:text=\\"Upgrade\\"nth-child=\\"1\\"",'
    .. '"timestamp":"2026-11-24T10:00:00.000Z","url":"https://eu.posthog.com/events/x"},'
    .. '"person":{"id":"p-%d","properties":{"email":"u%d@example.com","plan":"free"},"name":"U","url":"x"}}',
    uuid(), counter % 1000, counter % 5000, counter % 1000, counter % 1000)
  return wrk.format("POST", path, {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. secret}, body)
end

request = function()
  if secret then return webhook() end
  local events = {}
  for i = 1, batch do events[i] = event() end
  local body
  if batch == 1 and path ~= "/batch/" then
    body = events[1]:sub(1, -2) .. ',"api_key":"' .. token .. '"}'
  else
    body = '{"api_key":"' .. token .. '","batch":[' .. table.concat(events, ",") .. ']}'
  end
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end

-- Optional pacing: UT_DELAY_MS between requests on each connection (rate ~ conns * 1000 / delay).
local delay_ms = tonumber(os.getenv("UT_DELAY_MS") or "")
if delay_ms then
  function delay()
    return delay_ms
  end
end
