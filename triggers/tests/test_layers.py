"""The layers are enforced (pyproject.toml [tool.importlinter]), and docs/ARCHITECTURE.md
names every module of the packages it draws."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from devstack.localstack import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("triggers", "events", "inbox", "observability", "devstack")
ALLOWED_CROSSING = '    "inbox.views -> events.rendering",\n'


def lint_imports(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_the_contracts_hold() -> None:
    result = lint_imports(ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout


def test_removing_an_allowed_crossing_breaks_the_contract(tmp_path: Path) -> None:
    # GIVEN the contracts without one of the imports the apps' contract allows
    text = (ROOT / "pyproject.toml").read_text()
    assert ALLOWED_CROSSING in text
    config = tmp_path / "pyproject.toml"
    config.write_text(text.replace(ALLOWED_CROSSING, ""))

    # WHEN the imports are checked THEN that very import is what breaks it
    result = lint_imports(config)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "inbox.views -> events.rendering" in result.stdout


def test_the_architecture_doc_names_every_module() -> None:
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    modules = [
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "tests" not in path.parts and path.name != "__init__.py"
    ]
    assert modules
    assert [module for module in modules if f"`{module}`" not in doc] == []
