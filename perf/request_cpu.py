"""Service CPU per request, in-process, for two configurations: the precise A/B.

    DJANGO_SECRET_KEY=x .venv/bin/python -m perf.request_cpu logging|metrics [--requests 1500]
    DJANGO_SECRET_KEY=x .venv/bin/python -m perf.request_cpu revision --revision REV \
        [--after REV2] [--endpoint post|get|inbox|batch]

k6 against gunicorn (perf/*_overhead.py, perf/loadtest.py) measures what a client
sees, but on a 2-core box its rounds vary by ±10 %, more than the costs being
measured. This drives the real middleware, views and DynamoDB Local calls through
Django's test client in a fresh interpreter per variant and round (A B, B A, ...), and
reads the process's own CPU time, so only the service's work is counted. `revision`
compares the working tree (or REV2) with the service as it was at REV (git worktrees).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from devstack.localstack import ROOT
from perf.cpu_child import ENDPOINTS
from perf.harness import machine, perf_stack, worktree, write_report

_CHILD = ROOT / "perf" / "cpu_child.py"


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


def _child_cpu_ms(root: Path, endpoint: str, requests: int, env: dict[str, str]) -> float:
    """One fresh interpreter running `root`'s service: its CPU ms per request (user and
    system: on loopback, the kernel's share of a DynamoDB call is the caller's)."""
    output = subprocess.run(
        [sys.executable, str(_CHILD), endpoint, str(requests)],
        env={**env, "PYTHONPATH": str(root), "DJANGO_ALLOWED_HOSTS": "testserver"},
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    measured = json.loads(output.strip().splitlines()[-1])
    print(f"  user {measured['user_ms']:.3f} ms, system {measured['system_ms']:.3f} ms", flush=True)
    return float(measured["cpu_ms"])


def _own_tables(root: Path, env: dict[str, str], prefix: str) -> dict[str, str]:
    """Tables as `root`'s own models declare them (revisions may differ in their indexes),
    under a prefix of their own: the settings that point a variant at them."""
    settings = {"TABLE_PREFIX": prefix}
    subprocess.run(
        [sys.executable, str(root / "manage.py"), "create_tables", "--wait"],
        env={**env, **settings, "PYTHONPATH": str(root)},
        cwd=root,
        check=True,
        capture_output=True,
    )
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("kind", choices=["logging", "metrics", "revision"])
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--endpoint", choices=ENDPOINTS, default="post")
    parser.add_argument("--revision", help="with `revision`: the git revision to compare")
    parser.add_argument("--after", help="with `revision`: compare this revision, not the tree")
    options = parser.parse_args()
    if (options.kind == "revision") != bool(options.revision):
        parser.error("--revision goes with `revision`, and only with it")

    results: dict[str, list[float]] = {}
    with ExitStack() as resources:
        tmp = Path(resources.enter_context(tempfile.TemporaryDirectory(prefix="triggers-perf-")))
        stack = resources.enter_context(perf_stack(tmp, moto=True))
        env = stack.env
        variants: dict[str, tuple[Path, dict[str, str]]]
        if options.kind == "revision":
            before = resources.enter_context(worktree(options.revision))
            after = resources.enter_context(worktree(options.after)) if options.after else ROOT
            after_name = options.after or "working tree"
            variants = {
                after_name: (after, _own_tables(after, env, "perf-after")),
                options.revision: (before, _own_tables(before, env, "perf-before")),
            }
        else:
            configurations = _variants(options.kind, stack.moto_url)
            variants = {name: (ROOT, extra) for name, extra in configurations.items()}
        for round_number in range(options.rounds):
            order = list(variants.items())
            if round_number % 2:
                order.reverse()
            for name, (root, extra) in order:
                cpu = _child_cpu_ms(root, options.endpoint, options.requests, {**env, **extra})
                print(f"round {round_number + 1} {name}: {cpu:.3f} ms CPU/request", flush=True)
                results.setdefault(name, []).append(cpu)

    first, second = (statistics.median(values) for values in results.values())
    report: dict[str, Any] = {
        "kind": options.kind,
        "endpoint": options.endpoint,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "requests_per_round": options.requests,
        "rounds": options.rounds,
        "cpu_ms_per_request": results,
        "median_cpu_ms_per_request": {name: statistics.median(v) for name, v in results.items()},
        # logging/metrics: what switching it on costs; revision: the working tree against REV
        "cpu_cost_pct": round((first / second - 1) * 100, 1),
    }
    name = f"request-cpu-{options.kind}" + (
        f"-{options.endpoint}" if options.kind == "revision" else ""
    )
    path = write_report(name, report)
    print(json.dumps({k: report[k] for k in ("median_cpu_ms_per_request", "cpu_cost_pct")}))
    print(f"report: {path}")


if __name__ == "__main__":
    main()
