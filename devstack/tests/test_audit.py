"""How `make check` words pip-audit's findings (its JSON report, as pip-audit writes it)."""

from __future__ import annotations

import pytest

from devstack.audit import _report

CLEAN = {"name": "django", "version": "5.2.19", "vulns": []}
SKIPPED = {"name": "boto3", "skip_reason": "Dependency not found on PyPI and could not be audited"}
VULNERABLE = {
    "name": "requests",
    "version": "2.0.0",
    "vulns": [{"id": "PYSEC-0000-1", "fix_versions": ["2.32.0"], "aliases": []}],
}


def test_a_known_vulnerability_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert _report([CLEAN, VULNERABLE]) == 1
    assert "VULNERABLE requests 2.0.0: PYSEC-0000-1 (2.32.0)" in capsys.readouterr().out


def test_nothing_audited_is_said_plainly_and_does_not_fail(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _report([SKIPPED, SKIPPED]) == 0
    assert "INCOMPLETE" in capsys.readouterr().out


def test_a_partial_audit_names_what_it_could_not_look_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _report([CLEAN, SKIPPED]) == 0
    out = capsys.readouterr().out
    assert "could not be looked up: boto3" in out
    assert "1 packages audited, 0 with known vulnerabilities" in out
