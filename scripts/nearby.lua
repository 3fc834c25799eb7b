-- wrk script: replays a fixed list of request paths (one per line in $WRK_PATHS),
-- each connection starting at a different offset so they do not march in step.
local paths = {}
local counter = 0

function init(args)
  for line in io.lines(os.getenv("WRK_PATHS")) do
    paths[#paths + 1] = line
  end
  counter = math.random(#paths)
end

function request()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter])
end
