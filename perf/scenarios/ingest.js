// POST /v1/events at a constant number of virtual users for a fixed duration.
// Run by perf/harness.py, which passes BASE_URL, API_KEY, VUS, DURATION and SUMMARY.
import http from "k6/http";
import { check } from "k6";

export const options = {
  vus: Number(__ENV.VUS || 10),
  duration: __ENV.DURATION || "15s",
  summaryTrendStats: ["avg", "min", "med", "p(90)", "p(95)", "p(99)", "max"],
  // A new connection per request, as Elastic Beanstalk's nginx opens to gunicorn by
  // default. With kept-alive connections, gunicorn pins each one to the worker that
  // accepted it; an uneven split (say 8 of 10 on one worker) halves throughput at random
  // and makes runs incomparable.
  noConnectionReuse: true,
};

const url = `${__ENV.BASE_URL}/v1/events`;
const params = {
  headers: { "Content-Type": "application/json", "X-API-Key": __ENV.API_KEY },
};

export default function () {
  const body = JSON.stringify({
    source: "perf",
    event_type: "load.tested",
    payload: { vu: __VU, iteration: __ITER, note: "a small, typical payload" },
    metadata: { priority: "normal" },
  });
  const response = http.post(url, body, params);
  check(response, { "status is 201": (r) => r.status === 201 });
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY]: JSON.stringify(data) };
}
