"""Service CPU per request, in-process, for two configurations: the precise A/B.

    DJANGO_SECRET_KEY=x .venv/bin/python -m perf.request_cpu logging|metrics [--requests 1500]

k6 against gunicorn (perf/*_overhead.py) measures what a client sees, but on a
2-core box its rounds vary by ±10 %, more than the costs being measured. This
drives the real middleware, views and DynamoDB Local calls through Django's test
client in a fresh interpreter per variant and round (A B, B A, ...), and reads
the process's own CPU time, so only the service's work is counted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from devstack.localstack import ROOT
from perf.harness import machine, perf_stack, write_report

_CHILD = "--child"


def _variants(kind: str, moto_url: str) -> dict[str, dict[str, str]]:
    if kind == "logging":
        return {
            "logging_on": {"LOG_LEVEL": "INFO", "METRICS_BACKEND": "none"},
            "logging_off": {"LOG_LEVEL": "CRITICAL", "METRICS_BACKEND": "none"},
        }
    return {
        "metrics_on": {
            "METRICS_BACKEND": "cloudwatch",
            # every second: ~60x more often than production, so flush work is overstated
            "METRICS_FLUSH_INTERVAL_SECONDS": "1",
            "AWS_ENDPOINT_URL_CLOUDWATCH": moto_url,
        },
        "metrics_off": {"METRICS_BACKEND": "none"},
    }


def child(requests: int) -> None:
    """Runs in the fresh interpreter: POST /v1/events `requests` times, print CPU ms each."""
    import django  # noqa: PLC0415

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggers.settings")
    sys.stdout = Path(os.devnull).open("w")  # noqa: SIM115 - the service's logs go nowhere
    django.setup()
    from django.test import Client  # noqa: PLC0415

    from triggers.auth.services import api_key_create  # noqa: PLC0415

    key, _ = api_key_create(tenant_id=f"cpu-{os.getpid()}", name="perf")
    client = Client()
    body = json.dumps({"source": "perf", "event_type": "cpu", "payload": {"n": 1}})

    def post() -> None:
        response = client.post(
            "/v1/events", body, content_type="application/json", HTTP_X_API_KEY=key
        )
        if response.status_code != 201:
            raise SystemExit(f"unexpected {response.status_code}")

    # Warm-up: imports, connections, caches, and (with metrics on) the first flush, which
    # builds the process's CloudWatch client once; later flushes fall in the measurement.
    warm_until = time.monotonic() + 2.5
    while time.monotonic() < warm_until:
        post()
    started = time.process_time()
    for _ in range(requests):
        post()
    print(
        json.dumps({"cpu_ms": (time.process_time() - started) * 1000 / requests}),
        file=sys.__stdout__,
    )


def main() -> None:
    if _CHILD in sys.argv:
        child(int(sys.argv[-1]))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("kind", choices=["logging", "metrics"])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=6)
    options = parser.parse_args()

    results: dict[str, list[float]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="triggers-perf-") as tmp,
        perf_stack(Path(tmp), moto=True) as stack,
    ):
        env = stack.env
        variants = _variants(options.kind, stack.moto_url)
        for round_number in range(options.rounds):
            order = list(variants.items())
            if round_number % 2:
                order.reverse()
            for name, extra in order:
                output = subprocess.run(
                    [sys.executable, "-m", "perf.request_cpu", _CHILD, str(options.requests)],
                    env={**env, "DJANGO_ALLOWED_HOSTS": "testserver", **extra},
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                cpu = json.loads(output.strip().splitlines()[-1])["cpu_ms"]
                print(f"round {round_number + 1} {name}: {cpu:.3f} ms CPU/request", flush=True)
                results.setdefault(name, []).append(cpu)

    on, off = (statistics.median(values) for values in results.values())
    report: dict[str, Any] = {
        "kind": options.kind,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "requests_per_round": options.requests,
        "rounds": options.rounds,
        "cpu_ms_per_request": results,
        "median_cpu_ms_per_request": {name: statistics.median(v) for name, v in results.items()},
        "cpu_cost_pct": round((on / off - 1) * 100, 1),
    }
    path = write_report(f"request-cpu-{options.kind}", report)
    print(json.dumps({k: report[k] for k in ("median_cpu_ms_per_request", "cpu_cost_pct")}))
    print(f"report: {path}")


if __name__ == "__main__":
    main()
