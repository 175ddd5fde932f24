"""Run k6 scenarios against gunicorn variants on one DynamoDB Local, and measure them.

Every variant runs against the same in-memory DynamoDB Local in the same run,
alternating A, B, A, B... so slow drift of the machine affects both alike.
Besides k6's requests/s and latency, the service's own CPU time per request is
read from /proc (gunicorn master + workers), because on a 2-core machine k6,
DynamoDB Local and the service compete for the CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devstack.localstack import ROOT, Service
from devstack.stack import LocalStack, local_stack
from perf.k6 import run_k6

PERF_DIR = ROOT / "perf"
REPORTS_DIR = PERF_DIR / "reports"
# The service's environment in benchmarks: rate limiting on (its cost is part of what is
# measured) with default limits no load here reaches, so nothing is ever refused.
NEVER_RATE_LIMITED = {"RATE_LIMIT_PER_SECOND": "100000", "RATE_LIMIT_BURST": "100000"}
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Measurement:
    variant: str
    round: int
    requests: int
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    failed_rate: float
    service_cpu_ms_per_request: float
    # CPU of other processes the benchmark watches (e.g. moto standing in for CloudWatch)
    watched_cpu_ms_per_request: float


def _process_tree(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in children:
            pids.extend(_process_tree(int(child)))
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its descendants, from /proc."""
    total = 0
    for member in _process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _CLOCK_TICKS


def machine() -> dict[str, Any]:
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": cpu_model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


@contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """The project as it was at `revision`, checked out in a temporary git worktree (to
    measure a before against this checkout's after)."""
    with tempfile.TemporaryDirectory(prefix="triggers-before-") as tmp:
        path = Path(tmp) / "checkout"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(path), revision],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        try:
            yield path
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(path)],
                cwd=ROOT,
                check=False,
            )


# What every benchmark's service runs with, beside the stack's AWS endpoints.
PERF_SETTINGS = {
    "DJANGO_SECRET_KEY": "perf-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "TABLE_PREFIX": "triggers-perf",
    "STAGE": "Perf",
    **NEVER_RATE_LIMITED,
}


@contextmanager
def perf_stack(work_dir: Path, *, moto: bool = False) -> Iterator[LocalStack]:
    """The stack a benchmark runs on (devstack.stack): DynamoDB Local in memory with the
    project's tables, and moto's server for CloudWatch if asked."""
    with local_stack(work_dir, settings=PERF_SETTINGS, moto=moto) as stack:
        yield stack


def run_scenario(
    scenario: str, *, base_url: str, key: str, vus: int, duration: str, work_dir: Path
) -> dict[str, Any]:
    """One k6 run of `scenario` at a fixed number of VUs: its summary."""
    env = {
        "BASE_URL": base_url,
        "API_KEY": key,
        "VUS": str(vus),
        "DURATION": duration,
        "RAMP_UP": "1s",
        "RAMP_DOWN": "1s",
        "THRESHOLDS": "failures",
    }
    summary = work_dir / f"summary-{datetime.now(UTC).timestamp()}.json"
    return run_k6(scenario, env, summary=summary).summary


def measure(
    variant: str,
    round_number: int,
    service: Service,
    scenario: str,
    *,
    key: str,
    vus: int,
    duration: str,
    work_dir: Path,
    watch: tuple[int, ...] = (),
) -> Measurement:
    before = cpu_seconds(service.process.pid)
    watched_before = sum(cpu_seconds(pid) for pid in watch)
    summary = run_scenario(
        scenario, base_url=service.url, key=key, vus=vus, duration=duration, work_dir=work_dir
    )
    cpu = cpu_seconds(service.process.pid) - before
    watched = sum(cpu_seconds(pid) for pid in watch) - watched_before
    metrics = summary["metrics"]
    requests = int(metrics["http_reqs"]["values"]["count"])
    durations = metrics["http_req_duration"]["values"]
    return Measurement(
        variant=variant,
        round=round_number,
        requests=requests,
        requests_per_s=round(metrics["http_reqs"]["values"]["rate"], 1),
        p50_ms=round(durations["med"], 2),
        p95_ms=round(durations["p(95)"], 2),
        failed_rate=metrics["http_req_failed"]["values"]["rate"],
        service_cpu_ms_per_request=round(cpu * 1000 / max(requests, 1), 3),
        watched_cpu_ms_per_request=round(watched * 1000 / max(requests, 1), 3),
    )


