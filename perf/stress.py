"""Reading a stress run: where the service broke, and how long it took to recover.

The stress scenario offers a climbing arrival rate, then drops it. k6's per-request
output (`--out json`) is cut into seconds; a second is *good* when under 1 % of its
requests failed, its p95 is within the target and k6 dropped no iteration for want of
a free VU. The breaking point is the start of the first run of two or more bad seconds
while the load climbs that the service never recovered from before the climb ended (no
three good seconds in a row after it: a passing blip on a shared machine is not a
break); recovery is the time from the drop to the first of three good seconds
in a row. CPU of the service, DynamoDB Local and k6, sampled each second, shows what
ran out first.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from perf.harness import cpu_seconds

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

__all__ = ["CpuSampler", "StressOutcome", "analyse"]

_BAD_ERROR_SHARE = 0.01
_WARM_UP_SECONDS = 2


def _machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat), whoever used them."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / _CLOCK_TICKS


class CpuSampler:
    """CPU % (100 = one core) of some processes, and of the whole machine ("machine": k6
    and everything else included), sampled once a second in a thread."""

    def __init__(self, pids: dict[str, int]):
        self._pids = pids
        self.samples: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _read(self) -> dict[str, float]:
        return {
            **{name: cpu_seconds(pid) for name, pid in self._pids.items()},
            "machine": _machine_busy_seconds(),
        }

    def _run(self) -> None:
        last = self._read()
        last_time = time.monotonic()
        while not self._stop.wait(1.0):
            now = self._read()
            elapsed = time.monotonic() - last_time
            self.samples.append(
                {name: round((now[name] - last[name]) / elapsed * 100, 1) for name in now}
            )
            last, last_time = now, time.monotonic()


@dataclass
class StressOutcome:
    seconds: list[dict[str, Any]] = field(default_factory=list)
    breaking_second: int | None = None
    breaking_offered_rate: float | None = None
    breaking_reason: str | None = None
    max_good_throughput: float = 0.0
    recovery_seconds: int | None = None
    busiest_at_break: dict[str, float] | None = None


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def _per_second(path: Path) -> dict[int, dict[str, Any]]:
    seconds: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"durations": [], "errors": 0, "dropped": 0}
    )
    start: float | None = None
    with path.open() as lines:
        for line in lines:
            point = json.loads(line)
            if point.get("type") != "Point":
                continue
            data = point["data"]
            moment = datetime.fromisoformat(data["time"].replace("Z", "+00:00")).timestamp()
            start = moment if start is None else min(start, moment)
            metric = point["metric"]
            if metric not in ("http_req_duration", "dropped_iterations"):
                continue
            bucket = seconds[int(moment)]
            if metric == "dropped_iterations":
                bucket["dropped"] += data["value"]
            elif data["tags"].get("expected_response") == "true":
                bucket["durations"].append(data["value"])
            else:
                bucket["errors"] += 1
    if start is None:
        return {}
    first = int(start)
    return {second - first: values for second, values in sorted(seconds.items())}


def analyse(
    path: Path,
    *,
    profile: dict[str, Any],
    climb_seconds: float,
    p95_target_ms: float,
    cpu: list[dict[str, float]],
) -> StressOutcome:
    outcome = StressOutcome()
    start_rate, peak_rate = float(profile["start_rate"]), float(profile["peak_rate"])
    climb: list[dict[str, Any]] = []
    for second, values in _per_second(path).items():
        done = len(values["durations"])
        total = done + values["errors"]
        p95 = _percentile(values["durations"], 95) if done else None
        offered = (
            start_rate + (peak_rate - start_rate) * min(second / climb_seconds, 1.0)
            if second < climb_seconds
            else float(profile["recovery_rate"])
        )
        reasons = []
        if total and values["errors"] / total > _BAD_ERROR_SHARE:
            reasons.append(f"{values['errors']}/{total} requests failed")
        if p95 is not None and p95 > p95_target_ms:
            reasons.append(f"p95 {p95:.0f} ms over {p95_target_ms:.0f} ms")
        if values["dropped"]:
            reasons.append(f"{values['dropped']:.0f} requests could not start (no free VU)")
        row = {
            "second": second,
            "offered_per_s": round(offered, 1),
            "completed": done,
            "errors": values["errors"],
            "p95_ms": None if p95 is None else round(p95, 1),
            "dropped": values["dropped"],
            "cpu_percent": cpu[second] if second < len(cpu) else None,
            "good": not reasons,
        }
        outcome.seconds.append(row)
        if _WARM_UP_SECONDS <= second < climb_seconds:
            climb.append({**row, "reasons": reasons})
    broke = _breaking_second(climb)
    before_break = [r for r in climb if broke is None or r["second"] < broke["second"]]
    outcome.max_good_throughput = float(
        max((r["completed"] for r in before_break if r["good"]), default=0)
    )
    if broke is not None:
        outcome.breaking_second = broke["second"]
        outcome.breaking_offered_rate = broke["offered_per_s"]
        outcome.breaking_reason = "; ".join(broke["reasons"])
        outcome.busiest_at_break = broke["cpu_percent"]
    outcome.recovery_seconds = _recovery(outcome.seconds, climb_seconds)
    return outcome


def _breaking_second(climb: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The first second of the first bad run (2+ seconds) not followed by 3 good in a row."""
    index = 0
    while index < len(climb):
        if climb[index]["good"]:
            index += 1
            continue
        end = index
        while end < len(climb) and not climb[end]["good"]:
            end += 1
        if end - index >= 2 and not _good_stretch(climb[end:], 3):
            return climb[index]
        index = end
    return None


def _good_stretch(rows: list[dict[str, Any]], length: int) -> bool:
    return any(
        all(row["good"] for row in rows[i : i + length]) for i in range(len(rows) - length + 1)
    )


def _recovery(rows: list[dict[str, Any]], climb_seconds: float) -> int | None:
    after = [row for row in rows if row["second"] >= climb_seconds]
    for index in range(len(after) - 2):
        if all(row["good"] for row in after[index : index + 3]):
            return int(after[index]["second"] - climb_seconds)
    return None
