"""`make check`'s supply-chain step: known vulnerabilities in what is installed.

    .venv/bin/python -m devstack.audit

Runs pip-audit over the virtualenv that `make install` built from the pinned
requirements files (runtime and development, transitive dependencies included),
against the PyPI advisory database. Exits non-zero when a vulnerability is known. When
the database cannot be reached (an offline machine), says so and exits 0: an audit that
could not run is reported, not mistaken for a failure of the code.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

_ADVISORY_HOST = ("pypi.org", 443)  # pip-audit's default vulnerability service


def _reachable(address: tuple[str, int], timeout: float = 5.0) -> bool:
    try:
        with socket.create_connection(address, timeout=timeout):
            return True
    except OSError:
        return False


def main() -> int:
    if not _reachable(_ADVISORY_HOST):
        print(
            "pip-audit: SKIPPED - the advisory database (https://pypi.org) is unreachable "
            "from this machine; run `make check` again when online."
        )
        return 0
    pip_audit = Path(sys.executable).with_name("pip-audit")
    command = [str(pip_audit), "--local", "--skip-editable", "--progress-spinner", "off"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    output = (result.stdout + result.stderr).strip()
    if result.returncode != 0 and "ConnectionError" in output:
        print(f"pip-audit: SKIPPED - the advisory database stopped answering:\n{output[-500:]}")
        return 0
    print(output or "pip-audit: no known vulnerabilities")
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