def compare(
    variants: dict[str, dict[str, str]],
    *,
    scenario: str,
    rounds: int,
    vus: int,
    duration: str,
    warmup: str = "3s",
    jvm_warmup: str = "15s",
    watch: tuple[int, ...] = (),
    stack: LocalStack | None = None,
) -> dict[str, Any]:
    """Alternate the variants (gunicorn with extra env each) for `rounds` rounds,
    in A B / B A order, on `stack` (a new perf_stack by default).

    DynamoDB Local (a JVM) is warmed up once first, and each fresh gunicorn for
    `warmup`, so no variant pays for the other's cold start.
    """
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="triggers-perf-") as tmp:
        work_dir = Path(tmp)

        def warm_up(service: Service, key: str, duration: str) -> None:
            run_scenario(
                scenario,
                base_url=service.url,
                key=key,
                vus=vus,
                duration=duration,
                work_dir=work_dir,
            )

        with ExitStack() as exits:
            if stack is None:
                stack = exits.enter_context(perf_stack(work_dir))
            key = stack.api_key("perf-jvm-warmup")
            with stack.serving(log=work_dir / "warmup.log") as service:
                warm_up(service, key, jvm_warmup)
            for round_number in range(1, rounds + 1):
                # A B, B A, A B...: neither variant always runs right after the other.
                order = list(variants.items())
                if round_number % 2 == 0:
                    order.reverse()
                for name, extra in order:
                    key = stack.api_key(f"perf-{name}-{round_number}", env=extra)
                    with stack.serving(log=work_dir / f"{name}.log", env=extra) as service:
                        warm_up(service, key, warmup)
                        result = measure(
                            name,
                            round_number,
                            service,
                            scenario,
                            key=key,
                            vus=vus,
                            duration=duration,
                            work_dir=work_dir,
                            watch=watch,
                        )
                    print(json.dumps(asdict(result)), flush=True)
                    results.append(result)
    return summarize(results, scenario=scenario, vus=vus, duration=duration, rounds=rounds)


def summarize(
    results: list[Measurement], *, scenario: str, vus: int, duration: str, rounds: int
) -> dict[str, Any]:
    by_variant: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(r.variant for r in results):
        mine = [r for r in results if r.variant == name]
        by_variant[name] = {
            "requests_per_s": statistics.median(r.requests_per_s for r in mine),
            "p50_ms": statistics.median(r.p50_ms for r in mine),
            "p95_ms": statistics.median(r.p95_ms for r in mine),
            "service_cpu_ms_per_request": statistics.median(
                r.service_cpu_ms_per_request for r in mine
            ),
            "watched_cpu_ms_per_request": statistics.median(
                r.watched_cpu_ms_per_request for r in mine
            ),
            "failed_rate": max(r.failed_rate for r in mine),
        }
    return {
        "scenario": scenario,
        "vus": vus,
        "duration_per_round": duration,
        "rounds": rounds,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "medians": by_variant,
        "rounds_detail": [asdict(r) for r in results],
    }


def write_report(name: str, report: dict[str, Any]) -> Path:
    REPORTS_DIR.mkdir(exist_ok=True)
    path = REPORTS_DIR / f"{name}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def overhead_options(description: str | None, *, rounds: int = 6, duration: str = "10s") -> Any:
    """Command-line options shared by the A/B overhead benchmarks."""
    parser = argparse.ArgumentParser(description=(description or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--vus", type=int, default=10)
    parser.add_argument("--duration", default=duration)
    return parser.parse_args()


def overhead(
    name: str,
    variants: dict[str, dict[str, str]],
    *,
    on: str,
    off: str,
    options: Any,
    **compare_options: Any,
) -> None:
    """Run `compare` on the ingest scenario and report what variant `on` costs over `off`."""
    report = compare(
        variants,
        scenario="event_ingestion.js",
        rounds=options.rounds,
        vus=options.vus,
        duration=options.duration,
        **compare_options,
    )
    with_it, without = report["medians"][on], report["medians"][off]
    report["throughput_cost_pct"] = round(
        (1 - with_it["requests_per_s"] / without["requests_per_s"]) * 100, 1
    )
    report["cpu_cost_pct"] = round(
        (with_it["service_cpu_ms_per_request"] / without["service_cpu_ms_per_request"] - 1) * 100,
        1,
    )
    path = write_report(name, report)
    print(json.dumps({k: report[k] for k in ("medians", "throughput_cost_pct", "cpu_cost_pct")}))
    print(f"report: {path}")
