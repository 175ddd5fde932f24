"""The deployment's nginx files (.platform/nginx) in a real nginx, laid out as Elastic
Beanstalk lays them out (its http block includes conf.d/*.conf, its server block
conf.d/elasticbeanstalk/*.conf), in front of the real service."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from devstack.localstack import ROOT, free_port, start_server
from devstack.testing import Server, assert_error

pytestmark = pytest.mark.integration

NGINX = Path(sys.prefix) / "nginx" / "usr" / "sbin" / "nginx"  # make install puts it there
CONF_D = ROOT / ".platform" / "nginx" / "conf.d"
LIMIT = 1024 * 1024  # client_max_body_size


def _server_block(port: int, upstream: int) -> str:
    # The proxy settings are Elastic Beanstalk's own (Amazon Linux 2023 nginx.conf).
    return f"""
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{upstream};
            proxy_http_version 1.1;
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
        include {CONF_D}/elasticbeanstalk/*.conf;
    }}"""


@pytest.fixture(scope="module")
def nginx(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """nginx with the deployment's files: one server in front of the service, one in
    front of a port nobody listens on."""
    if not NGINX.exists():
        pytest.fail(f"nginx is not at {NGINX}: run `make install` (apt-get download nginx).")
    work = tmp_path_factory.mktemp("nginx")
    to_service, to_nothing = free_port(), free_port()
    temp = " ".join(
        f"{name}_temp_path {work / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (work / "nginx.conf").write_text(
        f"""
{"user root;" if os.geteuid() == 0 else ""}  # workers that may write their temp files
worker_processes 1;
error_log {work / "error.log"};
pid {work / "nginx.pid"};
events {{ worker_connections 64; }}
http {{
    access_log off;
    {temp}
    include {CONF_D}/*.conf;
    {_server_block(to_service, int(server.url.rsplit(":", 1)[1]))}
    {_server_block(to_nothing, free_port())}
}}
"""
    )
    argv = [str(NGINX), "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;"]
    with (work / "stderr.log").open("ab") as log:
        proxied = start_server(
            "nginx", argv, f"http://127.0.0.1:{to_service}", log, path="/v1/health/live"
        )
        try:
            yield {"service": proxied.url, "nothing": f"http://127.0.0.1:{to_nothing}"}
        finally:
            proxied.stop()


def _raw(url: str, request: bytes) -> requests.Response:
    """Send bytes no HTTP client would, and read the answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status_line, *header_lines = head.decode().split("\r\n")
    response = requests.Response()
    response.status_code = int(status_line.split()[1])
    response.headers.update(dict(line.split(": ", 1) for line in header_lines))
    response._content = body
    return response


def test_the_service_answers_pass_through_untouched(nginx: dict[str, str], server: Server) -> None:
    assert (
        requests.get(nginx["service"] + "/v1/health/live", timeout=10).json()["status"] == "alive"
    )
    missing = requests.get(nginx["service"] + "/v1/no-such-route", timeout=10)
    error = assert_error(missing, 404, "NOT_FOUND")
    assert len(error["request_id"]) == 36  # the service's own (a UUID), not nginx's


def test_a_body_over_a_full_batch_is_refused_by_nginx_in_the_envelope(
    nginx: dict[str, str],
) -> None:
    response = requests.post(
        nginx["service"] + "/v1/events/batch", data=b"x" * (LIMIT + 1),
        headers={"Content-Type": "application/json"}, timeout=30,
    )  # fmt: skip
    error = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert error["details"] == {"max_bytes": LIMIT}


def test_a_body_under_the_limit_reaches_the_service(nginx: dict[str, str]) -> None:
    too_big_for_one_event = (
        b'{"source": "s", "event_type": "t", "payload": "' + b"x" * 300_000 + b'"}'
    )
    response = requests.post(
        nginx["service"] + "/v1/events", data=too_big_for_one_event,
        headers={"Content-Type": "application/json", "X-API-Key": "trg_nobody"}, timeout=30,
    )  # fmt: skip
    # the service's answer, in its envelope: refused before the body was read, and the
    # body drained first, so nginx gets the answer (not a reset, which it reports as 502)
    assert response.status_code in (401, 413), response.text
    assert len(response.json()["error"]["request_id"]) == 36


def test_requests_nginx_cannot_read_get_the_envelope(nginx: dict[str, str]) -> None:
    long_line = _raw(nginx["service"], b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_error(long_line, 414, "VALIDATION_ERROR")
    malformed = _raw(nginx["service"], b"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n")
    assert_error(malformed, 400, "VALIDATION_ERROR")
    huge_header = _raw(
        nginx["service"], b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"
    )
    assert_error(huge_header, 400, "VALIDATION_ERROR")


def test_a_service_that_does_not_answer_is_a_503_to_retry(nginx: dict[str, str]) -> None:
    response = requests.get(nginx["nothing"] + "/v1/events", timeout=10)
    assert_error(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["Retry-After"] == "1"


def test_the_error_pages_themselves_are_not_reachable(nginx: dict[str, str]) -> None:
    response = requests.get(nginx["service"] + "/__triggers_errors/413", timeout=10)
    assert_error(response, 404, "NOT_FOUND")
