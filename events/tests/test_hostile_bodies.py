"""The most memory-hungry body a client may send, eight at once, against one worker
process: every answer is a clear 4xx or 503, the worker survives, and its peak memory
grows by at most what docs/SECURITY.md ("Memory") promises.

Peak memory is the kernel's high-water mark of the worker's resident set (VmHWM), reset
before the bodies are sent (/proc/<pid>/clear_refs), so it counts whatever the parse
cost at its worst, not what is left after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.conf import settings

from devstack.testing import Server, assert_error, make_client, running_server, server_env

pytestmark = pytest.mark.integration

PEAK_GROWTH_BOUND_MB = 64  # docs/SECURITY.md "Memory"
AT_ONCE = 8


@pytest.fixture(scope="module")
def one_process(tables: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = server_env(
        tables, WEB_CONCURRENCY="1", GUNICORN_THREADS=str(AT_ONCE), RATE_LIMIT_ENABLED="false"
    )
    with running_server(tmp_path_factory.mktemp("hostile"), env) as server:
        yield server


def worker_pid(server: Server) -> int:
    master = server.service.process.pid
    (child,) = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(child)


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def hostile_body() -> bytes:
    """The costliest JSON per byte to parse (an empty object is ~25x its 3 bytes), as
    large as a batch may be."""
    head, tail = b'{"events":[', b"]}"
    count = (settings.MAX_BATCH_BYTES - len(head) - len(tail) + 1) // 3
    body = head + b",".join([b"{}"] * count) + tail
    assert len(body) <= settings.MAX_BATCH_BYTES
    return body


def test_eight_maximal_hostile_bodies_at_once(one_process: Server) -> None:
    client = make_client(one_process)
    pid = worker_pid(one_process)
    assert client.get("/v1/inbox").status_code == 200  # warm: imports, connections, caches
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the high-water mark
    before_kb = memory_kb(pid, "VmRSS")
    body = hostile_body()
    headers = {"X-API-Key": client.api_key or "", "Content-Type": "application/json"}

    def send(_: int) -> requests.Response:
        return requests.post(
            one_process.url + "/v1/events/batch", data=body, headers=headers, timeout=120
        )

    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        answers = list(pool.map(send, range(AT_ONCE)))

    statuses = sorted(answer.status_code for answer in answers)
    assert all(status in (400, 429, 503) for status in statuses), statuses
    assert 400 in statuses  # at least one was parsed, and refused for what it holds
    for answer in answers:
        if answer.status_code == 503:
            assert answer.headers["Retry-After"] == "1"
    growth_mb = (memory_kb(pid, "VmHWM") - before_kb) / 1024
    print(f"peak growth: {growth_mb:.1f} MB for {AT_ONCE} x {len(body)} bytes; {statuses}")
    assert growth_mb <= PEAK_GROWTH_BOUND_MB
    # AND the same worker still serves
    assert worker_pid(one_process) == pid
    assert client.get("/v1/inbox").status_code == 200


def test_a_batch_over_its_limit_is_a_413_unread(one_process: Server) -> None:
    client = make_client(one_process)
    body = b'{"events":[' + b" " * settings.MAX_BATCH_BYTES + b"]}"
    response = client.post(
        "/v1/events/batch", data=body, headers={"Content-Type": "application/json"}
    )
    error = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert error["details"] == {"max_bytes": settings.MAX_BATCH_BYTES}
