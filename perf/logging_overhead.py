"""What structured logging costs on POST /v1/events, measured in one run.

    .venv/bin/python -m perf.logging_overhead [--rounds 3] [--vus 10] [--duration 15s]

Variant `logging_on` is the production default (LOG_LEVEL=INFO, json); `logging_off`
sets LOG_LEVEL=CRITICAL, which drops every line the service writes while serving.
Prints the medians and the cost as a percentage; writes the full report under
perf/reports/.
"""

from __future__ import annotations

import argparse
import json

from perf.harness import compare, write_report

VARIANTS = {
    "logging_on": {"LOG_LEVEL": "INFO", "LOG_FORMAT": "json"},
    "logging_off": {"LOG_LEVEL": "CRITICAL", "LOG_FORMAT": "json"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--vus", type=int, default=10)
    parser.add_argument("--duration", default="15s")
    options = parser.parse_args()

    report = compare(
        VARIANTS,
        scenario="ingest.js",
        rounds=options.rounds,
        vus=options.vus,
        duration=options.duration,
    )
    on, off = report["medians"]["logging_on"], report["medians"]["logging_off"]
    report["throughput_cost_pct"] = round(
        (1 - on["requests_per_s"] / off["requests_per_s"]) * 100, 1
    )
    report["cpu_cost_pct"] = round(
        (on["service_cpu_ms_per_request"] / off["service_cpu_ms_per_request"] - 1) * 100, 1
    )
    path = write_report("logging-overhead", report)
    print(json.dumps({k: report[k] for k in ("medians", "throughput_cost_pct", "cpu_cost_pct")}))
    print(f"report: {path}")


if __name__ == "__main__":
    main()
