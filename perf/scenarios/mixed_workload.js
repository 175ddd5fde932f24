// 70 % create, 20 % inbox page, 5 % ack, 5 % delete; acks and deletes act on events this
// VU created earlier in the run.
import { acknowledge, createEvent, eventBody, inboxPage, options as base, loadShape, remove, summary, thresholds } from "./lib.js";

export const options = {
  ...base,
  scenarios: { mixed: loadShape() },
  thresholds: thresholds(),
};

const created = []; // this VU's events not yet acked or deleted

export default function () {
  const roll = Math.random();
  if (roll < 0.7 || created.length === 0) {
    const ref = createEvent(eventBody(__ITER));
    if (ref) created.push(ref);
  } else if (roll < 0.9) {
    inboxPage();
  } else if (roll < 0.95) {
    acknowledge(created.shift());
  } else {
    remove(created.shift());
  }
}

export const handleSummary = summary;
