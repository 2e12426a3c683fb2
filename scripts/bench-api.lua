local queries = {"money", "from:example.com", "subject:free", "category:other", "click%20OR%20offer", "%22click%20here%22", "after:2002-09-01%20before:2002-10-01", "has:attachment"}
local token = os.getenv("TOKEN")
local i = 0
request = function()
  i = i + 1
  local q = queries[(i % #queries) + 1]
  return wrk.format("GET", "/api/search?q=" .. q, {["Authorization"] = "Bearer " .. token})
end
