-- wrk script: POST one charge per request, each with a unique charge_id.
--
--   wrk -t1 -c24 -d10s -s bench/charges.lua http://127.0.0.1:8765 -- MODE KEY ARG RUNID [WORKSPACE]
--
-- MODE spread: ARG is the number of clients; each request charges c<random 1..ARG>.
-- MODE hot:    ARG is one service client id; every request charges it.
-- charge_id = RUNID-<wrk thread>-<counter>: unique across threads and runs.
-- Only 201s count as charges; every other status is counted apart (see done()).

local threads = {}

function setup(thread)
   thread:set("tid", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   mode = args[1]
   local key = args[2]
   target = args[3]
   runid = args[4] or "wrk"
   local workspace = args[5] or "c2b"
   n_clients = tonumber(target) or 1
   prefix = "/api/v1/workspaces/" .. workspace .. "/clients/"
   headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }
   counter = 0
   ok, other, sample = 0, 0, ""
   statuses = {}
   math.randomseed(os.time() * 1000 + tid * 7919)
end

function request()
   counter = counter + 1
   local client
   if mode == "hot" then
      client = target
   else
      client = "c" .. math.random(1, n_clients)
   end
   local body = string.format('{"charge_id": "%s-%d-%d", "product": "bench", "amount": "1.00"}', runid, tid, counter)
   return wrk.format("POST", prefix .. client .. "/charges", headers, body)
end

function response(status, hdrs, body)
   if status == 201 then
      ok = ok + 1
   else
      other = other + 1
      statuses[status] = (statuses[status] or 0) + 1
      if sample == "" then sample = tostring(status) .. " " .. string.sub(body or "", 1, 300) end
   end
end

function done(summary, latency, requests)
   local ok_total, other_total, sample_any = 0, 0, ""
   local by_status = {}
   for _, t in ipairs(threads) do
      ok_total = ok_total + t:get("ok")
      other_total = other_total + t:get("other")
      for s, n in pairs(t:get("statuses") or {}) do by_status[s] = (by_status[s] or 0) + n end
      if sample_any == "" then sample_any = t:get("sample") end
   end
   local parts = {}
   for s, n in pairs(by_status) do table.insert(parts, string.format('"%d": %d', s, n)) end
   local e = summary.errors
   io.write(string.format(
      'BENCH {"ok": %d, "items_ok": %d, "other": %d, "other_by_status": {%s}, "responses": %d, "duration_us": %d, ' ..
      '"socket_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "sample": "%s"}\n',
      ok_total, ok_total, other_total, table.concat(parts, ", "), summary.requests, summary.duration,
      e.connect + e.read + e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      (string.gsub(string.gsub(string.gsub(sample_any, '%c', ' '), '\\', '\\\\'), '"', '\\"'))))
end
