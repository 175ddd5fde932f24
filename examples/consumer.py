#!/usr/bin/env python3
"""A Triggers API consumer to copy: lease events, process them, ack or release.

Standard library only. Run as many copies as you like: leases give each event to one
of them at a time.

    TRIGGERS_URL=http://127.0.0.1:8000 TRIGGERS_API_KEY=trg_... python examples/consumer.py

What it does (docs/API.md, "Leases"):
- leases up to --limit events for --visibility-timeout seconds;
- processes each (`process` below: replace it with your own work, and make it
  idempotent: an event can be delivered more than once);
- while an event is being processed, extends its lease at half the timeout;
- acks it when `process` returns, releases it (back off: delay growing with its
  delivery count) when `process` raises; after LEASE_MAX_DELIVERIES failed
  deliveries the service dead-letters it;
- when a lease comes back empty, waits (1 s, doubling up to 30 s) before leasing again,
  unless it has a `next_cursor` (its filter's matches lie further on: lease on from there);
- retries a 429 or 503 after the `Retry-After` it was given;
- stops on Ctrl-C (SIGINT) or SIGTERM after the event in hand, releasing the rest.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
import time
import urllib.error
import urllib.request
from typing import Any

log = logging.getLogger("consumer")


class Api:
    """The few calls a consumer makes, with retries after 429 and 503."""

    def __init__(self, url: str, key: str, *, attempts: int = 5) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.attempts = attempts

    def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        data = json.dumps(body).encode()
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(  # noqa: S310 - the URL is the operator's
                self.url + path,
                data=data,
                method="POST",
                headers={"X-API-Key": self.key, "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    return response.status, json.load(response)
            except urllib.error.HTTPError as error:
                answer = json.load(error)
                if error.code in (429, 503) and attempt < self.attempts:
                    wait = float(error.headers.get("Retry-After", "1"))
                    log.warning("%s %s: %s, retrying in %.0f s", path, error.code,
                                answer["error"]["code"], wait)  # fmt: skip
                    time.sleep(wait)
                    continue
                return error.code, answer
            except (urllib.error.URLError, TimeoutError) as error:
                if attempt == self.attempts:
                    raise
                log.warning("%s: %s, retrying", path, error)
                time.sleep(min(2**attempt, 30))
        raise AssertionError("unreachable")


def process(event: dict[str, Any]) -> None:
    """Your work. Raise to have the event released and delivered again later."""
    log.info("processing %s %s/%s (delivery %d): %s", event["event_id"], event["source"],
             event["event_type"], event["lease"]["delivery_count"],
             json.dumps(event["payload"])[:200])  # fmt: skip


class KeepLease:
    """Extends a lease at half its timeout until stopped (a context manager)."""

    def __init__(self, api: Api, token: str, timeout: int) -> None:
        self.api, self.token, self.timeout = api, token, timeout
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> KeepLease:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    def _run(self) -> None:
        while not self.stop.wait(self.timeout / 2):
            status, answer = self.api.post(
                "/v1/inbox/extend",
                {"lease_tokens": [self.token], "visibility_timeout": self.timeout},
            )
            result = answer.get("results", [{}])[0]
            if status != 200 or "error" in result:
                log.warning("could not extend the lease: %s", result.get("error", answer))
                return


def handle(api: Api, event: dict[str, Any], timeout: int) -> str:
    """Process one leased event; ack it, or release it on failure."""
    token = event["lease"]["token"]
    try:
        with KeepLease(api, token, timeout):
            process(event)
    except Exception:
        log.exception("processing %s failed", event["event_id"])
        delay = min(2 ** event["lease"]["delivery_count"], 300)  # back off
        status, answer = api.post("/v1/inbox/release", {"lease_tokens": [token], "delay": delay})
        return f"released ({answer.get('results', [{}])[0].get('status', status)})"
    status, answer = api.post(f"/v1/events/{event['event_id']}/ack", {"lease_token": token})
    if status == 409:  # LEASE_LOST: it ran out first, and someone else may have it now
        log.warning("ack refused: %s", answer["error"]["message"])
        return "lease lost"
    return "acknowledged" if status == 200 else f"ack failed ({status})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", default=os.environ.get("TRIGGERS_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--key", default=os.environ.get("TRIGGERS_API_KEY"))
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--visibility-timeout", type=int, default=30)
    parser.add_argument("--source")
    parser.add_argument("--event-type")
    parser.add_argument(
        "--exit-when-empty", action="store_true", help="Stop at the first empty lease."
    )
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not options.key:
        parser.error("give --key or set TRIGGERS_API_KEY")

    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())

    api = Api(options.url, options.key)
    body: dict[str, Any] = {
        "limit": options.limit,
        "visibility_timeout": options.visibility_timeout,
        **({"source": options.source} if options.source else {}),
        **({"event_type": options.event_type} if options.event_type else {}),
    }
    idle = 1.0
    cursor: str | None = None
    while not stopping.is_set():
        status, answer = api.post(
            "/v1/inbox/lease", {**body, **({"cursor": cursor} if cursor else {})}
        )
        if status != 200:
            log.error("lease failed: %s %s", status, answer)
            cursor = None
            stopping.wait(idle)
            continue
        events, cursor = answer["events"], answer["next_cursor"]
        if not events and cursor:
            continue  # the read budget stopped short of the end: read on
        if not events:
            if options.exit_when_empty:
                break
            stopping.wait(idle)
            idle = min(idle * 2, 30.0)
            continue
        idle = 1.0
        for index, event in enumerate(events):
            if stopping.is_set():  # give back what was not started
                tokens = [e["lease"]["token"] for e in events[index:]]
                api.post("/v1/inbox/release", {"lease_tokens": tokens})
                break
            log.info("%s: %s", event["event_id"], handle(api, event, options.visibility_timeout))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
