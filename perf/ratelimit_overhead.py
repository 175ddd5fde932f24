"""What the per-key rate limit costs on POST /v1/events, measured in one run.

    .venv/bin/python -m perf.ratelimit_overhead [--rounds 6] [--vus 10] [--duration 10s]

`ratelimit_on`: RATE_LIMIT_ENABLED=true with limits far above the load (every request
passes the throttle, its bucket and, once per lease, a DynamoDB UpdateItem; none is
refused); `ratelimit_off`: RATE_LIMIT_ENABLED=false. Logging and metrics at their
production defaults in both.
"""

from __future__ import annotations

from perf.harness import NEVER_RATE_LIMITED, overhead, overhead_options


def main() -> None:
    options = overhead_options(__doc__)
    variants = {
        "ratelimit_on": {"RATE_LIMIT_ENABLED": "true", **NEVER_RATE_LIMITED},
        "ratelimit_off": {"RATE_LIMIT_ENABLED": "false", **NEVER_RATE_LIMITED},
    }
    overhead(
        "ratelimit-overhead", variants, on="ratelimit_on", off="ratelimit_off", options=options
    )


if __name__ == "__main__":
    main()
