"""The zero-loss soak: producers and consumers against the real stack while it is hurt.

    make soak                                  # 180 s of load and faults, then checks
    .venv/bin/python -m devstack.soak --seconds 600 --fault-every 20

Producers POST events (alone and in batches of 5), every event with its own
idempotency key, and retry anything not answered with a success (a 503, a 502 from a
dying worker, a dropped connection) with the same key until it is. Consumers page the
inbox and acknowledge what they read, checking each payload against what was sent.
Meanwhile, in turn: DynamoDB Local is paused (SIGSTOP for 3 s), killed (SIGKILL) and
restarted on its data directory, gunicorn is told to replace its workers (HUP), and
one worker is killed (SIGKILL; the master starts another).

Afterwards, read from the table itself (strongly consistent): every event answered
201 or 200 is stored exactly once with the exact payload sent; what consumers
acknowledged is what was produced; no key has two events. Exits non-zero otherwise.
The report goes to perf/reports/soak-<time>.json; figures in docs/RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from devstack.localstack import ROOT, Service, local_dynamodb
from devstack.stack import LocalStack, local_stack

TABLE_PREFIX = "triggers-soak"
TENANT = "soak"
_RETRYABLE = {429, 502, 503, 504}
KILL_DYNAMODB = "kill_and_restart_dynamodb"


def exact(text: str) -> Any:
    """JSON with numbers as Decimals of their text: equal means the same digits."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


@dataclass
class Ledger:
    """What the clients saw, shared by their threads."""

    sent: dict[str, str] = field(default_factory=dict)  # idempotency key -> payload JSON text
    answered: dict[str, str] = field(default_factory=dict)  # key -> event id, once a success
    answered_at: dict[str, float] = field(default_factory=dict)  # key -> when (epoch seconds)
    acked: dict[str, str] = field(default_factory=dict)  # key -> event id a consumer acked
    acked_at: dict[str, str] = field(default_factory=dict)  # key -> when its ack was answered
    retried: set[str] = field(default_factory=set)  # keys sent more than once
    payload_mismatches: list[str] = field(default_factory=list)
    unknown_events: list[str] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)  # outcome -> count
    faults: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, outcome: str) -> None:
        with self.lock:
            self.requests[outcome] += 1


def payload_for(producer: str, n: int) -> str:
    rng = random.Random(f"{producer}-{n}")
    text = "".join(chr(rng.choice([0, 9, 0x41, 0xE9, 0x4E2D, 0x1F600])) for _ in range(8))
    body = {
        "producer": producer,
        "n": n,
        "text": text,  # NUL, a tab, ASCII, Latin-1, CJK, an emoji
        "big": 2**70 + n,  # past int64 and doubles: must come back digit for digit
        "ratio": rng.random(),
        "nested": {"list": [n, {"deep": [True, None, "x" * rng.randint(0, 200)]}]},
    }
    return json.dumps(body, ensure_ascii=False)


def backoff(attempt: int, response: requests.Response | None) -> float:
    if response is not None and response.headers.get("Retry-After", "").isdigit():
        return min(float(response.headers["Retry-After"]), 2.0)
    return float(min(0.1 * 2**attempt, 2.0) * random.uniform(0.5, 1.0))


