// competing_consumers with crashing consumers: leases are dropped (no ack, no release,
// a 2 s lease); those events come back to others (events_redelivered > 0) and every
// event is still acked exactly once or dead-lettered (perf/scenarios/consumers.js).
import { consumeWith, handleSummaryWith, optionsFor, produce, setup, teardownWith } from "./consumers.js";

export const options = optionsFor(true);
export { produce, setup };
export const consume = consumeWith(true);
export const teardown = teardownWith(true);
export const handleSummary = handleSummaryWith(true);
