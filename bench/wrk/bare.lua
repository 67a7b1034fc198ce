-- wrk script for the bare endpoint: plain GETs of the path given on the command line; at the end,
-- one JSON line with the counts and latency percentiles (wrk's own histogram, microseconds).
function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"kind": "bare", "requests": %d, "duration_us": %d, "p50": %d, "p95": %d, "p99": %d, ' ..
    '"non_2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
