"""The local stack, built one way for everyone: `make run`, the test plugin, the soak,
the benchmarks and the load runner.

    with local_stack(work_dir, settings={"TABLE_PREFIX": ..., ...}) as stack:
        key = stack.api_key("acme")                     # create_api_key, as an operator would
        service = stack.serve(log=work_dir / "web.log")  # gunicorn, as the Procfile runs it

DynamoDB Local (in memory, or kept in `dynamodb_data`; moto's DynamoDB where Java or
npm are missing and `moto_fallback` allows it), moto's server for CloudWatch, CloudWatch
Logs and SNS, and the tables (`manage.py create_tables`, as the operator step runs it).
Everything the stack started stops when the block ends, in reverse order, whatever
ended it; a second Ctrl-C while it stops is acknowledged, not obeyed.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

from devstack.localstack import (
    ROOT,
    Service,
    aws_env,
    dynamodb_local_jar,
    free_port,
    manage,
    start_dynamodb_local,
    start_gunicorn,
    start_moto,
)

__all__ = ["LocalStack", "StackError", "local_stack"]

_STOPPING = (signal.SIGINT, signal.SIGTERM)


class StackError(RuntimeError):
    """The stack cannot start here (DynamoDB Local missing, ...); the message says why."""


@dataclass
class LocalStack:
    """A running stack. `env` is what every process of it is started with: this
    process's environment, the AWS endpoints and the stack's settings; `own_env` is the
    part that is the stack's own (what `make run` writes to .data/local.env)."""

    own_env: dict[str, str]
    env: dict[str, str]
    dynamodb: Service | None  # None: moto's DynamoDB stands in
    moto: Service | None
    work_dir: Path
    _exits: ExitStack
    _dynamodb_start: Any = field(repr=False)  # () -> Service, on the same port and data

    @property
    def dynamodb_url(self) -> str:
        return self.own_env["AWS_ENDPOINT_URL_DYNAMODB"]

    @property
    def moto_url(self) -> str:
        url = self.own_env.get("AWS_ENDPOINT_URL_CLOUDWATCH")
        if url is None:
            raise StackError("This stack runs without moto's server (local_stack(moto=True)).")
        return url

    def manage(self, *argv: str, env: Mapping[str, str] | None = None) -> str:
        """`manage.py argv...` against the stack; returns what it printed."""
        return manage(list(argv), {**self.env, "LOG_LEVEL": "WARNING", **(env or {})}, capture=True)

    def api_key(
        self,
        tenant: str,
        *,
        name: str = "local",
        rate: float | None = None,
        burst: int | None = None,
        env: Mapping[str, str] | None = None,
    ) -> str:
        """A new API key for `tenant` (with its own rate limit if given)."""
        argv = ["create_api_key", "--tenant", tenant, "--name", name]
        argv += [
            *(["--rate", str(rate)] if rate else []),
            *(["--burst", str(burst)] if burst else []),
        ]
        return self.manage(*argv, env=env).strip().splitlines()[-1]

    def serve(
        self,
        *,
        port: int | None = None,
        log: Path | IO[bytes] | None = None,
        env: Mapping[str, str] | None = None,
        root: Path = ROOT,
        timeout: float = 60.0,
    ) -> Service:
        """The service under gunicorn (from the checkout at `root`) with the stack's
        environment plus `env`, logging to `log` (a path, a file, or None: this
        terminal); stopped with the stack, or earlier with `.stop()`."""
        if isinstance(log, Path):
            log = self.open_log(log)
        service = start_gunicorn(
            port=port or free_port(),
            env={**self.env, **(env or {})},
            log=log,
            timeout=timeout,
            root=root,
        )
        return self.stop_on_exit(service)

    def open_log(self, path: Path) -> IO[bytes]:
        """`path` opened for appending, closed with the stack."""
        return self._exits.enter_context(path.open("ab"))

    def stop_on_exit(self, service: Service) -> Service:
        """Stop `service` (started beside the stack) with the stack."""
        self._exits.callback(service.stop)
        return service

    @contextmanager
    def serving(self, **options: Any) -> Iterator[Service]:
        """`serve(**options)`, stopped when the block ends (benchmarks serve one variant
        after another on the same stack)."""
        service = self.serve(**options)
        try:
            yield service
        finally:
            service.stop()

    def restart_dynamodb(self) -> Service:
        """DynamoDB Local again, on the same port and data (after a kill)."""
        self.dynamodb = self._dynamodb_start()
        return self.dynamodb


