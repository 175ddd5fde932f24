"""The tables of perf/benchmarks.md, from load-test reports.

    .venv/bin/python -m perf.benchmarks perf/reports/20261129T0832*-*/

Prints, in Markdown, one row per round of each report: the service's p50/p95/p99,
success rate, requests/s, events/s and CPU ms per request, the reference's figures
from the same round, and the ratios; then the stress test's findings, if any, and the
DynamoDB calls and capacity units per request by endpoint.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

_HEADER = (
    "| scenario | round | p50 ms | p95 ms | p99 ms | success | req/s | events/s | CPU ms/req "
    "| ref p95 ms | ref req/s | ref CPU ms/req | CPU ratio | req/s ratio |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _row(scenario: str, number: int, measured: dict[str, Any]) -> str:
    cells = [
        scenario,
        str(number),
        _number(measured["p50_ms"]),
        _number(measured["p95_ms"]),
        _number(measured["p99_ms"]),
        f"{1 - measured['failed_rate']:.2%}",
        _number(measured["requests_per_s"]),
        _number(measured["events_per_s"]),
        _number(measured["cpu_ms_per_request"], 2),
        _number(measured["reference_p95_ms"]),
        _number(measured["reference_requests_per_s"]),
        _number(measured["reference_cpu_ms_per_request"], 2),
        _number(measured["cpu_ratio"], 2),
        _number(measured["throughput_ratio"], 2),
    ]
    return "| " + " | ".join(cells) + " |"


def _units(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _stress(scenario: str, stress: dict[str, Any]) -> list[str]:
    busiest = stress.get("busiest_at_break") or {}
    cpu = ", ".join(f"{name} {percent:.0f} %" for name, percent in busiest.items())
    recovery = stress["recovery_seconds"]
    return [
        f"- **{scenario}**: broke at second {stress['breaking_second']} of the climb, "
        f"offered {_number(stress['breaking_offered_rate'], 0)} requests/s "
        f"({stress['breaking_reason']}); best good second before it: "
        f"{_number(stress['max_good_throughput'], 0)} requests completed; CPU then: "
        f"{cpu or 'not sampled'} (100 % = one core); recovered "
        f"{'never, within the run' if recovery is None else f'{recovery} s after the drop'}."
    ]


def tables(reports: list[Path]) -> str:
    rows, notes, calls = [_HEADER], [], []
    for report in sorted(reports):
        result = json.loads((report / "result.json").read_text())
        scenario = result["scenario"]
        for number, measured in enumerate(result["rounds"], start=1):
            rows.append(_row(scenario, number, measured))
        ratios = [m["cpu_ratio"] for m in result["rounds"] if m["cpu_ratio"] is not None]
        if ratios:
            notes.append(f"- {scenario}: median CPU ratio {statistics.median(ratios):.2f}")
        if result.get("dynamodb_calls_per_request"):
            capacity = result.get("dynamodb_capacity_per_request") or {}
            per_endpoint = ", ".join(
                f"`{endpoint}` {count:g} / {_units(capacity.get(endpoint))}"
                for endpoint, count in result["dynamodb_calls_per_request"].items()
            )
            calls.append(f"- {scenario}: {per_endpoint}")
        if result.get("stress") and result["stress"].get("breaking_second") is not None:
            notes += _stress(scenario, result["stress"])
    parts = ["\n".join(rows), "\n".join(notes)]
    if calls:
        parts.append(
            "DynamoDB calls / capacity units per request (medians, by endpoint):\n\n"
            + "\n".join(calls)
        )
    return "\n\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m perf.benchmarks", description=__doc__)
    parser.add_argument("reports", nargs="+", type=Path, help="perf/reports/<time>-<scenario>")
    print(tables(parser.parse_args(argv).reports), end="")


if __name__ == "__main__":
    main()