class Clients:
    def __init__(self, url: str, key: str, ledger: Ledger, stop: threading.Event):
        self.url, self.key, self.ledger, self.stop = url, key, ledger, stop
        # producers retry an unanswered event until this (monotonic) time; set at the stop
        self.give_up_at = float("inf")

    def _call(
        self, session: requests.Session, method: str, path: str, body: str | None = None
    ) -> requests.Response | None:
        """One request; None when it got no answer at all. Every outcome is counted."""
        headers = {"X-API-Key": self.key}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = session.request(
                method,
                self.url + path,
                data=None if body is None else body.encode(),
                headers=headers,
                timeout=10,
            )
        except requests.RequestException:
            self.ledger.count("connection_error")
            return None
        self.ledger.count(str(response.status_code))
        return response

    def produce_singles(self, producer: str) -> None:
        session = requests.Session()
        for n in itertools.count():
            if self.stop.is_set():
                return
            key = f"{producer}-{n}"
            payload = payload_for(producer, n)
            with self.ledger.lock:
                self.ledger.sent[key] = payload
            body = (
                f'{{"source": "soak", "event_type": "single", "payload": {payload}, '
                f'"metadata": {{"idempotency_key": "{key}"}}}}'
            )
            for attempt in itertools.count():
                response = self._call(session, "POST", "/v1/events", body)
                if response is not None and response.status_code in (200, 201):
                    with self.ledger.lock:
                        self.ledger.answered[key] = response.json()["event_id"]
                        self.ledger.answered_at[key] = time.time()
                    break
                if response is not None and response.status_code not in _RETRYABLE:
                    raise AssertionError(f"{key}: {response.status_code} {response.text}")
                self.ledger.retried.add(key)
                if time.monotonic() > self.give_up_at:
                    break
                time.sleep(backoff(attempt, response))

    def produce_batches(self, producer: str) -> None:
        session = requests.Session()
        for b in itertools.count():
            if self.stop.is_set():
                return
            keys = [f"{producer}-{b}-{i}" for i in range(5)]
            events = {}
            for key in keys:
                payload = payload_for(f"{producer}-{b}", keys.index(key))
                with self.ledger.lock:
                    self.ledger.sent[key] = payload
                events[key] = (
                    f'{{"source": "soak", "event_type": "batched", "payload": {payload}, '
                    f'"metadata": {{"idempotency_key": "{key}"}}}}'
                )
            pending = list(keys)
            for attempt in itertools.count():
                body = '{"events": [' + ", ".join(events[k] for k in pending) + "]}"
                response = self._call(session, "POST", "/v1/events/batch", body)
                if response is not None and response.status_code == 200:
                    still = []
                    for key, result in zip(pending, response.json()["results"], strict=True):
                        if "error" in result:
                            if result["error"]["code"] != "SERVICE_UNAVAILABLE":
                                raise AssertionError(f"{key}: {result}")
                            still.append(key)
                        else:
                            with self.ledger.lock:
                                self.ledger.answered[key] = result["event_id"]
                                self.ledger.answered_at[key] = time.time()
                    pending = still
                elif response is not None and response.status_code not in _RETRYABLE:
                    raise AssertionError(f"batch: {response.status_code} {response.text}")
                if not pending or time.monotonic() > self.give_up_at:
                    break
                self.ledger.retried.update(pending)
                time.sleep(backoff(attempt, response))

    def consume(self, draining: threading.Event, drained: threading.Event) -> None:
        session = requests.Session()
        empty_in_a_row = 0
        while not drained.is_set():
            response = self._call(session, "GET", "/v1/inbox?limit=50")
            if response is None or response.status_code != 200:
                time.sleep(0.2)
                continue
            events = response.json()["events"]
            if not events:
                empty_in_a_row += 1
                if draining.is_set() and empty_in_a_row >= 3:
                    drained.set()
                time.sleep(0.2)
                continue
            empty_in_a_row = 0
            for event in events:
                self._check_and_ack(session, event)

    def _check_and_ack(self, session: requests.Session, event: dict[str, Any]) -> None:
        key = str((event.get("metadata") or {}).get("idempotency_key") or "")
        with self.ledger.lock:
            sent = self.ledger.sent.get(key)
        if sent is None:
            with self.ledger.lock:
                self.ledger.unknown_events.append(event["event_id"])
            return
        if exact(json.dumps(event["payload"])) != exact(sent):
            with self.ledger.lock:
                self.ledger.payload_mismatches.append(key)
        response = self._call(session, "POST", f"/v1/events/{event['event_id']}/ack")
        if response is not None and response.status_code == 200:
            with self.ledger.lock:
                self.ledger.acked[key] = event["event_id"]
                self.ledger.acked_at[key] = datetime.now(UTC).isoformat()


@dataclass
class Stack:
    local: LocalStack
    service: Service

    @property
    def dynamodb(self) -> Service:
        assert self.local.dynamodb is not None
        return self.local.dynamodb

    def restart_dynamodb(self) -> None:
        self.local.restart_dynamodb()


def gunicorn_workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def faults(stack: Stack) -> list[tuple[str, Callable[[], None]]]:
    def pause() -> None:
        os.kill(stack.dynamodb.process.pid, signal.SIGSTOP)
        time.sleep(3)
        os.kill(stack.dynamodb.process.pid, signal.SIGCONT)

    def kill_and_restart() -> None:
        os.kill(stack.dynamodb.process.pid, signal.SIGKILL)
        stack.dynamodb.process.wait()
        time.sleep(2)
        stack.restart_dynamodb()

    def reload_workers() -> None:
        os.kill(stack.service.process.pid, signal.SIGHUP)

    def kill_a_worker() -> None:
        workers = gunicorn_workers(stack.service.process.pid)
        if workers:
            os.kill(random.choice(workers), signal.SIGKILL)

    return [
        ("pause_dynamodb_3s", pause),
        ("reload_gunicorn_workers", reload_workers),
        (KILL_DYNAMODB, kill_and_restart),
        ("kill_a_gunicorn_worker", kill_a_worker),
    ]


