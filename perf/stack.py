"""The local stack a load test runs on: DynamoDB Local and moto (started, or reused from a
running `make run`), the service as `make run` runs it (JSON logs, CloudWatch metrics
to moto), and the reference beside it, both under the same gunicorn settings.
"""

from __future__ import annotations

import functools
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.localstack import (
    DATA_DIR,
    ROOT,
    Service,
    free_port,
    local_dynamodb,
    read_env_file,
    start_server,
)
from devstack.stack import LocalStack, local_stack
from perf.harness import NEVER_RATE_LIMITED

__all__ = ["LoadStack", "Target", "load_stack"]

TABLE_PREFIX = "triggers-loadtest"
REFERENCE_TABLE = "triggers-loadtest-reference"
# perf/reference/models.py's indexes (not imported: it needs the reference's settings).
_REFERENCE_INDEXES: list[dict[str, Any]] = [
    {
        "IndexName": "event-id-index",
        "KeySchema": [{"AttributeName": "event_id", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    },
    {
        "IndexName": "queue-index",
        "KeySchema": [
            {"AttributeName": "inbox_tenant", "KeyType": "HASH"},
            {"AttributeName": "visible_key", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    },
]


@dataclass(frozen=True)
class Target:
    """A server under load: the service or the reference."""

    name: str
    url: str
    process: Service | None  # None when it is not ours to measure (a remote environment)
    log_path: Path | None = None


@dataclass(frozen=True)
class LoadStack:
    service: Target
    reference: Target | None
    api_key: str  # a deployed environment's one key (its scripts clean up after them)
    dynamodb_pid: int | None  # for CPU sampling in the stress test
    keep_alive: bool = False  # the environment's clients keep connections alive
    clean_up: bool = False  # scripts delete what they seeded (a deployed environment)
    # Locally, a key of a tenant of its own for each scenario: a scenario's inbox and
    # leases then read only what it wrote, not every earlier scenario's events
    new_tenant_key: Callable[[str], str] | None = None

    def api_key_for(self, scenario: str) -> str:
        """The key a scenario runs with, the same for each of its rounds and sides (the
        reference takes the key as its tenant)."""
        return self.api_key if self.new_tenant_key is None else self.new_tenant_key(scenario)


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2)  # noqa: S310 - a loopback URL of ours
    except urllib.error.HTTPError:
        return True  # it answered, with an error: it is up
    except (urllib.error.URLError, OSError):
        return False
    return True


def _reused_stores() -> dict[str, str] | None:
    """DynamoDB and moto endpoints of a running `make run`, if there is one."""
    env_file = DATA_DIR / "local.env"
    if not env_file.exists():
        return None
    env = read_env_file(env_file)
    urls = [env.get("AWS_ENDPOINT_URL_DYNAMODB", ""), env.get("AWS_ENDPOINT_URL_CLOUDWATCH", "")]
    return env if all(url and _answers(url) for url in urls) else None


def _create_reference_table(dynamodb_url: str) -> None:
    """The reference's table with the service's indexes (one left by an older runner with
    other indexes is replaced)."""
    client = local_dynamodb(dynamodb_url)
    if REFERENCE_TABLE in client.list_tables()["TableNames"]:
        table = client.describe_table(TableName=REFERENCE_TABLE)["Table"]
        indexes = {
            index["IndexName"]: index["Projection"]["ProjectionType"]
            for index in table.get("GlobalSecondaryIndexes", [])
        }
        wanted = {index["IndexName"]: index["Projection"]["ProjectionType"]
                  for index in _REFERENCE_INDEXES}  # fmt: skip
        if indexes == wanted:
            return
        client.delete_table(TableName=REFERENCE_TABLE)
        client.get_waiter("table_not_exists").wait(TableName=REFERENCE_TABLE)
    client.create_table(
        TableName=REFERENCE_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"}
            for name in ("tenant_id", "created_key", "event_id", "inbox_tenant", "visible_key")
        ],
        KeySchema=[
            {"AttributeName": "tenant_id", "KeyType": "HASH"},
            {"AttributeName": "created_key", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=_REFERENCE_INDEXES,
    )
    client.get_waiter("table_exists").wait(TableName=REFERENCE_TABLE)


def _start_reference(env: dict[str, str], work_dir: Path, stack: LocalStack) -> Target:
    from triggers import gunicorn_conf  # noqa: PLC0415 - its settings, read from this env

    port = free_port()
    log_path = work_dir / "reference.log"
    log = stack.open_log(log_path)
    argv = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--worker-class", "gthread",
        "--workers", str(gunicorn_conf.workers),
        "--threads", str(gunicorn_conf.threads),
        "--keep-alive", str(gunicorn_conf.keepalive),
        "--bind", f"127.0.0.1:{port}",
        "--no-control-socket",  # several servers may run at once, as with the service
        "perf.reference.wsgi:application",
    ]  # fmt: skip
    server = start_server(
        "reference", argv, f"http://127.0.0.1:{port}", log, path="/ref/inbox", env=env, cwd=ROOT
    )
    stack.stop_on_exit(server)
    return Target("reference", server.url, server, log_path)


@contextmanager
def load_stack(
    work_dir: Path,
    *,
    service_env: dict[str, str] | None = None,
    reuse: bool = True,
    stores: dict[str, str] | None = None,
    service_root: Path = ROOT,
) -> Iterator[LoadStack]:
    """The stack (devstack.stack, or the stores of a running `make run`), then the
    service and the reference on it.

    `stores` (aws_env's variables) names running DynamoDB and moto servers to use, as the
    runner's tests do; otherwise a running `make run`'s are reused, or new ones started.
    `service_root` is the checkout the service runs from (another revision's worktree,
    for a before/after).
    """
    if stores is None and reuse:
        stores = _reused_stores()
    reused = None if stores is None else {k: v for k, v in stores.items() if k.startswith("AWS_")}
    settings = {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        # as `make run` runs it: JSON logs at INFO, CloudWatch metrics to moto
        "DJANGO_SECRET_KEY": "loadtest-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "TABLE_PREFIX": TABLE_PREFIX,
        "STAGE": "LoadTest",
        "METRICS_BACKEND": "cloudwatch",
        "METRICS_FLUSH_INTERVAL_SECONDS": "10",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "json",
        **NEVER_RATE_LIMITED,
        **(service_env or {}),
    }
    if any(name.startswith("DEVSTACK_") for name in service_env or {}):
        settings["DJANGO_SETTINGS_MODULE"] = "devstack.settings"  # the injected slowdown's
    with local_stack(work_dir, settings=settings, reuse=reused) as stack:
        run = f"loadtest-{os.getpid()}"
        key = stack.api_key(run, name="loadtest")
        _create_reference_table(stack.dynamodb_url)
        service_log = work_dir / "service.log"
        service = stack.serve(log=service_log, root=service_root)
        reference = _start_reference(
            {
                **stack.env,
                "DJANGO_SETTINGS_MODULE": "perf.reference.settings",
                "REFERENCE_TABLE": REFERENCE_TABLE,
            },
            work_dir,
            stack,
        )
        yield LoadStack(
            service=Target("service", service.url, service, service_log),
            reference=reference,
            api_key=key,
            dynamodb_pid=None if stack.dynamodb is None else stack.dynamodb.process.pid,
            new_tenant_key=functools.cache(
                lambda scenario: stack.api_key(f"{run}-{scenario}", name="loadtest")
            ),
        )
