// Producers post while consumers lease and ack (perf/scenarios/consumers.js): every event
// acked exactly once, no ack refused, the lease p95.
import { consumeWith, handleSummaryWith, optionsFor, produce, setup, teardownWith } from "./consumers.js";

export const options = optionsFor(false);
export { produce, setup };
export const consume = consumeWith(false);
export const teardown = teardownWith(false);
export const handleSummary = handleSummaryWith(false);
