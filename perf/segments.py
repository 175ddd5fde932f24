"""One k6 test split over N k6 processes with k6's own execution segments, and their
raw samples combined into one summary.

Each process runs `--execution-segment i/N:(i+1)/N` of the same
`--execution-segment-sequence` (k6 splits every executor's VUs and iterations between
them) and writes its raw samples (`--out json`). The combined summary is computed from
the merged samples, never by averaging the processes' percentiles: trends' percentiles
as k6 computes them (linear interpolation between the closest ranks), counters summed
and divided by the longest process's duration, rates over every sample. Each threshold
any process declared is evaluated again on the combined figures. N processes are local
here; on other hosts (or k6-operator's pods) the same segments apply (perf/README.md).
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

__all__ = ["combine", "percentile", "segment_options"]

_THRESHOLD = re.compile(r"^\s*([a-z]+(?:\(\d+(?:\.\d+)?\))?)\s*(<=|>=|==|!=|<|>)\s*(-?[\d.]+)\s*$")
_SUBMETRIC = re.compile(r"^([^{]+)(?:\{(.*)\})?$")


def segment_options(count: int) -> list[list[str]]:
    """k6's options for each of `count` processes sharing one test."""
    bounds = [Fraction(i, count) for i in range(count + 1)]
    sequence = ",".join(str(bound) for bound in bounds)
    return [
        [
            "--execution-segment",
            f"{bounds[i]}:{bounds[i + 1]}",
            "--execution-segment-sequence",
            sequence,
            "--address",  # each its own REST API port (6565 is taken by the first)
            "127.0.0.1:0",
        ]
        for i in range(count)
    ]


def percentile(ordered: list[float], pct: float) -> float:
    """k6's trend percentile (lib/metrics TrendSink.P): linear interpolation between the
    closest ranks of the sorted values."""
    if not ordered:
        return 0.0
    rank = pct * (len(ordered) - 1)
    low, high = ordered[math.floor(rank)], ordered[math.ceil(rank)]
    return low + (high - low) * (rank - math.floor(rank))


def _points(paths: Iterable[Path]) -> Iterable[tuple[str, float, dict[str, str]]]:
    for path in paths:
        with path.open() as lines:
            for line in lines:
                sample = json.loads(line)
                if sample.get("type") == "Point":
                    data = sample["data"]
                    yield sample["metric"], float(data["value"]), data.get("tags") or {}


def _selector(name: str) -> tuple[str, dict[str, str]]:
    """`http_req_duration{expected_response:true}` -> the metric and the tags it selects."""
    match = _SUBMETRIC.match(name)
    assert match is not None  # noqa: S101 - the pattern matches any text
    base, tags = match.group(1), match.group(2)
    selected = dict(part.split(":", 1) for part in tags.split(",")) if tags else {}
    return base, selected


def _values(kind: str, values: list[float], seconds: float) -> dict[str, float]:
    if kind == "trend":
        ordered = sorted(values)
        stats = {
            "avg": sum(ordered) / len(ordered) if ordered else 0.0,
            "min": ordered[0] if ordered else 0.0,
            "max": ordered[-1] if ordered else 0.0,
            "med": percentile(ordered, 0.5),
            "count": float(len(ordered)),
        }
        for pct in (90, 95, 99):
            stats[f"p({pct})"] = percentile(ordered, pct / 100)
        return stats
    if kind == "counter":
        return {"count": sum(values), "rate": sum(values) / seconds if seconds else 0.0}
    if kind == "rate":
        passes = sum(1 for value in values if value != 0)
        return {
            "rate": passes / len(values) if values else 0.0,
            "passes": float(passes),
            "fails": float(len(values) - passes),
        }
    return {"value": values[-1] if values else 0.0}  # gauge


def _holds(expression: str, values: dict[str, float]) -> bool:
    match = _THRESHOLD.match(expression)
    if match is None:
        raise ValueError(f"a threshold the combiner cannot evaluate: {expression!r}")
    stat, operator, bound = match.group(1), match.group(2), float(match.group(3))
    value = values.get(stat, 0.0)
    return {
        "<": value < bound,
        "<=": value <= bound,
        ">": value > bound,
        ">=": value >= bound,
        "==": value == bound,
        "!=": value != bound,
    }[operator]


def combine(raw: list[Path], summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """One summary, in k6's summary format, of the processes whose raw samples are `raw`
    and whose own summaries are `summaries` (for the metrics' kinds and thresholds)."""
    kinds: dict[str, str] = {}
    thresholds: dict[str, set[str]] = defaultdict(set)
    for summary in summaries:
        for name, metric in summary["metrics"].items():
            kinds[name] = metric["type"]
            thresholds[name].update(metric.get("thresholds", {}))
    selectors = {name: _selector(name) for name in kinds}
    samples: dict[str, list[float]] = defaultdict(list)
    for metric, value, tags in _points(raw):
        for name, (base, selected) in selectors.items():
            if base == metric and all(tags.get(k) == v for k, v in selected.items()):
                samples[name].append(value)
    seconds = max(summary["state"]["testRunDurationMs"] for summary in summaries) / 1000
    metrics: dict[str, Any] = {}
    for name, kind in kinds.items():
        values = _values(kind, samples[name], seconds)
        combined: dict[str, Any] = {"type": kind, "values": values}
        if thresholds[name]:
            combined["thresholds"] = {
                expression: {"ok": _holds(expression, values)}
                for expression in sorted(thresholds[name])
            }
        metrics[name] = combined
    return {
        "metrics": metrics,
        "state": {"testRunDurationMs": seconds * 1000},
        "segments": len(summaries),
    }
