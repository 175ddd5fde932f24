// Competing consumers, shared by competing_consumers.js and its fault variant:
// producers post SEED_EVENTS events (their own source, unique to the run) while VUS
// consumers lease them 10 at a time and ack each with its lease token. teardown() drains
// what is left (leases and acks until nothing is leased for longer than a lease lasts)
// and counts the run's dead letters. handleSummary() then holds the run to its
// accounting: every posted event acked exactly once or dead-lettered, and (without
// faults) no ack refused, which is what a second consumer holding a leased event would
// cause. The lease p95 is `lease_duration` in the summary.
//
// With `fault`, leases are dropped as a crashed consumer would drop them (no ack, no
// release, a 2 s lease): each consumer's first lease that returns events, then a tenth of
// the others. The events must come back to other consumers (`events_redelivered` > 0)
// and still be acked exactly once.
import http from "k6/http";
import { check, sleep } from "k6";
import { Counter, Trend } from "k6/metrics";
import { config, eventsIngested, options as base, thresholds } from "./lib.js";

const headers = { "Content-Type": "application/json", "X-API-Key": config.apiKey };
const acked = new Counter("events_acked");
const redelivered = new Counter("events_redelivered");
const leaseLost = new Counter("lease_lost");
const dropped = new Counter("leases_dropped");
const deadLettered = new Counter("events_dead_lettered");
const leaseDuration = new Trend("lease_duration", true);

const FAULT_DROP_SHARE = 0.1;
const FAULT_TIMEOUT_S = 2;
const TIMEOUT_S = 60;

export function optionsFor(fault) {
  const limits = thresholds("lease_duration"); // the p95 target is the lease's
  if (fault) limits.events_redelivered = ["count>0"];
  else limits.lease_lost = ["count==0"];
  return {
    ...base,
    teardownTimeout: "3m", // the drain follows cursors past the tenant's other events
    scenarios: {
      producers: {
        executor: "shared-iterations",
        vus: Math.max(1, Math.ceil(config.vus / 2)),
        iterations: config.seed,
        maxDuration: "10m",
        exec: "produce",
      },
      consumers: {
        executor: "constant-vus",
        vus: config.vus,
        duration: config.duration,
        exec: "consume",
      },
    },
    thresholds: limits,
  };
}

export function setup() {
  return { source: `consumers-${Date.now()}-${Math.floor(Math.random() * 1e9)}` };
}

export function produce(data) {
  const body = { source: data.source, event_type: "consumed", payload: { n: __ITER, vu: __VU } };
  const response = http.post(`${config.baseUrl}/v1/events`, JSON.stringify(body), {
    headers,
    tags: { name: "create" },
  });
  if (check(response, { "created (201)": (r) => r.status === 201 })) eventsIngested.add(1);
}

// One lease of the run's events; `cursor` continues where the last one's read budget
// stopped (the run's events may sit behind many others of the same tenant).
// `name`: "lease" for the consumers' leases (their p95 is `lease_duration`), "drain" for
// teardown's (100 at a time, after the run).
function lease(source, limit, timeout, cursor, name = "lease") {
  const body = JSON.stringify({ limit, visibility_timeout: timeout, source, ...(cursor ? { cursor } : {}) });
  const response = http.post(`${config.baseUrl}/v1/inbox/lease`, body, { headers, tags: { name } });
  if (name === "lease") leaseDuration.add(response.timings.duration);
  if (!check(response, { "leased (200)": (r) => r.status === 200 })) return { events: [], next: null };
  const answer = response.json();
  for (const event of answer.events) if (event.lease.delivery_count > 1) redelivered.add(1);
  return { events: answer.events, next: answer.next_cursor };
}

function ack(event) {
  const response = http.post(
    `${config.baseUrl}/v1/events/${event.event_id}/ack`,
    JSON.stringify({ lease_token: event.lease.token }),
    { headers, tags: { name: "ack" }, responseCallback: http.expectedStatuses(200, 409) },
  );
  if (response.status === 200) acked.add(1);
  else if (response.status === 409) leaseLost.add(1);
  else check(response, { "acked (200 or 409)": () => false });
}

let crashedOnce = false; // per VU
let cursor = null; // per VU

export function consumeWith(fault) {
  return function (data) {
    const timeout = fault ? FAULT_TIMEOUT_S : TIMEOUT_S;
    const leased = lease(data.source, 10, timeout, cursor);
    const events = leased.events;
    cursor = leased.next;
    if (events.length === 0) {
      if (!cursor) sleep(0.2); // back off when there is nothing to do
      return;
    }
    if (fault && (!crashedOnce || Math.random() < FAULT_DROP_SHARE)) {
      crashedOnce = true;
      dropped.add(events.length); // a crash: the leases run out, nobody acks
      return;
    }
    for (const event of events) ack(event);
  };
}

// After the run: ack whatever is left, in passes over the queue (following cursors past
// the tenant's other events), until a pass that starts longer after the last event found
// than a lease lasts finds nothing (a dropped lease has run out by then); then count the
// dead letters.
export function teardownWith(fault) {
  return function (data) {
    const quiet = ((fault ? FAULT_TIMEOUT_S : 0) + 1) * 1000;
    const deadline = Date.now() + 150000;
    let lastFound = Date.now();
    while (Date.now() < deadline) {
      const passStarted = Date.now();
      let found = 0;
      let next = null;
      do {
        const leased = lease(data.source, 100, TIMEOUT_S, next, "drain");
        next = leased.next;
        found += leased.events.length;
        for (const event of leased.events) ack(event);
      } while (next && Date.now() < deadline);
      if (found) lastFound = Date.now();
      else if (passStarted - lastFound > quiet) break;
      else sleep(0.25);
    }
    let cursor = null;
    do {
      const query = `source=${encodeURIComponent(data.source)}&limit=100${cursor ? `&cursor=${cursor}` : ""}`;
      const page = http.get(`${config.baseUrl}/v1/dead-letters?${query}`, { headers, tags: { name: "dead-letters" } });
      if (!check(page, { "dead letters listed (200)": (r) => r.status === 200 })) break;
      deadLettered.add(page.json().events.length);
      cursor = page.json().pagination.next_cursor;
    } while (cursor);
  };
}

function count(data, name) {
  const metric = data.metrics[name];
  return metric ? metric.values.count : 0;
}

// The run's accounting, written into the summary as a metric with a threshold, so that
// the runner fails the run on it like on any other threshold.
export function handleSummaryWith(fault) {
  return function (data) {
    const posted = count(data, "events_ingested");
    const done = count(data, "events_acked") + count(data, "events_dead_lettered");
    const ok = posted > 0 && done === posted;
    data.metrics.accounting = {
      type: "counter",
      contains: "default",
      values: { count: done, posted },
      thresholds: { "every posted event acked exactly once or dead-lettered": { ok } },
    };
    if (!ok) console.error(`accounting: ${done} acked or dead-lettered of ${posted} posted`);
    return { [__ENV.SUMMARY]: JSON.stringify(data) };
  };
}
