-- wrk script: POST /complaints with JSON bodies at seeded random points over Kolkata,
-- cycling through categories; counts 201s and anything else.
local cats = {
  {"park_maintenance", ""},
  {"water_body_pollution", ""},
  {"heritage_damage", ',"attributes":{"damage_type":"vandalism"}'},
  {"water_body_filling", ',"attributes":{"filling_in_progress":"yes"}'},
  {"tree_felling", ',"attributes":{"felling_in_progress":"no"}'},
  {"other", ""},
}
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(42 + id)
  created, refused = 0, 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local c = cats[(counter % #cats) + 1]
  local lon = 88.28 + math.random() * 0.12
  local lat = 22.48 + math.random() * 0.14
  local body = string.format(
    '{"lon":%.6f,"lat":%.6f,"category":"%s","description":"Load test complaint %d from thread %d","name":"Load Tester","phone":"+91 98300 00000"%s}',
    lon, lat, c[1], counter, id, c[2])
  return wrk.format(nil, "/complaints", nil, body)
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else refused = refused + 1 end
end

function done(summary, latency, requests)
  local c, r = 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created")
    r = r + t:get("refused")
  end
  io.write(string.format("201 Created: %d, other: %d\n", c, r))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("p%s: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
