"""The deployment's logrotate file (.ebextensions/03-logs.config), run by a real logrotate
while a real gunicorn serves requests and writes LOG_FILE: no line is lost or written
twice, and the service writes to the new file after each rotation."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from devstack.localstack import ROOT
from devstack.testing import Server, running_server, server_env, wait_for

pytestmark = pytest.mark.integration

LOGROTATE = Path(sys.prefix) / "logrotate" / "usr" / "sbin" / "logrotate"  # make install
ROTATIONS = 3
DEPLOYED_LOG = "/var/log/triggers/app.log"


def logrotate_conf(log_file: Path) -> str:
    """The deployment's logrotate file for `log_file`. Its `su webapp webapp` (the
    service's user on Elastic Beanstalk, which owns the log directory) is left out:
    there is no such user here."""
    files = yaml.safe_load((ROOT / ".ebextensions" / "03-logs.config").read_text())["files"]
    content: str = files["/etc/logrotate.d/triggers"]["content"]
    assert DEPLOYED_LOG in content
    lines = [line for line in content.splitlines() if line.strip() != "su webapp webapp"]
    return "\n".join(lines).replace(DEPLOYED_LOG, str(log_file)) + "\n"


def rotate(work: Path) -> None:
    libraries = [str(p.parent) for p in (LOGROTATE.parents[2] / "usr" / "lib").glob("*/libpopt*")]
    subprocess.run(
        [str(LOGROTATE), "--force", "--state", str(work / "state"), str(work / "logrotate.conf")],
        env={**os.environ, "LD_LIBRARY_PATH": ":".join(libraries)},
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip


def has_lines(path: Path) -> bool:
    """Written to (logrotate's `notifempty` leaves an empty file where it is)."""
    try:
        return path.stat().st_size > 0
    except FileNotFoundError:
        return False


def logged_request_ids(directory: Path) -> Counter[str]:
    """How often each request's `request_finished` line is in the log and its rotations."""
    counts: Counter[str] = Counter()
    for path in directory.iterdir():
        if not path.name.startswith("app.log"):
            continue
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        for line in data.decode().splitlines():
            record = json.loads(line)  # a line cut in two would fail here
            if record.get("event") == "request_finished":
                counts[record["request_id"]] += 1
    return counts


@pytest.fixture
def logging_server(tables: str, tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    if not LOGROTATE.exists():
        pytest.fail(f"logrotate is not at {LOGROTATE}: run `make install` (apt-get download).")
    logs = tmp_path / "logs"
    logs.mkdir(mode=0o755)
    (tmp_path / "logrotate.conf").write_text(logrotate_conf(logs / "app.log"))
    env = server_env(tables, LOG_FILE=str(logs / "app.log"), WEB_CONCURRENCY="2")
    with running_server(tmp_path, env) as server:
        yield server, logs


def test_rotating_under_traffic_loses_no_line_and_the_new_file_is_written(
    logging_server: tuple[Server, Path], tmp_path: Path
) -> None:
    server, logs = logging_server
    answered: list[str] = []
    stop = threading.Event()

    def traffic() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                response = session.get(server.url + "/v1/health/live", timeout=30)
                answered.append(response.headers["X-Request-ID"])

    clients = [threading.Thread(target=traffic) for _ in range(4)]
    for client in clients:
        client.start()
    current = logs / "app.log"
    try:
        wait_for(lambda: has_lines(current), what="the service to write its log")
        for _ in range(ROTATIONS):
            # WHEN the log is rotated while requests are being logged
            rotate(tmp_path)
            # THEN the service writes a new file at the path (it saw the rename)
            wait_for(lambda: has_lines(current), what="the service to write a new log")
            target = len(answered) + 50
            wait_for(lambda target=target: len(answered) > target, what="more requests")
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=60)
    server.service.stop()  # and the workers' last lines with it

    # THEN every answered request's line is in the log or a rotation of it, exactly once
    counts = logged_request_ids(logs)
    assert sorted(set(answered) - set(counts)) == []
    assert [rid for rid, n in counts.items() if n > 1] == []
    # the rotations happened: the current file, one uncompressed, the older compressed
    names = sorted(path.name for path in logs.iterdir())
    assert names == ["app.log", "app.log.1", *(f"app.log.{n}.gz" for n in range(2, ROTATIONS + 1))]