@contextmanager
def _patient_while_stopping() -> Iterator[None]:
    """Ctrl-C or SIGTERM while the stack stops is acknowledged, not obeyed: no child is
    left behind. (Signal handlers belong to the main thread; elsewhere, nothing to do.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def patience(signum: int, frame: object) -> None:
        print("Still stopping the local stack...", file=sys.stderr, flush=True)

    previous = {signum: signal.signal(signum, patience) for signum in _STOPPING}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# DynamoDB Locals that live minutes (tests, the fuzzer): the JVM's quick compiler alone
# and its serial collector take half the CPU to start, and less to serve them.
QUICK_JVM: Final = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")


@contextmanager
def local_stack(
    work_dir: Path,
    *,
    settings: Mapping[str, str],
    dynamodb_data: Path | None = None,
    dynamodb_args: tuple[str, ...] = (),
    java_options: tuple[str, ...] = (),
    moto: bool = True,
    moto_fallback: bool = False,
    reuse: Mapping[str, str] | None = None,
    tables: bool = True,
    log: IO[bytes] | None = None,
) -> Iterator[LocalStack]:
    """Start the stack (or, with `reuse`, aws_env-style endpoints of stores already
    running) with `settings` for every process; stop it all on the way out.

    DynamoDB Local keeps its data in `dynamodb_data` (in memory without it), and runs
    with `dynamodb_args` and the JVM's `java_options`. Without Java or npm, moto's
    DynamoDB stands in if `moto_fallback` (StackError otherwise)."""
    work_dir.mkdir(parents=True, exist_ok=True)
    exits = ExitStack()
    try:
        if log is None:
            log = exits.enter_context((work_dir / "stack.log").open("ab"))
        moto_service = dynamodb_service = None
        dynamodb_start: Any = None
        if reuse is not None:
            stores = dict(reuse)
        else:
            if moto or moto_fallback:
                moto_service = start_moto(port=free_port(), log=log)
                exits.callback(moto_service.stop)
            jar = dynamodb_local_jar()
            if jar is not None:
                port = free_port()

                def dynamodb_start() -> Service:
                    return start_dynamodb_local(
                        jar,
                        port=port,
                        db_path=dynamodb_data,
                        extra_args=dynamodb_args,
                        java_options=java_options,
                        log=log,
                    )

                dynamodb_service = dynamodb_start()
                exits.callback(lambda: stack.dynamodb.stop() if stack.dynamodb else None)
                dynamodb_url = dynamodb_service.url
            elif moto_fallback and moto_service is not None:
                dynamodb_url = moto_service.url
            else:
                raise StackError("DynamoDB Local is needed (Java 17+ and `make install`).")
            moto_url = moto_service.url if moto and moto_service is not None else None
            stores = aws_env(dynamodb_url=dynamodb_url, moto_url=moto_url)
        own_env = {**stores, **settings}
        stack = LocalStack(
            own_env=own_env,
            env={**os.environ, **own_env},
            dynamodb=dynamodb_service,
            moto=moto_service,
            work_dir=work_dir,
            _exits=exits,
            _dynamodb_start=dynamodb_start,
        )
        if tables:
            stack.manage("create_tables", "--wait")
        yield stack
    finally:
        with _patient_while_stopping():
            exits.close()  # in reverse order: the service before the stores it uses
