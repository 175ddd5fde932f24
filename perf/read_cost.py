"""What a filtered inbox page and a 404 cost, this checkout against an earlier revision.

    .venv/bin/python -m perf.read_cost --before 205c4af [--noise 5000] [--requests 40]

Checks the earlier revision out into a temporary git worktree, starts one in-memory
DynamoDB Local, and serves both versions from it (each its own tables and gunicorn,
same settings). Each gets the same data through its own HTTP API: a tenant with
`--noise` pending events of source "noise" followed by 3 of source "signal", and a
second tenant. Then, alternating the versions request by request:

- `GET /v1/inbox?limit=1&source=signal` (the matches sit behind all the noise);
- `GET /v1/events/{id}` for a random id nobody has, and for the other tenant's id.

For each: DynamoDB calls per request (from the service's own `request_finished`
lines), latency p50/p95 as the client saw it, and the service's CPU per request.
Prints a table and writes perf/reports/read-cost-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from devstack.localstack import ROOT, Service
from devstack.stack import LocalStack
from perf.harness import cpu_seconds, machine, perf_stack, worktree, write_report

LOADERS = 8


@dataclass
class Version:
    name: str
    root: Path
    service: Service
    log_path: Path
    key: str
    other_key: str
    other_event: str = ""

    def get(self, path: str, *, key: str | None = None, **params: Any) -> requests.Response:
        headers = {"X-API-Key": key or self.key}
        return requests.get(self.service.url + path, headers=headers, params=params, timeout=60)

    def post_event(self, body: dict[str, Any], *, key: str | None = None) -> dict[str, Any]:
        headers = {"X-API-Key": key or self.key}
        response = requests.post(
            self.service.url + "/v1/events", json=body, headers=headers, timeout=60
        )
        response.raise_for_status()
        created: dict[str, Any] = response.json()
        return created

    def calls_of(self, request_ids: set[str]) -> list[int]:
        calls = []
        for line in self.log_path.read_text().splitlines():
            if '"request_finished"' not in line:
                continue
            entry = json.loads(line)
            if entry.get("request_id") in request_ids:
                calls.append(int(entry.get("dynamodb_calls", 0)))
        return calls


def _manage(root: Path, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(root / "manage.py"), *args],
        env=env,
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


@contextmanager
def _serve(name: str, root: Path, stack: LocalStack, work_dir: Path) -> Iterator[Version]:
    extra = {"TABLE_PREFIX": f"triggers-perf-{name}", "LOG_LEVEL": "INFO"}
    env = {**stack.env, **extra}
    _manage(root, env, "create_tables", "--wait")
    keys = [
        _manage(root, env, "create_api_key", "--tenant", f"{name}-{who}").strip().splitlines()[-1]
        for who in ("reader", "other")
    ]
    log_path = work_dir / f"{name}.log"
    with stack.serving(log=log_path, env=extra, root=root) as service:
        yield Version(name, root, service, log_path, keys[0], keys[1])


def _load(version: Version, noise: int) -> None:
    body = {"source": "noise", "event_type": "noise.made", "payload": {"note": "pending"}}
    with ThreadPoolExecutor(max_workers=LOADERS) as pool:
        list(pool.map(lambda _: version.post_event(body), range(noise)))
    for n in range(3):
        version.post_event({"source": "signal", "event_type": "signal.sent", "payload": {"n": n}})
    other = version.post_event(
        {"source": "other", "event_type": "other.made", "payload": {"mine": False}},
        key=version.other_key,
    )
    version.other_event = other["event_id"]


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def _measure(versions: list[Version], probe: str, count: int) -> dict[str, dict[str, float]]:
    """`count` requests of `probe` per version, alternating versions request by request."""
    latencies: dict[str, list[float]] = {v.name: [] for v in versions}
    request_ids: dict[str, set[str]] = {v.name: set() for v in versions}
    cpu: dict[str, float] = dict.fromkeys(latencies, 0.0)
    for _ in range(count):
        for version in versions:
            before = cpu_seconds(version.service.process.pid)
            started = time.perf_counter()
            if probe == "filtered_inbox":
                response = version.get("/v1/inbox", limit=1, source="signal")
                expected = 200
            elif probe == "missing_id":
                response = version.get(f"/v1/events/{uuid.uuid4()}")
                expected = 404
            else:
                response = version.get(f"/v1/events/{version.other_event}")
                expected = 404
            latencies[version.name].append((time.perf_counter() - started) * 1000)
            cpu[version.name] += cpu_seconds(version.service.process.pid) - before
            if response.status_code != expected:
                raise SystemExit(f"{version.name} {probe}: {response.status_code} {response.text}")
            request_ids[version.name].add(response.headers["X-Request-ID"])
    time.sleep(0.5)  # let the last request lines reach the log files
    results = {}
    for version in versions:
        calls = version.calls_of(request_ids[version.name])
        samples = latencies[version.name]
        results[version.name] = {
            "dynamodb_calls_median": statistics.median(calls),
            "dynamodb_calls_max": max(calls),
            "p50_ms": round(statistics.median(samples), 1),
            "p95_ms": round(_percentile(samples, 95), 1),
            "service_cpu_ms_per_request": round(cpu[version.name] * 1000 / count, 2),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision to compare against")
    parser.add_argument("--noise", type=int, default=5_000)
    parser.add_argument("--requests", type=int, default=40)
    options = parser.parse_args()

    probes = ("filtered_inbox", "missing_id", "other_tenants_id")
    with ExitStack() as stack:
        work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="triggers-perf-")))
        before_root = stack.enter_context(worktree(options.before))
        local = stack.enter_context(perf_stack(work_dir))
        versions = [
            stack.enter_context(_serve("before", before_root, local, work_dir)),
            stack.enter_context(_serve("after", ROOT, local, work_dir)),
        ]
        for version in versions:
            started = time.monotonic()
            _load(version, options.noise)
            print(f"{version.name}: loaded in {time.monotonic() - started:.1f}s", flush=True)
        time.sleep(6)  # the other tenant's event is no longer "just written" for either
        for version in versions:  # warm-up: connections, caches, JIT of DynamoDB Local
            for probe in probes:
                _measure([version], probe, 3)
        results = {probe: _measure(versions, probe, options.requests) for probe in probes}

    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "before": options.before,
        "noise_events": options.noise,
        "requests_per_probe": options.requests,
        "results": results,
    }
    path = write_report("read-cost", report)
    print("\n| request | version | DynamoDB calls | p50 ms | p95 ms | service CPU ms |")
    print("|---|---|---|---|---|---|")
    for probe, by_version in results.items():
        for name, row in by_version.items():
            print(
                f"| {probe} | {name} | {row['dynamodb_calls_median']:g} "
                f"(max {row['dynamodb_calls_max']}) | {row['p50_ms']} | {row['p95_ms']} | "
                f"{row['service_cpu_ms_per_request']} |"
            )
    print(f"\nreport: {path}")


if __name__ == "__main__":
    main()
