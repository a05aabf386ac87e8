-- GET /context/user/u<i>?n=20 over UT_USERS distinct users in turn: cold reads that cannot
-- share a build (bench/context.py --cold, the "distinct users" rows).
local users = tonumber(os.getenv("UT_USERS") or "200")
local counter = 0

request = function()
  counter = counter + 1
  return wrk.format("GET", "/context/user/u" .. (counter % users) .. "?n=20")
end
