"""The load-test runner: k6 scenarios against the service, compared in the same run with
the reference, checked against thresholds and the stored baseline.

    make loadtest SCENARIO=event_ingestion ENV=local PROFILE=local
    .venv/bin/python -m perf.loadtest --scenario all --env local --profile smoke

Each scenario writes perf/reports/<time>-<scenario>/: k6's summaries and HTML
dashboards (service and reference), and result.json (what was measured, the CPU per
request, DynamoDB calls per request, thresholds, the baseline verdict, commit and
machine). Exit status 1 when a threshold failed or a result regressed. Guide:
perf/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devstack.localstack import ROOT
from perf import history
from perf.harness import cpu_seconds, machine, worktree
from perf.k6 import THRESHOLDS_FAILED, run_k6
from perf.loadconfig import Config, Environment, Profile, Scenario, load, seconds
from perf.regression import (
    BASELINES,
    Baseline,
    Measured,
    baseline_from,
    cost_changes,
    cost_regressions,
    load_baseline,
    regressions,
)
from perf.segments import combine, segment_options
from perf.stack import LoadStack, Target, load_stack
from perf.stress import CpuSampler, analyse

REPORTS = Path(__file__).with_name("reports")


@dataclass
class K6Run:
    target: str
    summary: dict[str, Any]
    exit_code: int
    cpu_ms_per_request: float | None
    dynamodb_calls: dict[str, float] = field(default_factory=dict)
    dynamodb_capacity: dict[str, float] = field(default_factory=dict)

    def metric(self, name: str, stat: str, default: float = 0.0) -> float:
        values = self.summary["metrics"].get(name, {}).get("values", {})
        return float(values.get(stat, default))

    @property
    def requests(self) -> int:
        return int(self.metric("http_reqs", "count"))

    @property
    def failed_thresholds(self) -> list[str]:
        return [
            f"{name}: {expression}"
            for name, metric in self.summary["metrics"].items()
            for expression, verdict in metric.get("thresholds", {}).items()
            if not verdict.get("ok", True)
        ]


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()


def _commit() -> str:
    # A baseline this run (or an earlier scenario of it) rewrote is not a change to the code.
    changed = _git("status", "--porcelain", "--", ".", ":(exclude)perf/baselines")
    return _git("rev-parse", "--short", "HEAD") + (" (modified)" if changed else "")


# What the service is made of: a change here can change what a baseline measured.
SERVICE_PATHS = ("triggers", "events", "inbox", "observability", "requirements.txt")


def service_commit() -> str:
    """The last commit that changed the service's code, "(modified)" if it has changed
    since (uncommitted)."""
    last = _git("log", "-1", "--format=%h", "--", *SERVICE_PATHS)
    changed = _git("status", "--porcelain", "--", *SERVICE_PATHS)
    return last + (" (modified)" if changed else "")


def _stale_baseline(baseline: Baseline, current: str) -> str | None:
    """Why the baseline no longer describes this service's code, if it does not."""
    if baseline.service_commit == current and "(modified)" not in current:
        return None
    measured = baseline.service_commit or "an unrecorded commit"
    return (
        f"the baseline measured the service at {measured}; its code is now {current}: "
        "re-record it (--update-baseline) on the same kind of machine"
    )


