// POST /v1/events/batch with 25 events each: the throughput path (events/s).
import { createBatch, eventBody, options as base, loadShape, summary, thresholds } from "./lib.js";

export const options = {
  ...base,
  scenarios: { batch: loadShape() },
  thresholds: thresholds(),
};

export default function () {
  const bodies = [];
  for (let n = 0; n < 25; n++) bodies.push(eventBody(__ITER * 25 + n));
  createBatch(bodies);
}

export const handleSummary = summary;
