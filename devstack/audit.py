"""`make check`'s supply-chain step: known vulnerabilities in what is installed.

    .venv/bin/python -m devstack.audit

Runs pip-audit over the virtualenv that `make install` built from the pinned
requirements files (runtime and development, transitive dependencies included),
against the PyPI advisory database. Exits non-zero when a vulnerability is known. When
the database cannot be reached (an offline machine), or cannot look the installed
versions up (a package mirror without PyPI's JSON API), says so plainly and exits 0: an
audit that could not run is reported, neither passed off as clean nor as a failure.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

_ADVISORY_HOST = ("pypi.org", 443)  # pip-audit's default vulnerability service


def _reachable(address: tuple[str, int], timeout: float = 5.0) -> bool:
    try:
        with socket.create_connection(address, timeout=timeout):
            return True
    except OSError:
        return False


def _report(dependencies: list[dict[str, Any]]) -> int:
    skipped = [d for d in dependencies if "skip_reason" in d]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    audited = len(dependencies) - len(skipped)
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            print(
                f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} ({fixed})"
            )
    if skipped and not audited:
        print(
            f"pip-audit: INCOMPLETE - none of the {len(skipped)} installed packages could be "
            "looked up in the advisory database (the package index this machine reaches does "
            "not serve PyPI's JSON API for them); nothing was audited. Run `make check` where "
            "https://pypi.org is reachable."
        )
        return 0
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped))
        print(f"pip-audit: {len(skipped)} package(s) could not be looked up: {names}")
    print(f"pip-audit: {audited} packages audited, {len(vulnerable)} with known vulnerabilities")
    return 1 if vulnerable else 0


def main() -> int:
    if not _reachable(_ADVISORY_HOST):
        print(
            "pip-audit: SKIPPED - the advisory database (https://pypi.org) is unreachable "
            "from this machine; run `make check` again when online."
        )
        return 0
    pip_audit = Path(sys.executable).with_name("pip-audit")
    command = [str(pip_audit), "--local", "--skip-editable", "--progress-spinner", "off"]
    result = subprocess.run(
        [*command, "--format", "json"], capture_output=True, text=True, check=False
    )
    try:
        dependencies = json.loads(result.stdout)["dependencies"]
    except (ValueError, KeyError):
        message = (result.stderr or result.stdout).strip()[-500:]
        if "ConnectionError" in message or "Max retries" in message:
            print(f"pip-audit: SKIPPED - the advisory database stopped answering:\n{message}")
            return 0
        print(f"pip-audit failed:\n{message}")
        return result.returncode or 1
    return _report(dependencies)


if __name__ == "__main__":
    raise SystemExit(main())
