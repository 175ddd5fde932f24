// Shared by every scenario: configuration from the runner (perf/loadtest.py), the
// target (the service, or the reference: a bare DRF view doing the same DynamoDB call),
// request helpers, thresholds from the performance targets, and the summary file.
import http from "k6/http";
import { check } from "k6";
import { Counter } from "k6/metrics";

export const config = {
  baseUrl: __ENV.BASE_URL,
  apiKey: __ENV.API_KEY || "",
  target: __ENV.TARGET || "service", // "service" | "reference"
  vus: Number(__ENV.VUS || 5),
  duration: __ENV.DURATION || "10s",
  rampUp: __ENV.RAMP_UP || "2s",
  rampDown: __ENV.RAMP_DOWN || "1s",
  // "on": the targets' latency thresholds too; "failures": only the failure rate
  thresholds: __ENV.THRESHOLDS || "on",
  // The scenario's targets, from perf/config.yaml (the runner passes them; no copy here)
  p95Ms: Number(__ENV.P95_MS || 0),
  minEventsPerS: Number(__ENV.MIN_EVENTS_PER_S || 0),
  keepAlive: __ENV.KEEP_ALIVE === "true",
  // Delete what setup() seeded when the test ends (a deployed environment keeps no data)
  cleanUp: __ENV.CLEAN_UP === "true",
  seed: Number(__ENV.SEED_EVENTS || 100),
  rate: Number(__ENV.RATE || 0), // iterations per second (an open model); 0: closed
};

const reference = config.target === "reference";

// Events stored, per second in the summary (its `rate`): the throughput that counts.
export const eventsIngested = new Counter("events_ingested");

// The load shape of most scenarios: ramp up to VUS, hold, ramp down (a closed model:
// each VU sends its next request when the last is answered). With RATE (the profile's
// `rate`), an open model instead: RATE iterations a second, ramped the same way, served
// by up to VUS VUs; iterations no VU was free for count as dropped_iterations. At a fixed
// offered load, CPU per request is the code's cost, not the load level's (perf/README.md).
export function loadShape(extra = {}) {
  if (config.rate > 0) {
    return {
      executor: "ramping-arrival-rate",
      startRate: Math.min(10, config.rate),
      timeUnit: "1s",
      preAllocatedVUs: config.vus,
      maxVUs: config.vus,
      stages: [
        { duration: config.rampUp, target: config.rate },
        { duration: config.duration, target: config.rate },
        { duration: config.rampDown, target: 0 },
      ],
      ...extra,
    };
  }
  return {
    executor: "ramping-vus",
    startVUs: Math.min(10, config.vus),
    stages: [
      { duration: config.rampUp, target: config.vus },
      { duration: config.duration, target: config.vus },
      { duration: config.rampDown, target: 0 },
    ],
    gracefulRampDown: "5s",
    ...extra,
  };
}

// The failure budget (< 0.1 %), for failed requests and for wrong answers (a check: a
// batch that did not store every event); with THRESHOLDS=on, the scenario's p95 target
// (perf/config.yaml); where the profile asks, its events/s target. `latency` names the
// metric the p95 target applies to.
export function thresholds(latency = "http_req_duration{expected_response:true}") {
  const limits = { http_req_failed: ["rate<0.001"], checks: ["rate>0.999"] };
  if (config.thresholds === "on" && !reference) {
    if (!config.p95Ms) throw new Error("P95_MS is unset: run scenarios through perf/loadtest.py");
    limits[latency] = [`p(95)<${config.p95Ms}`];
  }
  if (config.minEventsPerS && !reference) limits.events_ingested = [`rate>${config.minEventsPerS}`];
  return limits;
}

export const options = {
  summaryTrendStats: ["avg", "min", "med", "p(90)", "p(95)", "p(99)", "max", "count"],
  // Locally a new connection per request, as Elastic Beanstalk's nginx opens to gunicorn
  // by default (kept-alive connections would pin each VU to one gunicorn worker); against
  // a deployed environment kept alive, as its clients do (KEEP_ALIVE, per environment).
  noConnectionReuse: !config.keepAlive,
};

const jsonHeaders = {
  "Content-Type": "application/json",
  "X-API-Key": config.apiKey,
};

export function eventBody(n, source = "loadtest", eventType = "load.tested") {
  return {
    source,
    event_type: eventType,
    payload: { n, vu: __VU, note: "a small, typical payload" }, // __VU is 0 in setup()
    metadata: { priority: "normal" },
  };
}

