"""What structured logging costs on POST /v1/events, measured in one run.

    .venv/bin/python -m perf.logging_overhead [--rounds 6] [--vus 10] [--duration 10s]

Variant `logging_on` is the production default (LOG_LEVEL=INFO, json); `logging_off`
sets LOG_LEVEL=CRITICAL, which drops every line the service writes while serving.
Prints the medians and the cost as a percentage; writes the full report under
perf/reports/.
"""

from __future__ import annotations

from perf.harness import overhead, overhead_options

VARIANTS = {
    "logging_on": {"LOG_LEVEL": "INFO", "LOG_FORMAT": "json"},
    "logging_off": {"LOG_LEVEL": "CRITICAL", "LOG_FORMAT": "json"},
}


def main() -> None:
    options = overhead_options(__doc__)
    overhead("logging-overhead", VARIANTS, on="logging_on", off="logging_off", options=options)


if __name__ == "__main__":
    main()
