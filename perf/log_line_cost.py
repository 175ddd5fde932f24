"""CPU cost of one log line through the service's real logging pipeline, in-process.

    DJANGO_SECRET_KEY=x .venv/bin/python -m perf.log_line_cost

Complements perf/logging_overhead.py, whose end-to-end difference is smaller
than the run-to-run spread of a 2-core box: this isolates the per-line cost.
"""

from __future__ import annotations

import logging
import os
import time

import django


def main(lines: int = 20_000) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "triggers.settings")
    django.setup()
    import structlog  # noqa: PLC0415 - after Django is configured

    from observability.logging import get_logger  # noqa: PLC0415

    with open(os.devnull, "w") as devnull:
        for handler in logging.getLogger().handlers:
            handler.setStream(devnull)  # type: ignore[attr-defined]  # a StreamHandler
        logger = get_logger("perf")
        structlog.contextvars.bind_contextvars(
            request_id="0b7c3f0e-8a3e-4c1f-9d2a-3b4c5d6e7f80",
            method="POST",
            endpoint="/v1/events",
            ip="127.0.0.1",
            api_key="trg_abcd…",
            tenant_id="tenant-1",
        )
        for name, level in (("info (written)", logging.INFO), ("debug (filtered)", logging.DEBUG)):
            started = time.process_time()
            for _ in range(lines):
                logger.log(
                    level,
                    "event_ingested",
                    event_id="0b7c3f0e-8a3e-4c1f-9d2a-3b4c5d6e7f80",
                    source="billing",
                    event_type="invoice.paid",
                    payload_bytes=120,
                    idempotent_replay=False,
                )
            micros = (time.process_time() - started) / lines * 1e6
            print(f"{name}: {micros:.1f} µs CPU per line")


if __name__ == "__main__":
    main()
