// GET /v1/events/{id} over SEED_EVENTS events this run created, plus 10 % misses
// (random ids nobody has, answered 404).
import { cleanUp, config, eventBody, lookup, options as base, randomId, loadShape, seed, summary, thresholds } from "./lib.js";

export const options = {
  ...base,
  scenarios: { lookup: loadShape() },
  thresholds: thresholds(),
};

export function setup() {
  return { refs: seed(config.seed, (n) => eventBody(n)) };
}

export default function (data) {
  if (Math.random() < 0.1) {
    lookup(randomId(), 404);
  } else {
    lookup(data.refs[Math.floor(Math.random() * data.refs.length)]);
  }
}

export function teardown(data) {
  cleanUp(data.refs);
}

export const handleSummary = summary;
