"""gunicorn settings (Procfile, `make run`, tests), read from the environment through the
same validated helpers as the Django settings: a bad value stops gunicorn at start-up."""

from __future__ import annotations

from observability.logging import LogSettings, build_logging_config
from triggers.core.env import env_int, env_str

_port = env_int("PORT", 8000, minimum=1, maximum=65535)
bind = env_str("GUNICORN_BIND", f"127.0.0.1:{_port}")
# Threads overlap the DynamoDB round trips that dominate a request; processes use the cores.
worker_class = "gthread"
workers = env_int("WEB_CONCURRENCY", 2, minimum=1)
threads = env_int("GUNICORN_THREADS", 4, minimum=1)
timeout = env_int("GUNICORN_TIMEOUT", 30, minimum=1)
graceful_timeout = 10
keepalive = 5
# No cap on the request line here (gunicorn's own cap answers with an HTML 414): every
# request reaches the service, which refuses overlong parameters in the error envelope.
# gunicorn listens on loopback only; nginx in front of it caps request lines (8 KB).
limit_request_line = 0
# Several servers (make run, tests, benchmarks) may run at once; none needs the control socket.
control_socket_disable = True

# gunicorn's own lines use the service's renderer: JSON like everything else (or console).
# Requests are logged by the service itself (request_finished), so the access log is off.
accesslog = None
logconfig_dict = build_logging_config(LogSettings.from_env())


def post_worker_init(worker: object) -> None:
    """Build the worker's DynamoDB clients before it takes a request. A client is built
    on first use, from a botocore session of the thread that uses it (botocore's model
    and endpoint rules loaded each time): a fresh worker met by a burst did that in
    every thread at once, and its first batches ran out of their deadline (503) before
    reaching DynamoDB. Built here, once, every thread shares them."""
    from triggers.core.aws import warm_dynamodb_clients  # noqa: PLC0415 - Django is loaded

    warm_dynamodb_clients()


def worker_exit(server: object, worker: object) -> None:
    """Publish the metrics a worker buffered before it goes away."""
    from observability.metrics import shutdown_publisher  # noqa: PLC0415 - Django is loaded

    shutdown_publisher()


def worker_abort(worker: object) -> None:
    """The master kills a worker that stopped answering within `timeout`: count the
    requests dying with it (worker_exit then publishes them)."""
    from observability.middleware import record_abandoned_requests  # noqa: PLC0415

    record_abandoned_requests()
