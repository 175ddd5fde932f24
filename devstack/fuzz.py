"""`make fuzz`: schemathesis (the pinned CLI) against the service's own served schema,
over real HTTP, on a local stack of its own: every phase, every check (schemathesis's
and the project's own, devstack/fuzz_checks.py), 0 failures.

    .venv/bin/python -m devstack.fuzz [--max-examples N] [--report-dir DIR]

The service runs as `make run` runs it, with a key of its own whose rate limit is far
above what the fuzzer sends. Every check schemathesis knows is run except those the
Makefile names (`FUZZ_EXCLUDED_CHECKS`, each with why), passed as --exclude-checks.
Exit status: schemathesis's own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final

from devstack.localstack import ROOT
from devstack.stack import QUICK_JVM, local_stack

__all__ = ["fuzz_command", "fuzz_env", "main"]

_SETTINGS: Final = {
    "DJANGO_SECRET_KEY": "fuzz-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "TABLE_PREFIX": "triggers-fuzz",
    "STAGE": "Fuzz",
    "METRICS_BACKEND": "none",
    "LOG_LEVEL": "WARNING",
}


def fuzz_command(
    schema_url: str, api_key: str, *, max_examples: int, excluded: str, report_dir: Path
) -> list[str]:
    """The schemathesis command line: all phases, all checks but the `excluded` ones."""
    return [
        str(Path(sys.executable).parent / "st"),
        "run",
        schema_url,
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--checks",
        "all",
        *(["--exclude-checks", excluded] if excluded else []),
        "--header",
        f"X-API-Key: {api_key}",
        "--max-examples",
        str(max_examples),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--suppress-health-check",
        "all",
        "--report",
        "junit",
        "--report-dir",
        str(report_dir),
        "--output-sanitize",
        "true",
    ]


def fuzz_env() -> dict[str, str]:
    """The environment schemathesis runs in: this one, plus the project's own checks."""
    return {**os.environ, "SCHEMATHESIS_HOOKS": "devstack.fuzz_checks"}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--exclude-checks", default="", help="comma-separated check names")
    parser.add_argument("--report-dir", type=Path, default=ROOT / ".data" / "fuzz")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="triggers-fuzz-") as tmp:
        work = Path(tmp)
        with (work / "stack.log").open("ab") as log, local_stack(
            work, settings=_SETTINGS, java_options=QUICK_JVM, moto=False, log=log
        ) as stack:  # fmt: skip
            key = stack.api_key("fuzz", name="fuzz", rate=100_000, burst=1_000_000)
            service = stack.serve(log=work / "service.log")
            command = fuzz_command(
                f"{service.url}/v1/schema",
                key,
                max_examples=options.max_examples,
                excluded=options.exclude_checks,
                report_dir=options.report_dir,
            )
            return subprocess.run(command, check=False, cwd=ROOT, env=fuzz_env()).returncode


if __name__ == "__main__":
    sys.exit(main())
