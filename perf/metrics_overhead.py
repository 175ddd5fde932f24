"""What CloudWatch metrics cost on POST /v1/events, measured in one run.

    .venv/bin/python -m perf.metrics_overhead [--rounds 3] [--vus 10] [--duration 15s]

`metrics_on`: METRICS_BACKEND=cloudwatch, publishing to moto's CloudWatch on
loopback every 5 s (so several flushes happen inside each measured window);
`metrics_off`: METRICS_BACKEND=none. Logging is at its production default in both.
moto's own CPU (it stands in for CloudWatch, which in production runs elsewhere) is
reported separately as `watched_cpu_ms_per_request`: on a 2-core box it competes
with the service, so requests/s alone overstates the cost.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from perf.harness import compare, moto, write_report


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--vus", type=int, default=10)
    parser.add_argument("--duration", default="15s")
    options = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="triggers-perf-moto-") as tmp,
        moto(Path(tmp)) as cloudwatch,
    ):
        variants = {
            "metrics_on": {
                "METRICS_BACKEND": "cloudwatch",
                "METRICS_FLUSH_INTERVAL_SECONDS": "5",
                "AWS_ENDPOINT_URL_CLOUDWATCH": cloudwatch.url,
            },
            "metrics_off": {"METRICS_BACKEND": "none"},
        }
        report = compare(
            variants,
            scenario="ingest.js",
            rounds=options.rounds,
            vus=options.vus,
            duration=options.duration,
            # longer than one flush interval: the worker's CloudWatch client (created
            # once per process, on the flusher thread) is built before measuring
            warmup="7s",
            watch=(cloudwatch.process.pid,),
        )
    on, off = report["medians"]["metrics_on"], report["medians"]["metrics_off"]
    report["throughput_cost_pct"] = round(
        (1 - on["requests_per_s"] / off["requests_per_s"]) * 100, 1
    )
    report["cpu_cost_pct"] = round(
        (on["service_cpu_ms_per_request"] / off["service_cpu_ms_per_request"] - 1) * 100, 1
    )
    path = write_report("metrics-overhead", report)
    print(json.dumps({k: report[k] for k in ("medians", "throughput_cost_pct", "cpu_cost_pct")}))
    print(f"report: {path}")


if __name__ == "__main__":
    main()