def inject_faults(stack: Stack, ledger: Ledger, stop: threading.Event, every: float) -> None:
    for name, fault in itertools.cycle(faults(stack)):
        if stop.wait(every):
            return
        started = time.time()
        fault()
        ledger.faults.append(
            {"fault": name, "started": started, "took_s": round(time.time() - started, 2)}
        )
        print(f"  fault: {name}", flush=True)


def stored_events(env: dict[str, str]) -> list[dict[str, Any]]:
    client = local_dynamodb(env["AWS_ENDPOINT_URL_DYNAMODB"])
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("query").paginate(
        TableName=f"{TABLE_PREFIX}-events",
        KeyConditionExpression="tenant_id = :t",
        ExpressionAttributeValues={":t": {"S": TENANT}},
        ConsistentRead=True,
    ):
        items.extend(page["Items"])
    return items


# DynamoDB Local answers a TransactWriteItems a few milliseconds before the write is on
# disk: killed in that window, it forgets the transaction it has just acknowledged
# (devstack/dynamodb_local_durability.py measures it; a PutItem is not affected). An
# event answered this close to a kill of the emulator is counted apart, as the
# emulator's loss; DynamoDB acknowledges a write only once it is durable.
_EMULATOR_KILL_WINDOW = (-0.1, 2.0)  # seconds from the kill: answered after the ack


def lost_to_emulator_kill(answered_at: float | None, kills: list[float]) -> bool:
    """Whether an event answered at `answered_at` may be the transaction DynamoDB Local
    acknowledged just before one of `kills` and then forgot."""
    if answered_at is None:
        return False
    before, after = _EMULATOR_KILL_WINDOW
    return any(before <= answered_at - kill <= after for kill in kills)


def reconcile(ledger: Ledger, items: list[dict[str, Any]]) -> dict[str, Any]:
    by_key: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        key = item["metadata"]["M"].get("idempotency_key", {}).get("S", "")
        by_key.setdefault(key, []).append(item)
    duplicates = sorted(key for key, found in by_key.items() if len(found) > 1)
    kills = [f["started"] for f in ledger.faults if f["fault"] == KILL_DYNAMODB]
    missing = sorted(key for key in ledger.answered if key not in by_key)
    at_kill = [k for k in missing if lost_to_emulator_kill(ledger.answered_at.get(k), kills)]
    lost = [key for key in missing if key not in at_kill]
    wrong_id = sorted(
        key
        for key, event_id in ledger.answered.items()
        if key in by_key and by_key[key][0]["event_id"]["S"] != event_id
    )
    wrong_payload = sorted(
        key
        for key, found in by_key.items()
        if key in ledger.sent
        and any(exact(i["payload"]["S"]) != exact(ledger.sent[key]) for i in found)
    )
    unanswered = sorted(set(ledger.sent) - set(ledger.answered))
    # an ack answered 200 must have stuck: the event is acknowledged, not pending again
    acked_not_stored = sorted(
        key
        for key in ledger.acked
        if key in by_key and by_key[key][0]["status"]["S"] != "acknowledged"
    )
    statuses = Counter(item["status"]["S"] for item in items)
    return {
        "events_sent": len(ledger.sent),
        "events_answered_success": len(ledger.answered),
        "events_never_answered": len(unanswered),
        "of_which_stored": sum(1 for key in unanswered if key in by_key),
        "events_stored": len(items),
        "stored_by_status": dict(statuses),
        "events_acked_by_consumers": len(ledger.acked),
        "events_retried": len(ledger.retried),
        "retried_stored_once": sum(1 for key in ledger.retried if len(by_key.get(key, [])) == 1),
        "lost": len(lost),
        "lost_by_emulator_at_kill": len(at_kill),
        "acks_not_stored": len(acked_not_stored),
        "duplicates": len(duplicates),
        "wrong_event_id": len(wrong_id),
        "wrong_payload_stored": len(wrong_payload),
        "wrong_payload_read_by_consumers": len(ledger.payload_mismatches),
        "events_not_produced": len(ledger.unknown_events) + len(set(by_key) - set(ledger.sent)),
        "examples": {
            "lost": lost[:5],
            "duplicates": duplicates[:5],
            "wrong_payload": wrong_payload[:5],
            # when each was answered: to set beside the faults' times
            "lost_answered_at": [(key, ledger.answered_at.get(key)) for key in missing[:20]],
            "lost_by_emulator_at_kill": at_kill[:20],
            "acks_not_stored": [(key, ledger.acked_at[key]) for key in acked_not_stored[:20]],
        },
    }


