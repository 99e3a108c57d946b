-- wrk script: POST /api/v1/workspaces/WS/charges:batch with ITEMS charges per request, each with a
-- unique charge_id and a random client among c1..cN.
--
--   wrk -t1 -c2 -d10s -s bench/batch.lua http://127.0.0.1:8765 -- KEY CLIENTS ITEMS RUNID [WORKSPACE]
--
-- Charges/s = created items/s: in a 2xx answer, the results whose "status" is 201 (what the single
-- call would answer: 201 created, 200 repeat, 4xx error); other HTTP statuses count as failed requests.

local threads = {}

function setup(thread)
   thread:set("tid", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   local key = args[1]
   n_clients = tonumber(args[2]) or 10000
   n_items = tonumber(args[3]) or 1000
   runid = args[4] or "batch"
   local workspace = args[5] or "c2b"
   path = "/api/v1/workspaces/" .. workspace .. "/charges:batch"
   headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }
   counter = 0
   ok, items_ok, other, sample = 0, 0, 0, ""
   statuses = {}
   math.randomseed(os.time() * 1000 + tid * 7919)
end

function request()
   local items = {}
   for i = 1, n_items do
      counter = counter + 1
      items[i] = string.format(
         '{"service_client_id": "c%d", "charge_id": "%s-%d-%d", "product": "bench", "amount": "1.00"}',
         math.random(1, n_clients), runid, tid, counter)
   end
   return wrk.format("POST", path, headers, '{"charges": [' .. table.concat(items, ", ") .. ']}')
end

function response(status, hdrs, body)
   if status >= 200 and status < 300 then
      ok = ok + 1
      local _, n = string.gsub(body or "", '"status"%s*:%s*201[^%d]', "")
      items_ok = items_ok + n
   else
      other = other + 1
      statuses[status] = (statuses[status] or 0) + 1
      if sample == "" then sample = tostring(status) .. " " .. string.sub(body or "", 1, 300) end
   end
end

function done(summary, latency, requests)
   local ok_total, items_total, other_total, sample_any = 0, 0, 0, ""
   local by_status = {}
   for _, t in ipairs(threads) do
      ok_total = ok_total + t:get("ok")
      items_total = items_total + t:get("items_ok")
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
      ok_total, items_total, other_total, table.concat(parts, ", "), summary.requests, summary.duration,
      e.connect + e.read + e.write, e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      (string.gsub(string.gsub(string.gsub(sample_any, '%c', ' '), '\\', '\\\\'), '"', '\\"'))))
end