def _dynamodb_costs(
    log_path: Path | None, offset: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Median DynamoDB calls and consumed capacity units per request, by endpoint, from
    the service's own `request_finished` lines."""
    if log_path is None:
        return {}, {}
    calls: dict[str, list[float]] = defaultdict(list)
    capacity: dict[str, list[float]] = defaultdict(list)
    with log_path.open("rb") as log:
        log.seek(offset)
        for raw in log:
            if b'"request_finished"' in raw:
                line = json.loads(raw)
                endpoint = f"{line.get('method')} {line.get('endpoint')}"
                calls[endpoint].append(int(line.get("dynamodb_calls", 0)))
                if "dynamodb_capacity_units" in line:
                    capacity[endpoint].append(float(line["dynamodb_capacity_units"]))
    return (
        {endpoint: statistics.median(values) for endpoint, values in sorted(calls.items())},
        {endpoint: statistics.median(values) for endpoint, values in sorted(capacity.items())},
    )


def _k6_env(
    target: Target, *, stack: LoadStack, scenario: Scenario, profile: Profile, report: Path
) -> dict[str, str]:
    stress = profile.stress
    return {
        "K6_WEB_DASHBOARD": "true",
        "K6_WEB_DASHBOARD_PORT": "-1",  # no server: only the exported report
        # k6 skips the report of a run shorter than a few periods (10 s by default)
        "K6_WEB_DASHBOARD_PERIOD": f"{max(1, round(profile.total_seconds / 30))}s",
        "K6_WEB_DASHBOARD_EXPORT": str(report / f"dashboard-{target.name}.html"),
        "BASE_URL": target.url,
        "API_KEY": stack.api_key_for(scenario.name),
        "TARGET": target.name,
        "VUS": str(profile.vus),
        "DURATION": profile.duration,
        "RAMP_UP": profile.ramp_up,
        "RAMP_DOWN": profile.ramp_down,
        "SEED_EVENTS": str(profile.seed_events),
        "RATE": "" if profile.rate is None else f"{profile.rate:g}",
        "THRESHOLDS": "on" if profile.latency_thresholds else "failures",
        "P95_MS": f"{scenario.p95_ms:g}",
        "MIN_EVENTS_PER_S": (
            f"{scenario.min_events_per_s:g}"
            if profile.throughput_thresholds and scenario.min_events_per_s
            else ""
        ),
        "KEEP_ALIVE": "true" if stack.keep_alive else "false",
        "CLEAN_UP": "true" if stack.clean_up else "false",
        "START_RATE": str(stress.get("start_rate", 20)),
        "PEAK_RATE": str(stress.get("peak_rate", 200)),
        "CLIMB": str(stress.get("climb", "30s")),
        "RECOVERY_RATE": str(stress.get("recovery_rate", 20)),
        "RECOVERY": str(stress.get("recovery", "20s")),
        "MAX_VUS": str(stress.get("max_vus", 200)),
    }


def run_target(
    target: Target,
    *,
    stack: LoadStack,
    scenario: Scenario,
    profile: Profile,
    report: Path,
    json_out: Path | None = None,
    segments: int = 1,
) -> K6Run:
    """One k6 test of `scenario` against `target`; with `segments` > 1, split over that
    many k6 processes at once (perf/segments.py) and combined from their raw samples."""
    env = _k6_env(target, stack=stack, scenario=scenario, profile=profile, report=report)
    pid = target.process.process.pid if target.process else None
    log_offset = target.log_path.stat().st_size if target.log_path else 0
    cpu_before = cpu_seconds(pid) if pid else 0.0
    if segments > 1 and scenario.single_process:
        print(f"  {scenario.name} judges one process's own accounting: one k6 process")
        segments = 1
    if segments == 1:
        options = [] if json_out is None else ["--out", f"json={json_out}"]
        result = run_k6(
            scenario.script.name,
            env,
            summary=report / f"summary-{target.name}.json",
            options=options,
            check=False,
        )
        returncode, summary = result.returncode, result.summary
    else:
        returncode, summary = _run_segments(target, scenario, env, report, segments)
    run = K6Run(target.name, summary, returncode, None)
    if pid and run.requests:
        run.cpu_ms_per_request = round((cpu_seconds(pid) - cpu_before) * 1000 / run.requests, 3)
    if returncode not in (0, THRESHOLDS_FAILED):
        raise SystemExit(f"k6 failed ({returncode}) on {scenario.name} ({target.name})")
    run.dynamodb_calls, run.dynamodb_capacity = _dynamodb_costs(target.log_path, log_offset)
    return run


def _run_segments(
    target: Target, scenario: Scenario, env: dict[str, str], report: Path, count: int
) -> tuple[int, dict[str, Any]]:
    """`count` k6 processes, each a segment of the test, at once; their combined summary
    (written as summary-<target>.json), and the worst exit code."""

    def segment(number: int, options: list[str]) -> tuple[int, dict[str, Any], Path]:
        raw = report / f"samples-{target.name}-{number}.json"
        own_env = {
            **env,
            "K6_WEB_DASHBOARD_EXPORT": str(report / f"dashboard-{target.name}-{number}.html"),
        }
        result = run_k6(
            scenario.script.name,
            own_env,
            summary=report / f"summary-{target.name}-{number}.json",
            options=[*options, "--out", f"json={raw}"],
            check=False,
        )
        return result.returncode, result.summary, raw

    with ThreadPoolExecutor(max_workers=count) as pool:
        done = list(pool.map(lambda args: segment(*args), enumerate(segment_options(count))))
    combined = combine([raw for *_, raw in done], [summary for _, summary, _ in done])
    (report / f"summary-{target.name}.json").write_text(json.dumps(combined, indent=2) + "\n")
    for *_, raw in done:
        raw.unlink()  # large; the combined summary holds what was computed from them
    failed = any(
        not verdict["ok"]
        for metric in combined["metrics"].values()
        for verdict in metric.get("thresholds", {}).values()
    )
    worst = max(code for code, *_ in done)
    return (THRESHOLDS_FAILED if failed else 0) if worst in (
        0,
        THRESHOLDS_FAILED,
    ) else worst, combined


def _measured(service: K6Run, reference: K6Run | None) -> Measured:
    duration = "http_req_duration{expected_response:true}"
    ref_p95 = None if reference is None else round(reference.metric(duration, "p(95)"), 2)
    return Measured(
        p50_ms=round(service.metric(duration, "med"), 2),
        p95_ms=round(service.metric(duration, "p(95)"), 2),
        p99_ms=round(service.metric(duration, "p(99)"), 2),
        requests_per_s=round(service.metric("http_reqs", "rate"), 1),
        events_per_s=round(service.metric("events_ingested", "rate"), 1),
        failed_rate=service.metric("http_req_failed", "rate"),
        cpu_ms_per_request=service.cpu_ms_per_request,
        reference_requests_per_s=(
            None if reference is None else round(reference.metric("http_reqs", "rate"), 1)
        ),
        reference_p95_ms=ref_p95,
        reference_cpu_ms_per_request=None if reference is None else reference.cpu_ms_per_request,
    )


@dataclass
class ScenarioResult:
    scenario: str
    report: Path
    rounds: list[Measured]
    failed_thresholds: list[str]
    regressions: list[str]
    dynamodb_calls: dict[str, float]
    dynamodb_capacity: dict[str, float]
    stress: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.failed_thresholds and not self.regressions


def _cost_findings(
    calls: dict[str, float], capacity: dict[str, float], baseline: Baseline, scenario: Scenario
) -> list[str]:
    """The cost regressions; a contended endpoint's changes are printed, not judged."""
    for endpoint, change in cost_changes(calls, capacity, baseline):
        if endpoint in scenario.contended:
            print(f"  note: {change}; depends on contention, not judged", flush=True)
    return cost_regressions(calls, capacity, baseline, contended=scenario.contended)


def run_scenario(
    stack: LoadStack,
    scenario: Scenario,
    profile: Profile,
    *,
    rounds: int,
    reports: Path,
    baselines: Path,
    service_revision: str | None = None,
    segments: int = 1,
) -> ScenarioResult:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    report = reports / f"{stamp}-{scenario.name}"
    report.mkdir(parents=True)
    reference = stack.reference if scenario.reference else None
    measured: list[Measured] = []
    failed: list[str] = []
    calls: dict[str, float] = {}
    capacity: dict[str, float] = {}
    stress = None
    if profile.warm_up and reference is not None:
        _warm_up(stack, scenario, profile, report / "warm-up")
    for number in range(rounds):
        # Reference and service alternate which goes first, round by round.
        order = [t for t in (reference, stack.service) if t is not None]
        if number % 2:
            order.reverse()
        runs: dict[str, K6Run] = {}
        for target in order:
            if scenario.name == "stress_test" and target is stack.service:
                runs[target.name], stress = _stress(stack, scenario, profile, report)
            else:
                runs[target.name] = run_target(
                    target,
                    stack=stack,
                    scenario=scenario,
                    profile=profile,
                    report=report,
                    segments=segments,
                )
        service = runs["service"]
        failed += service.failed_thresholds
        if "reference" in runs:  # a reference that failed makes every ratio meaningless
            failed += [f"reference: {problem}" for problem in runs["reference"].failed_thresholds]
        calls, capacity = service.dynamodb_calls, service.dynamodb_capacity
        measured.append(_measured(service, runs.get("reference")))
    baseline = load_baseline(scenario.name, profile.name, baselines)
    found: list[str] = []
    stale = (
        None
        if baseline is None or service_revision
        else _stale_baseline(baseline, service_commit())
    )
    if stale is not None:
        if os.environ.get("CI"):  # a gate on a baseline of other code proves nothing
            failed.append(f"stale baseline: {stale}")
        else:
            print(f"  WARNING: {stale}", flush=True)
    if baseline is not None:
        found += [] if reference is None else regressions(measured, baseline)
        found += _cost_findings(calls, capacity, baseline, scenario)
    result = ScenarioResult(scenario.name, report, measured, failed, found, calls, capacity, stress)
    (report / "result.json").write_text(
        json.dumps(
            {
                "scenario": scenario.name,
                "profile": asdict(profile),
                "commit": _commit(),
                "service_revision": service_revision,  # None: the service is this checkout
                "machine": machine(),
                "when": stamp,
                "rounds": [m.record() for m in measured],
                "dynamodb_calls_per_request": calls,
                "dynamodb_capacity_per_request": capacity,
                "failed_thresholds": failed,
                "baseline": None if baseline is None else asdict(baseline),
                "regressions": found,
                "stress": stress,
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    return result


def _warm_up(stack: LoadStack, scenario: Scenario, profile: Profile, report: Path) -> None:
    """A short run against each target, measured by nobody: the first requests a fresh
    server answers (imports, connection pools, caches, DynamoDB Local's JIT) cost more
    than the rest, and would make the first round an outlier."""
    report.mkdir()
    short = replace(profile, duration=profile.warm_up, ramp_up="1s", ramp_down="1s")
    for target in (stack.reference, stack.service):
        if target is not None:
            run_target(target, stack=stack, scenario=scenario, profile=short, report=report)


def _stress(
    stack: LoadStack, scenario: Scenario, profile: Profile, report: Path
) -> tuple[K6Run, dict[str, Any]]:
    json_out = report / "requests.json"
    pids = {"service": stack.service.process.process.pid} if stack.service.process else {}
    if stack.dynamodb_pid:
        pids["dynamodb_local"] = stack.dynamodb_pid
    with CpuSampler(pids) as sampler:
        run = run_target(
            stack.service,
            stack=stack,
            scenario=scenario,
            profile=profile,
            report=report,
            json_out=json_out,
        )
    outcome = analyse(
        json_out,
        profile=profile.stress,
        climb_seconds=seconds(str(profile.stress["climb"])),
        p95_target_ms=scenario.p95_ms,
        cpu=sampler.samples,
    )
    json_out.unlink()  # large, and summarised in result.json
    return run, asdict(outcome)


def _plan(environment: Environment, profile: Profile, scenarios: list[Scenario], url: str) -> str:
    names = ", ".join(s.name for s in scenarios)
    return (
        f"Load test of {url} ({environment.name}): {names}\n"
        f"  profile {profile.name}: up to {profile.vus} VUs for {profile.duration} "
        f"(+ {profile.ramp_up} ramp-up, {profile.ramp_down} ramp-down) per scenario"
        + "".join(
            f"\n  {name}: " + ", ".join(f"{key} {value}" for key, value in own.items())
            for name, own in profile.scenarios.items()
            if any(s.name == name for s in scenarios)
        )
    )


def _guard(environment: Environment, options: argparse.Namespace, plan: str) -> None:
    """Production needs --confirm-production; staging shows its plan and asks."""
    if environment.confirm == "flag" and not options.confirm_production:
        raise SystemExit(
            f"{plan}\nRefusing to load {environment.name} without --confirm-production."
        )
    print(plan, flush=True)
    if environment.confirm == "ask" and not options.yes:
        if not sys.stdin.isatty():
            raise SystemExit("Not a terminal: pass --yes to run it.")
        if input("Run it? [y/N] ").strip().lower() not in ("y", "yes"):
            raise SystemExit("Cancelled.")


@contextmanager
def _stack(environment: Environment, options: argparse.Namespace) -> Iterator[LoadStack]:
    if environment.kind == "local":
        extra = dict(value.split("=", 1) for value in options.service_env)
        with ExitStack() as resources:
            tmp = resources.enter_context(tempfile.TemporaryDirectory(prefix="triggers-loadtest-"))
            root = resources.enter_context(worktree(options.revision)) if options.revision else ROOT
            yield resources.enter_context(
                load_stack(
                    Path(tmp), service_env=extra, reuse=not options.no_reuse, service_root=root
                )
            )
        return
    url = os.environ.get(environment.url_env or "")
    key = os.environ.get(environment.api_key_env or "")
    if not url or not key:
        raise SystemExit(f"Set {environment.url_env} and {environment.api_key_env}.")
    yield LoadStack(
        service=Target("service", url, None),
        reference=None,
        api_key=key,
        dynamodb_pid=None,
        keep_alive=environment.keep_alive,
        clean_up=environment.clean_up,
    )


def _selected(
    config: Config, options: argparse.Namespace
) -> tuple[Environment, Profile, list[Scenario]]:
    environment = config.environments[options.env]
    profile = config.profiles[options.profile]
    if options.vus or options.duration:
        # Another load than the profile's: its own name, so that it is never compared
        # with, nor stored as, the profile's baseline.
        vus, duration = options.vus or profile.vus, options.duration or profile.duration
        # (and the same for every scenario: the figures given win over the profile's own)
        profile = Profile(**{**asdict(profile), "vus": vus, "duration": duration,
                             "name": f"{profile.name}-{vus}vus-{duration}",
                             "scenarios": {}})  # fmt: skip
    return environment, profile, [config.scenarios[name] for name in options.scenario]


def _scenarios(config: Config, names: str) -> list[str]:
    """`--scenario`: "all", or names separated by commas, each a scenario's."""
    if names == "all":
        return list(config.scenarios)
    chosen = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in config.scenarios]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {', '.join(unknown) or '(none)'}; "
            f"choose all or from {', '.join(config.scenarios)}"
        )
    return chosen


def _print(result: ScenarioResult) -> None:
    last = result.rounds[-1]
    ratios = ""
    if last.cpu_ratio is not None and last.throughput_ratio is not None:
        ratios = f"  | vs reference: CPU {last.cpu_ratio:.2f}x, req/s {last.throughput_ratio:.2f}x"
    print(
        f"{result.scenario}: p95 {last.p95_ms} ms, {last.requests_per_s} req/s, "
        f"{last.events_per_s} events/s, failed {last.failed_rate:.4%}, "
        f"CPU {last.cpu_ms_per_request} ms/req{ratios}"
    )
    for problem in result.failed_thresholds + result.regressions:
        print(f"  FAIL {problem}")
    print(f"  report: {result.report}", flush=True)


_SUMMARY_HEADER = (
    "| scenario | verdict | p95 ms | req/s | events/s | failed | CPU vs reference | "
    "DynamoDB calls / capacity units per request |\n|---|---|---|---|---|---|---|---|\n"
)


def summary_row(result: ScenarioResult) -> str:
    """One scenario as a row of the job summary's table (medians of its rounds)."""
    rounds = result.rounds
    cpu = [c for r in rounds if (c := r.cpu_ratio) is not None]
    costs = "<br>".join(
        f"{endpoint}: {calls:g} / {result.dynamodb_capacity.get(endpoint, '-')}"
        for endpoint, calls in result.dynamodb_calls.items()
    )
    problems = "<br>".join(result.failed_thresholds + result.regressions)
    verdict = "pass" if result.ok else f"**FAIL**<br>{problems}"
    return (
        f"| {result.scenario} | {verdict} "
        f"| {statistics.median(r.p95_ms for r in rounds):g} "
        f"| {statistics.median(r.requests_per_s for r in rounds):g} "
        f"| {statistics.median(r.events_per_s for r in rounds):g} "
        f"| {max(r.failed_rate for r in rounds):.4%} "
        f"| {f'{statistics.median(cpu):.3f}x' if cpu else '-'} | {costs or '-'} |\n"
    )


def _summarise(result: ScenarioResult, path: str | None) -> None:
    """The scenario's row in the CI job's summary (GITHUB_STEP_SUMMARY), under the
    table's header the first time."""
    if not path:
        return
    summary = Path(path)
    existing = summary.read_text() if summary.exists() else ""
    with summary.open("a") as out:
        if _SUMMARY_HEADER not in existing:
            out.write("\n### Load test\n\n" + _SUMMARY_HEADER)
        out.write(summary_row(result))


def history_line(result: ScenarioResult, environment: str, profile: str) -> dict[str, Any]:
    """The run as the history keeps it: this checkout's commits, this machine."""
    return history.entry(
        environment=environment,
        scenario=result.scenario,
        profile=profile,
        when=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        commit=_commit(),
        service_commit=service_commit(),
        machine=machine(),
        rounds=result.rounds,
        dynamodb_calls=result.dynamodb_calls,
        dynamodb_capacity=result.dynamodb_capacity,
        ok=result.ok,
    )


def _record(
    result: ScenarioResult, environment: Environment, profile: Profile, options: argparse.Namespace
) -> None:
    """The run into the history; with --update-baseline (local), a baseline from the
    history's runs of this service code on this kind of machine, this run among them."""
    current, box = service_commit(), machine()
    history.append(history_line(result, environment.name, profile.name), options.history_dir)
    if not options.update_baseline or environment.kind != "local":
        return
    runs = history.read(options.history_dir)[(environment.name, result.scenario, profile.name)]
    made = baseline_from(
        history.unchanged_runs(runs, service_commit=current, machine=box),
        scenario=result.scenario,
        profile=profile.name,
        commit=_commit(),
        date=datetime.now(UTC).date().isoformat(),
        machine=box,
        dynamodb_calls=result.dynamodb_calls,
        dynamodb_capacity=result.dynamodb_capacity,
        service_commit=current,
    )
    path = made.write(options.baseline_dir)
    print(f"  baseline: {path} (from {made.runs} runs)")


def parse(argv: list[str] | None) -> argparse.Namespace:
    config = load()
    parser = argparse.ArgumentParser(prog="python -m perf.loadtest", description=__doc__)
    parser.add_argument(
        "--scenario", default="all", type=lambda names: _scenarios(config, names),
        help=f"all, or one or more (comma-separated) of: {', '.join(config.scenarios)}",
    )  # fmt: skip
    parser.add_argument("--env", default="local", choices=list(config.environments))
    parser.add_argument("--profile", default="local", choices=list(config.profiles))
    parser.add_argument(
        "--repeat", type=int, help="Rounds per scenario (default: the profile's `rounds`)."
    )
    parser.add_argument(
        "--update-baseline", action="store_true", help="Store the result as the baseline."
    )
    parser.add_argument("--baseline-dir", type=Path, default=BASELINES)
    parser.add_argument("--report-dir", type=Path, default=REPORTS)
    parser.add_argument("--history-dir", type=Path, default=history.HISTORY)
    parser.add_argument("--vus", type=int, help="Override the profile's VUs.")
    parser.add_argument(
        "--segments", type=int, default=1,
        help="Split each test over this many k6 processes (k6's execution segments).",
    )  # fmt: skip
    parser.add_argument("--duration", help="Override the profile's duration (k6 syntax).")
    parser.add_argument(
        "--service-env", action="append", default=[], metavar="NAME=VALUE",
        help="Extra environment for the service (local only).",
    )  # fmt: skip
    parser.add_argument("--no-reuse", action="store_true", help="Never reuse `make run`'s stores.")
    parser.add_argument(
        "--revision", metavar="GIT_REV",
        help="Run the service as it was at this revision (local; a before/after). Never "
        "stored as a baseline.",
    )  # fmt: skip
    parser.add_argument("--confirm-production", action="store_true")
    parser.add_argument("--yes", action="store_true", help="Do not ask before staging.")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    environment, profile, scenarios = _selected(load(), options)
    url = environment.url_env and os.environ.get(environment.url_env, "<unset>")
    plan = _plan(environment, profile.capped(environment), scenarios, url or "the local stack")
    _guard(environment, options, plan)
    results = []
    with _stack(environment, options) as stack:
        for scenario in scenarios:
            result = run_scenario(
                stack,
                scenario,
                profile.for_scenario(scenario.name).capped(environment),
                # rounds are what the CPU verdict averages: only where there is a reference
                rounds=options.repeat or (profile.rounds if scenario.reference else 1),
                reports=options.report_dir,
                baselines=options.baseline_dir,
                service_revision=options.revision,
                segments=options.segments,
            )
            _print(result)
            _summarise(result, os.environ.get("GITHUB_STEP_SUMMARY"))
            results.append(result)
            if not options.revision:  # a before/after run is not this code's history
                _record(result, environment, profile, options)
    return 0 if all(result.ok for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
