"""The load runs' history: every run of the runner appends its figures, one JSON line a
scenario, to perf/history/<environment>-<scenario>-<profile>.jsonl (committed, like
the baselines, so that trends and tolerances can be read from many runs instead of a
few rounds). `make loadtest-report` draws them (perf/history_report.py).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from perf.regression import Measured

# The most runs a baseline is made from: the newest, so that it follows the machine
# (calibrated with 10: perf/benchmarks.md).
BASELINE_RUNS = 10

__all__ = ["HISTORY", "append", "entry", "read", "unchanged_runs"]

HISTORY = Path(__file__).with_name("history")


def entry(
    *,
    environment: str,
    scenario: str,
    profile: str,
    when: str,
    commit: str,
    service_commit: str,
    machine: dict[str, Any],
    rounds: list[Measured],
    dynamodb_calls: dict[str, float],
    dynamodb_capacity: dict[str, float],
    ok: bool,
) -> dict[str, Any]:
    """One run of one scenario, as a history line (every round, with its ratios)."""
    return {
        "environment": environment,
        "scenario": scenario,
        "profile": profile,
        "when": when,
        "commit": commit,
        "service_commit": service_commit,
        "machine": machine,
        "rounds": [m.record() for m in rounds],
        "dynamodb_calls": dynamodb_calls,
        "dynamodb_capacity": dynamodb_capacity,
        "ok": ok,
    }


def append(line: dict[str, Any], directory: Path = HISTORY) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{line['environment']}-{line['scenario']}-{line['profile']}.jsonl"
    with path.open("a") as history:
        history.write(json.dumps(line, sort_keys=True) + "\n")
    return path


def read(directory: Path = HISTORY) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """Every run, by (environment, scenario, profile), oldest first."""
    runs: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for path in sorted(directory.glob("*.jsonl")):
        for text in path.read_text().splitlines():
            if text.strip():
                line = json.loads(text)
                runs[(line["environment"], line["scenario"], line["profile"])].append(line)
    return {key: sorted(lines, key=lambda line: line["when"]) for key, lines in runs.items()}


def unchanged_runs(
    runs: list[dict[str, Any]], *, service_commit: str, machine: dict[str, Any]
) -> list[list[Measured]]:
    """The rounds of the newest runs (at most BASELINE_RUNS) that measured this service
    code on this kind of machine: what a baseline and its noise are made from."""
    same = [
        run
        for run in runs
        if run["service_commit"] == service_commit
        and run["machine"].get("cpu") == machine.get("cpu")
        and run["machine"].get("cores") == machine.get("cores")
    ]
    return [[Measured.from_record(r) for r in run["rounds"]] for run in same[-BASELINE_RUNS:]]
