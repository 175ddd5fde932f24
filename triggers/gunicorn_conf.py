"""gunicorn settings (Procfile, `make run`, tests). Every value can be overridden by env."""

from __future__ import annotations

import os

from observability.logging import build_logging_config

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# Threads overlap the DynamoDB round trips that dominate a request; processes use the cores.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
keepalive = 5
# Several servers (make run, tests, benchmarks) may run at once; none needs the control socket.
control_socket_disable = True

# gunicorn's own lines use the service's renderer: JSON like everything else (or console).
# Requests are logged by the service itself (request_finished), so the access log is off.
accesslog = None
logconfig_dict = build_logging_config(
    level=os.environ.get("LOG_LEVEL", "INFO"), fmt=os.environ.get("LOG_FORMAT", "json")
)


def worker_exit(server: object, worker: object) -> None:
    """Publish the metrics a worker buffered before it goes away."""
    from observability.metrics import shutdown_publisher  # noqa: PLC0415 - Django is loaded

    shutdown_publisher()
