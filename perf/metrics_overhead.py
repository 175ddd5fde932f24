"""What CloudWatch metrics cost on POST /v1/events, measured in one run.

    .venv/bin/python -m perf.metrics_overhead [--rounds 6] [--vus 10] [--duration 10s]

`metrics_on`: METRICS_BACKEND=cloudwatch, publishing to moto's CloudWatch on
loopback every 5 s (so several flushes happen inside each measured window);
`metrics_off`: METRICS_BACKEND=none. Logging is at its production default in both.
moto's own CPU (it stands in for CloudWatch, which in production runs elsewhere) is
reported separately as `watched_cpu_ms_per_request`: on a 2-core box it competes
with the service, so requests/s alone overstates the cost.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from perf.harness import overhead, overhead_options, perf_stack


def main() -> None:
    options = overhead_options(__doc__)
    with (
        tempfile.TemporaryDirectory(prefix="triggers-perf-moto-") as tmp,
        perf_stack(Path(tmp), moto=True) as stack,
    ):
        variants = {
            "metrics_on": {
                "METRICS_BACKEND": "cloudwatch",
                "METRICS_FLUSH_INTERVAL_SECONDS": "5",
                "AWS_ENDPOINT_URL_CLOUDWATCH": stack.moto_url,
            },
            "metrics_off": {"METRICS_BACKEND": "none"},
        }
        overhead(
            "metrics-overhead",
            variants,
            on="metrics_on",
            off="metrics_off",
            options=options,
            # longer than one flush interval: the worker's CloudWatch client (created
            # once per process, on the flusher thread) is built before measuring
            warmup="7s",
            watch=(stack.moto.process.pid,) if stack.moto else (),
            stack=stack,
        )


if __name__ == "__main__":
    main()