// What to look up, ack or delete later: the event id (the reference, too, looks events
// up by id on an id index, as the service does).
function refOf(created) {
  return created.event_id;
}

export function createEvent(body) {
  const url = reference ? `${config.baseUrl}/ref/events` : `${config.baseUrl}/v1/events`;
  const response = http.post(url, JSON.stringify(body), { headers: jsonHeaders, tags: { name: "create" } });
  const ok = check(response, { "created (201)": (r) => r.status === 201 });
  if (!ok) return null;
  eventsIngested.add(1);
  return refOf(response.json());
}

// `count`: whether the events count towards events/s (not when seeding in setup()).
export function createBatch(bodies, count = true) {
  const url = reference ? `${config.baseUrl}/ref/events/batch` : `${config.baseUrl}/v1/events/batch`;
  const response = http.post(url, JSON.stringify({ events: bodies }), { headers: jsonHeaders, tags: { name: "batch" } });
  if (!check(response, { "batch answered (200)": (r) => r.status === 200 })) return [];
  const stored = response.json().results.filter((r) => reference || r.event_id);
  check(stored, { "every event of the batch stored": (s) => s.length === bodies.length });
  if (count) eventsIngested.add(stored.length);
  return stored.map(refOf);
}

export function lookup(ref, expected = 200) {
  const path = reference ? `/ref/events/${ref}` : `/v1/events/${ref}`;
  const response = http.get(`${config.baseUrl}${path}`, {
    headers: jsonHeaders,
    tags: { name: expected === 200 ? "lookup" : "lookup-miss" },
    responseCallback: http.expectedStatuses(expected),
  });
  check(response, { [`lookup answered ${expected}`]: (r) => r.status === expected });
}

// One inbox page; returns the next cursor (null at the end). The reference takes the
// same limit, filters and cursor, and reads the same index (perf/reference/views.py).
export function inboxPage(filters = {}, cursor = null, limit = 50) {
  const query = { limit, ...filters };
  if (cursor) query.cursor = cursor;
  const qs = Object.entries(query).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
  const path = reference ? `/ref/inbox?${qs}` : `/v1/inbox?${qs}`;
  const response = http.get(`${config.baseUrl}${path}`, { headers: jsonHeaders, tags: { name: "inbox" } });
  if (!check(response, { "inbox page (200)": (r) => r.status === 200 })) return null;
  return response.json().pagination.next_cursor;
}

export function acknowledge(ref) {
  const path = reference ? `/ref/events/${ref}/ack` : `/v1/events/${ref}/ack`;
  const response = http.post(`${config.baseUrl}${path}`, null, { headers: jsonHeaders, tags: { name: "ack" } });
  check(response, { "acknowledged (200)": (r) => r.status === 200 });
}

export function remove(ref) {
  const path = reference ? `/ref/events/${ref}` : `/v1/events/${ref}`;
  const response = http.del(`${config.baseUrl}${path}`, null, { headers: jsonHeaders, tags: { name: "delete" } });
  check(response, { "deleted (204)": (r) => r.status === 204 });
}

// Seeds `count` events in batches of 25 (setup()); returns their refs.
export function seed(count, bodyOf) {
  const refs = [];
  for (let start = 0; start < count; start += 25) {
    const bodies = [];
    for (let n = start; n < Math.min(count, start + 25); n++) bodies.push(bodyOf(n));
    refs.push(...createBatch(bodies, false));
  }
  return refs;
}

// Events deleted by cleanUp(): the seeded ones, when the environment asks for it.
export const eventsCleanedUp = new Counter("events_cleaned_up");

// teardown(): delete the seeded events, where the environment keeps no load-test data.
export function cleanUp(refs) {
  if (!config.cleanUp) return;
  for (const ref of refs) {
    const path = reference ? `/ref/events/${ref}` : `/v1/events/${ref}`;
    const response = http.del(`${config.baseUrl}${path}`, null, {
      headers: jsonHeaders,
      tags: { name: "cleanup" },
      responseCallback: http.expectedStatuses(204, 404), // acked, deleted by the run: fine
    });
    if (response.status === 204) eventsCleanedUp.add(1);
  }
}

export function summary(data) {
  return { [__ENV.SUMMARY]: JSON.stringify(data) };
}

// A UUIDv4 nobody has: a lookup miss.
export function randomId() {
  const hex = "0123456789abcdef";
  let id = "";
  for (let i = 0; i < 32; i++) id += hex[Math.floor(Math.random() * 16)];
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-4${id.slice(13, 16)}-a${id.slice(17, 20)}-${id.slice(20)}`;
}
