"""Does one tenant over its rate limit slow another down? Measured in one run.

    .venv/bin/python -m perf.rate_limit_isolation [--rounds 2] [--duration 15s] [--noisy-rate 200]

One service (2 gthread workers, logging on), DynamoDB Local; a quiet tenant reads its
inbox at a fixed 20 requests/s (k6, `perf/scenarios/tenant_isolation.js`) in four phases,
alternated round by round. In the last three a noisy client sends `--noisy-rate`
requests/s (a fixed arrival rate, so every phase offers the same traffic):

- `alone`: nobody else;
- `noisy_floor`: the noisy requests go to `/v1/health/live`, the cheapest answer the
  service has (no key, no DynamoDB). Nothing the service does with a request can cost
  less, so this is what the traffic alone costs the quiet tenant on this machine (k6
  and the service share its cores): the floor for any rate limiter;
- `noisy_limited`: a second tenant's inbox reads, with a key limited to 5 requests/s
  (burst 10): nearly all of them are refused 429;
- `noisy_unlimited`: the same reads with a key whose limit they never reach, so every
  request does its DynamoDB work: what the quiet tenant would face without a limit.

Reported per phase (medians of the rounds): the quiet tenant's p50/p95/p99, the noisy
requests/s actually sent (k6 drops what it cannot start), their share answered 429,
and the service's CPU ms per request.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from perf.harness import cpu_seconds, machine, perf_stack, write_report
from perf.k6 import run_k6

PHASES = ("alone", "noisy_floor", "noisy_limited", "noisy_unlimited")
LIVENESS_PATH = "/v1/health/live"


def _phase(url: str, keys: dict[str, str], phase: str, options: Any, work: Path) -> dict[str, Any]:
    noisy_key = keys["limited"] if phase == "noisy_limited" else keys["unlimited"]
    env = {
        "BASE_URL": url,
        "QUIET_KEY": keys["quiet"],
        "NOISY_KEY": noisy_key,
        "NOISY_RATE": "0" if phase == "alone" else str(options.noisy_rate),
        "NOISY_PATH": LIVENESS_PATH if phase == "noisy_floor" else "/v1/inbox?limit=10",
        "DURATION": options.duration,
    }
    summary = run_k6("tenant_isolation.js", env, summary=work / f"{phase}.json").summary
    metrics = summary["metrics"]

    def value(name: str, stat: str) -> float:
        return float(metrics.get(name, {}).get("values", {}).get(stat, 0.0))

    quiet = "http_req_duration{tenant:quiet}"
    noisy_requests = value("http_reqs{tenant:noisy}", "count")
    return {
        "quiet_p50_ms": round(value(quiet, "med"), 2),
        "quiet_p95_ms": round(value(quiet, "p(95)"), 2),
        "quiet_p99_ms": round(value(quiet, "p(99)"), 2),
        "quiet_failed_rate": value("http_req_failed{tenant:quiet}", "rate"),
        "quiet_rate_limited": value("rate_limited{tenant:quiet}", "count"),
        "noisy_requests_per_s": round(value("http_reqs{tenant:noisy}", "rate"), 1),
        "noisy_dropped": value("dropped_iterations", "count"),
        "noisy_429_share": round(value("rate_limited{tenant:noisy}", "count") / noisy_requests, 4)
        if noisy_requests
        else None,
        "requests": value("http_reqs", "count"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", default="15s")
    parser.add_argument("--noisy-rate", type=int, default=200, help="noisy requests/s")
    options = parser.parse_args()
    rounds: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="triggers-isolation-") as tmp,
        perf_stack(Path(tmp)) as stack,
    ):
        work = Path(tmp)
        keys = {
            "quiet": stack.api_key("quiet", rate=1000, burst=2000),
            "limited": stack.api_key("noisy", rate=5, burst=10),
            "unlimited": stack.api_key("noisy", rate=100000, burst=100000),
        }
        with stack.serving(log=work / "service.log") as service:
            _phase(service.url, keys, "noisy_unlimited", options, work)  # warm-up, discarded
            for number in range(options.rounds):
                for phase in PHASES if number % 2 == 0 else reversed(PHASES):
                    before = cpu_seconds(service.process.pid)
                    measured = _phase(service.url, keys, phase, options, work)
                    cpu = cpu_seconds(service.process.pid) - before
                    measured["service_cpu_ms_per_request"] = round(
                        cpu * 1000 / max(measured.pop("requests"), 1), 3
                    )
                    rounds.append({"round": number + 1, "phase": phase, **measured})
                    print(json.dumps(rounds[-1]), flush=True)
    medians = {
        phase: {
            name: statistics.median(r[name] for r in rounds if r["phase"] == phase)
            for name in rounds[0]
            if name not in ("round", "phase")
            and all(r[name] is not None for r in rounds if r["phase"] == phase)
        }
        for phase in PHASES
    }
    report = {"machine": machine(), "options": vars(options), "rounds": rounds, "medians": medians}
    path = write_report("rate-limit-isolation", report)
    print(json.dumps(medians, indent=2))
    print(f"report: {path}")


if __name__ == "__main__":
    main()
