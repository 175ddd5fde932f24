// GET /v1/inbox pages of 50, unfiltered and filtered by source, type and both, following
// cursors to the end of the inbox (at most 5 pages per round), over SEED_EVENTS events.
import { cleanUp, config, eventBody, inboxPage, options as base, loadShape, seed, summary, thresholds } from "./lib.js";

const SOURCES = ["billing", "shipping", "auth"];
const TYPES = ["created", "updated"];
const FILTERS = [
  {},
  { source: "billing" },
  { event_type: "updated" },
  { source: "shipping", event_type: "created" },
];

export const options = {
  ...base,
  scenarios: { inbox: loadShape() },
  thresholds: thresholds(),
};

export function setup() {
  return { refs: seed(config.seed, (n) => eventBody(n, SOURCES[n % 3], TYPES[Math.floor(n / 3) % 2])) };
}

export function teardown(data) {
  cleanUp(data.refs);
}

export default function () {
  const filters = FILTERS[__ITER % FILTERS.length];
  let cursor = inboxPage(filters);
  for (let page = 1; cursor && page < 5; page++) cursor = inboxPage(filters, cursor);
}

export const handleSummary = summary;
