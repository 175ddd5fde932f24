// Two tenants on one service: a quiet one at a fixed rate, and (NOISY_RATE > 0) a noisy
// one at a fixed, much higher rate, to NOISY_PATH (its inbox; or the liveness path, the
// cheapest answer the service has, for the floor). Run by perf/rate_limit_isolation.py;
// each request is tagged with its tenant so the summary holds each one's figures.
import http from "k6/http";
import { Counter } from "k6/metrics";

const BASE_URL = __ENV.BASE_URL;
const DURATION = __ENV.DURATION || "15s";
const NOISY_RATE = Number(__ENV.NOISY_RATE || 0);
const NOISY_PATH = __ENV.NOISY_PATH || "/v1/inbox?limit=10";
const limited = new Counter("rate_limited");

const scenarios = {
  quiet: {
    executor: "constant-arrival-rate",
    rate: Number(__ENV.QUIET_RATE || 20),
    timeUnit: "1s",
    duration: DURATION,
    preAllocatedVUs: 10,
    maxVUs: 50, // a slow phase measures the quiet tenant's latency, not k6 running out of VUs
    exec: "quiet",
  },
};
if (NOISY_RATE > 0) {
  scenarios.noisy = {
    executor: "constant-arrival-rate",
    rate: NOISY_RATE,
    timeUnit: "1s",
    duration: DURATION,
    preAllocatedVUs: 20,
    maxVUs: 60, // when the service cannot keep up, k6 drops iterations rather than queueing
    exec: "noisy",
  };
}

export const options = {
  scenarios,
  summaryTrendStats: ["med", "p(95)", "p(99)"],
  // thresholds that always pass: they make k6 keep each tenant's figures apart
  thresholds: {
    "http_req_duration{tenant:quiet}": ["p(95)>=0"],
    "http_req_duration{tenant:noisy}": ["p(95)>=0"],
    "http_reqs{tenant:quiet}": ["count>=0"],
    "http_reqs{tenant:noisy}": ["count>=0"],
    "http_req_failed{tenant:quiet}": ["rate>=0"],
    "rate_limited{tenant:noisy}": ["count>=0"],
    "rate_limited{tenant:quiet}": ["count>=0"],
  },
};

function get(tenant, key, path) {
  const response = http.get(`${BASE_URL}${path}`, {
    headers: { "X-API-Key": key },
    tags: { tenant },
    responseCallback: http.expectedStatuses(200, 429),
  });
  if (response.status === 429) limited.add(1, { tenant });
}

export function quiet() {
  get("quiet", __ENV.QUIET_KEY, "/v1/inbox?limit=10");
}

export function noisy() {
  get("noisy", __ENV.NOISY_KEY, NOISY_PATH);
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY]: JSON.stringify(data) };
}
