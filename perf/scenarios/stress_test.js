// Past capacity: POST /v1/events at an arrival rate that climbs from START_RATE to
// PEAK_RATE requests/s over CLIMB, then drops to RECOVERY_RATE for RECOVERY. The runner
// reads the per-request results (k6 --out json) to find where it broke (errors, p95 over
// the target, requests k6 could not even start) and how long it took to recover.
import { createEvent, eventBody, options as base, summary } from "./lib.js";

const rate = (name, fallback) => Number(__ENV[name] || fallback);

export const options = {
  ...base,
  scenarios: {
    stress: {
      executor: "ramping-arrival-rate",
      startRate: rate("START_RATE", 20),
      timeUnit: "1s",
      preAllocatedVUs: rate("MAX_VUS", 200),
      maxVUs: rate("MAX_VUS", 200),
      stages: [
        { duration: __ENV.CLIMB || "30s", target: rate("PEAK_RATE", 800) },
        { duration: "1s", target: rate("RECOVERY_RATE", 20) },
        { duration: __ENV.RECOVERY || "20s", target: rate("RECOVERY_RATE", 20) },
      ],
    },
  },
  // Breaking is the point here: nothing fails the run.
  thresholds: {},
};

export default function () {
  createEvent(eventBody(__ITER));
}

export const handleSummary = summary;
