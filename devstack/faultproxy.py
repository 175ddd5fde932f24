"""A loopback TCP proxy that injects network and DynamoDB faults, for reliability tests.

    proxy = FaultProxy(upstream_port=8000)   # listens on 127.0.0.1:<proxy.port>
    proxy.mode = Mode.DELAY                  # then DROP, RESET, THROTTLE, ... PASS

Every new connection is handled in the mode current when its request arrives:

- PASS: bytes flow both ways unchanged;
- DELAY: each request is held for `delay_seconds` before it is forwarded;
- DELAY_UPDATES: each UpdateItem is held for `delay_seconds`, everything else passes;
- HOLD_UPDATES: each UpdateItem is held until `release()` (`held` counts them),
  everything else passes: a write that arrives after whatever the test does meanwhile,
  to lose a race on purpose, deterministically;
- DROP: the request is read and never answered (a hung or black-holed peer);
- RESET: the connection is reset (RST) as soon as the request arrives;
- UNPROCESSED: a BatchWriteItem is forwarded with only the first half of its items,
  and answered with the other half as `UnprocessedItems`, as a throttling DynamoDB
  does (other operations pass);
- THROTTLE / SERVER_ERROR / CONFLICT: DynamoDB's own error responses
  (ProvisionedThroughputExceededException 400, InternalServerError 500,
  TransactionCanceledException with a TransactionConflict reason for
  TransactWriteItems), so botocore parses, classifies and retries them as it would
  from AWS. CONFLICT passes every other operation through.

Connections are not kept alive by the proxy (it closes after one response), so a mode
change takes effect on the client's next request.
"""

from __future__ import annotations

import contextlib
import enum
import json
import socket
import struct
import threading
import time

__all__ = ["FaultProxy", "Mode"]


class Mode(enum.Enum):
    PASS = "pass"  # noqa: S105 - a proxy mode, not a password
    DELAY = "delay"
    DELAY_UPDATES = "delay_updates"
    HOLD_UPDATES = "hold_updates"
    DROP = "drop"
    RESET = "reset"
    THROTTLE = "throttle"
    SERVER_ERROR = "server_error"
    CONFLICT = "conflict"
    UNPROCESSED = "unprocessed"


_DYNAMODB_ERRORS = {
    Mode.THROTTLE: (
        400,
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
    ),
    Mode.SERVER_ERROR: (
        500,
        "com.amazonaws.dynamodb.v20120810#InternalServerError",
        "Internal server error",
    ),
    Mode.CONFLICT: (
        400,
        "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        "Transaction cancelled, please refer cancellation reasons for specific reasons "
        "[TransactionConflict, None]",
    ),
}
_READ_CHUNK = 65536


class FaultProxy:
    def __init__(self, *, upstream_port: int, delay_seconds: float = 10.0):
        self.upstream_port = upstream_port
        self.delay_seconds = delay_seconds
        self.mode = Mode.PASS
        self.requests_seen = 0  # requests read so far, whatever was done with them
        self.holding = threading.Event()  # set once a request is being held (DELAY*, HOLD*)
        self.held = 0  # UpdateItems held so far (HOLD_UPDATES)
        self._released = threading.Event()
        self._count_lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="fault-proxy", daemon=True).start()

    def release(self) -> None:
        """Forward every request HOLD_UPDATES holds, and hold none from now on."""
        self._released.set()

    def close(self) -> None:
        self._closed.set()
        self._released.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client, contextlib.suppress(OSError):
            # OSError: the upstream is down or the client gave up; the client sees a close.
            self._answer(client)

    def _answer(self, client: socket.socket) -> None:
        request = _read_http_message(client)
        if request is None:
            return
        with self._count_lock:
            self.requests_seen += 1
        mode = self.mode
        if mode is Mode.RESET:
            # SO_LINGER with a zero timeout turns close() into a TCP RST.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        if mode is Mode.DROP:
            self._closed.wait()  # hold the connection open, answer nothing
            return
        if mode is Mode.HOLD_UPDATES and _operation(request) == "UpdateItem":
            with self._count_lock:
                self.held += 1
            self.holding.set()
            self._released.wait()
        if mode is Mode.DELAY or (
            mode is Mode.DELAY_UPDATES and _operation(request) == "UpdateItem"
        ):
            self.holding.set()
            time.sleep(self.delay_seconds)
        if mode in _DYNAMODB_ERRORS and _wants_error(mode, request):
            client.sendall(_error_response(*_DYNAMODB_ERRORS[mode], conflict=mode))
            return
        if mode is Mode.UNPROCESSED and _operation(request) == "BatchWriteItem":
            client.sendall(self._forward_half(request))
            return
        client.sendall(self._forward(request))

    def _forward_half(self, request: bytes) -> bytes:
        head, _, body = request.partition(b"\r\n\r\n")
        batch = json.loads(body)
        withheld: dict[str, list[object]] = {}
        for table, writes in batch["RequestItems"].items():
            keep = (len(writes) + 1) // 2
            batch["RequestItems"][table], withheld[table] = writes[:keep], writes[keep:]
        response = self._forward(_with_body(head, json.dumps(batch).encode()))
        head, _, body = response.partition(b"\r\n\r\n")
        answer = json.loads(body)
        for table, writes in withheld.items():
            if writes:
                answer.setdefault("UnprocessedItems", {}).setdefault(table, []).extend(writes)
        # The body changed, so DynamoDB's checksum of it no longer applies.
        head = b"\r\n".join(
            line for line in head.split(b"\r\n") if not line.lower().startswith(b"x-amz-crc32")
        )
        return _with_body(head, json.dumps(answer).encode())

    def _forward(self, request: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30) as upstream:
            upstream.sendall(request)
            response = _read_http_message(upstream) or b""
        head, _, body = response.partition(b"\r\n\r\n")
        lines = [
            line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")
        ]
        return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body


def _operation(request: bytes) -> str:
    """The DynamoDB operation a request calls (its X-Amz-Target header)."""
    for line in request.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"x-amz-target":
            return value.strip().decode().rpartition(".")[2]
    return ""


def _with_body(head: bytes, body: bytes) -> bytes:
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"content-length")]
    return b"\r\n".join([*lines, f"Content-Length: {len(body)}".encode()]) + b"\r\n\r\n" + body


def _wants_error(mode: Mode, request: bytes) -> bool:
    return mode is not Mode.CONFLICT or _operation(request) == "TransactWriteItems"


def _error_response(status: int, error_type: str, message: str, *, conflict: Mode) -> bytes:
    body_fields: dict[str, object] = {"__type": error_type, "message": message}
    if conflict is Mode.CONFLICT:
        body_fields["CancellationReasons"] = [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"},
            {"Code": "None"},
        ]
    body = json.dumps(body_fields).encode()
    reason = "Bad Request" if status == 400 else "Internal Server Error"
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: application/x-amz-json-1.0\r\n"
        f"Content-Length: {len(body)}\r\n"
        "x-amzn-RequestId: fault-proxy\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body


def _read_http_message(sock: socket.socket) -> bytes | None:
    """One HTTP/1.1 message with a Content-Length body (what botocore and DynamoDB send)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(_READ_CHUNK)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(_READ_CHUNK)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body