@contextmanager
def soak_stack(work: Path) -> Iterator[tuple[Stack, dict[str, str], str]]:
    """The stack on a DynamoDB Local kept on disk (a killed one restarts with its data)."""
    (work / "dynamodb").mkdir()
    settings = {
        "DJANGO_SECRET_KEY": "soak-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "TABLE_PREFIX": TABLE_PREFIX,
        "STAGE": "Soak",
        "METRICS_BACKEND": "none",
        "LOG_FORMAT": "json",
    }
    with local_stack(work, settings=settings, dynamodb_data=work / "dynamodb", moto=False) as local:
        key = local.api_key(TENANT, rate=100000, burst=100000)
        stack = Stack(local, local.serve(log=work / "service.log"))
        try:
            yield stack, local.env, key
        finally:
            stack.dynamodb.process.send_signal(signal.SIGCONT)  # a paused one cannot stop


def run(seconds: float, fault_every: float, grace: float) -> dict[str, Any]:
    ledger = Ledger()
    with (
        tempfile.TemporaryDirectory(prefix="triggers-soak-") as tmp,
        soak_stack(Path(tmp)) as (stack, env, key),
    ):
        stop, stop_faults = threading.Event(), threading.Event()
        draining, drained = threading.Event(), threading.Event()
        clients = Clients(stack.service.url, key, ledger, stop)
        threads = [
            *(threading.Thread(target=clients.produce_singles, args=(f"s{i}",)) for i in range(3)),
            threading.Thread(target=clients.produce_batches, args=("b0",)),
            *(threading.Thread(target=clients.consume, args=(draining, drained)) for _ in range(2)),
        ]
        injector = threading.Thread(
            target=inject_faults, args=(stack, ledger, stop_faults, fault_every)
        )
        started = time.monotonic()
        for thread in [*threads, injector]:
            thread.start()
        time.sleep(seconds)
        stop_faults.set()
        injector.join()
        stop.set()  # producers finish what they started, retrying until answered
        clients.give_up_at = time.monotonic() + grace
        for thread in threads[:4]:
            thread.join()
        draining.set()
        for thread in threads[4:]:
            thread.join(timeout=grace)
        drained.set()  # consumers finish the page in hand (its acks), then stop
        for thread in threads[4:]:
            thread.join()
        elapsed = time.monotonic() - started
        result = reconcile(ledger, stored_events(env))
    result.update(
        seconds=round(elapsed, 1),
        requests=dict(ledger.requests),
        requests_total=sum(ledger.requests.values()),
        faults=ledger.faults,
        faults_total=len(ledger.faults),
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.soak", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seconds", type=float, default=180, help="load and faults (default 180)")
    parser.add_argument(
        "--fault-every", type=float, default=15, help="seconds between faults (default 15)"
    )
    parser.add_argument(
        "--grace", type=float, default=60, help="most seconds to converge afterwards"
    )
    options = parser.parse_args(argv)
    print(
        f"Soak: {options.seconds:g} s of producers and consumers, "
        f"a fault every {options.fault_every:g} s",
        flush=True,
    )
    result = run(options.seconds, options.fault_every, options.grace)
    reports = ROOT / "perf" / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / f"soak-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2))
    print(
        json.dumps({k: v for k, v in result.items() if k not in ("faults", "examples")}, indent=2)
    )
    print(f"report: {path}")
    failures = [
        name
        for name in (
            "lost",
            "acks_not_stored",
            "duplicates",
            "wrong_event_id",
            "wrong_payload_stored",
            "wrong_payload_read_by_consumers",
            "events_not_produced",
        )
        if result[name]
    ]
    if failures:
        print(f"FAIL: {', '.join(failures)}", file=sys.stderr)
        return 1
    if result["lost_by_emulator_at_kill"]:
        print(
            f"({result['lost_by_emulator_at_kill']} acknowledged just before DynamoDB Local was "
            "killed and forgotten by it: the emulator's loss, see docs/RELIABILITY.md)"
        )
    print("PASS: nothing lost, nothing duplicated, every payload exact")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
