"""The short fuzz of `make test`: schemathesis's CLI, every phase and every check but
the Makefile's exclusions, against the session's own server (so it runs beside the
other tests rather than after them, on a stack already up). `make fuzz` is the long
run, on a stack of its own."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from devstack.fuzz import fuzz_command, fuzz_env
from devstack.localstack import ROOT
from devstack.testing import Server, make_client

pytestmark = pytest.mark.integration

EXAMPLES = 10  # per operation: about 390 cases


def excluded_checks() -> str:
    """FUZZ_EXCLUDED_CHECKS, as the Makefile names them (with why, beside it)."""
    found = re.search(r"^FUZZ_EXCLUDED_CHECKS := (\S+)$", (ROOT / "Makefile").read_text(), re.M)
    assert found is not None, "the Makefile names no FUZZ_EXCLUDED_CHECKS"
    return found.group(1)


def test_the_schema_fuzzer_finds_nothing(server: Server, tmp_path: Path) -> None:
    fuzzer = make_client(server, rate_limit_per_second=100_000, rate_limit_burst=1_000_000)
    assert fuzzer.api_key is not None
    command = fuzz_command(
        f"{server.url}/v1/schema",
        fuzzer.api_key,
        max_examples=EXAMPLES,
        excluded=excluded_checks(),
        report_dir=tmp_path,
    )
    run = subprocess.run(
        command, cwd=ROOT, env=fuzz_env(), capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert re.search(r"(\d+) generated, \1 passed", run.stdout), run.stdout[-2000:]
