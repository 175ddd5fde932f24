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
- LOSE_WRITE_ANSWER: the first PutItem or TransactWriteItems is forwarded (it lands)
  and its answer is never sent, so the client times out and its SDK retries; each
  such write after it is held until `release()` (`held` counts them): a retry that
  arrives after whatever the test does meanwhile (an ack, a delete);
- ITEM_TOO_LARGE: DynamoDB's permanent refusal of an item over its size limit: a
  PutItem is answered ValidationException, a TransactWriteItems is cancelled with a
  ValidationError reason for its first item (None for the others); the rest passes;
- LAGGING_INDEX: a Query of a secondary index is answered with no items, as an index
  that has not caught up with a fresh write would answer (everything else passes);
- DROP: the request is read and never answered (a hung or black-holed peer);
- RESET: the connection is reset (RST) as soon as the request arrives;
- THROTTLE / SERVER_ERROR / CONFLICT: DynamoDB's own error responses
  (ProvisionedThroughputExceededException 400, InternalServerError 500,
  TransactionCanceledException with a TransactionConflict reason for
  TransactWriteItems, one reason per item), so botocore parses, classifies and
  retries them as it would from AWS. CONFLICT passes every other operation through.
  With `failures_left = n`, only the next n requests get the error.

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
    LOSE_WRITE_ANSWER = "lose_write_answer"
    LAGGING_INDEX = "lagging_index"
    ITEM_TOO_LARGE = "item_too_large"
    DROP = "drop"
    RESET = "reset"
    THROTTLE = "throttle"
    SERVER_ERROR = "server_error"
    CONFLICT = "conflict"


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
        self.held = 0  # requests held so far (HOLD_UPDATES, LOSE_WRITE_ANSWER)
        self.answers_lost = 0  # LOSE_WRITE_ANSWER
        self.failures_left: int | None = None  # THROTTLE...CONFLICT: fail only this many
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
        operation = _operation(request)
        if mode is Mode.LOSE_WRITE_ANSWER and operation in _NEW_ITEM_WRITES:
            with self._count_lock:
                first = self.answers_lost == 0
                self.answers_lost += 1
            if first:
                self._forward(request)
                self._closed.wait()  # the client gives up on this connection
                return
            self._hold()
        if mode is Mode.HOLD_UPDATES and operation == "UpdateItem":
            self._hold()
        if mode is Mode.DELAY or (mode is Mode.DELAY_UPDATES and operation == "UpdateItem"):
            self.holding.set()
            time.sleep(self.delay_seconds)
        client.sendall(self._response(mode, request, operation))

    def _response(self, mode: Mode, request: bytes, operation: str) -> bytes:
        if (
            mode is Mode.ITEM_TOO_LARGE
            and operation in _NEW_ITEM_WRITES
            and self._fails(mode, operation)
        ):
            return _item_too_large(request, operation)
        if mode in _DYNAMODB_ERRORS and self._fails(mode, operation):
            return _error_response(*_DYNAMODB_ERRORS[mode], request=request, mode=mode)
        if mode is Mode.LAGGING_INDEX and _is_index_query(request):
            return _without_items(self._forward(request))
        return self._forward(request)

    def _fails(self, mode: Mode, operation: str) -> bool:
        """Whether this request gets the mode's error: CONFLICT is for transactions only,
        and with `failures_left` set, only that many requests fail."""
        if mode is Mode.CONFLICT and operation != "TransactWriteItems":
            return False
        with self._count_lock:
            if self.failures_left is None:
                return True
            if self.failures_left <= 0:
                return False
            self.failures_left -= 1
            return True

    def _hold(self) -> None:
        with self._count_lock:
            self.held += 1
        self.holding.set()
        self._released.wait()

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


_NEW_ITEM_WRITES = frozenset({"PutItem", "TransactWriteItems"})


def _is_index_query(request: bytes) -> bool:
    if _operation(request) != "Query":
        return False
    body = request.partition(b"\r\n\r\n")[2]
    return "IndexName" in json.loads(body)


def _without_items(response: bytes) -> bytes:
    head, _, body = response.partition(b"\r\n\r\n")
    answer = json.loads(body)
    if "Items" in answer:
        answer["Items"], answer["Count"] = [], 0
    return _with_body(_without_checksum(head), json.dumps(answer).encode())


def _without_checksum(head: bytes) -> bytes:
    """A response head without DynamoDB's checksum (its body was changed)."""
    return b"\r\n".join(
        line for line in head.split(b"\r\n") if not line.lower().startswith(b"x-amz-crc32")
    )


def _with_body(head: bytes, body: bytes) -> bytes:
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"content-length")]
    return b"\r\n".join([*lines, f"Content-Length: {len(body)}".encode()]) + b"\r\n\r\n" + body


def _error_response(
    status: int, error_type: str, message: str, *, request: bytes, mode: Mode
) -> bytes:
    body_fields: dict[str, object] = {"__type": error_type, "message": message}
    if mode is Mode.CONFLICT:
        items = json.loads(request.partition(b"\r\n\r\n")[2]).get("TransactItems", [])
        body_fields["CancellationReasons"] = [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"},
            *({"Code": "None"} for _ in items[1:]),
        ]
    return _error_body(status, body_fields)


_TOO_LARGE = "Item size has exceeded the maximum allowed size"
_VALIDATION = "com.amazon.coral.validate#ValidationException"
_CANCELLED = "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"


def _item_too_large(request: bytes, operation: str) -> bytes:
    if operation == "PutItem":
        return _error_body(400, {"__type": _VALIDATION, "message": _TOO_LARGE})
    items = json.loads(request.partition(b"\r\n\r\n")[2]).get("TransactItems", [])
    reasons = [{"Code": "ValidationError", "Message": _TOO_LARGE}]
    reasons += [{"Code": "None"} for _ in items[1:]]
    message = "Transaction cancelled, please refer cancellation reasons for specific reasons"
    return _error_body(
        400, {"__type": _CANCELLED, "message": message, "CancellationReasons": reasons}
    )


def _error_body(status: int, fields: dict[str, object]) -> bytes:
    body = json.dumps(fields).encode()
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
