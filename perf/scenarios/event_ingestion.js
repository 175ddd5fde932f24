// POST /v1/events: ramp from up to 10 VUs to VUS, hold for DURATION, ramp down.
import { createEvent, eventBody, options as base, loadShape, summary, thresholds } from "./lib.js";

export const options = {
  ...base,
  scenarios: { ingest: loadShape() },
  thresholds: thresholds(),
};

export default function () {
  createEvent(eventBody(__ITER));
}

export const handleSummary = summary;
