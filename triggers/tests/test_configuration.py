"""Configuration fails loudly everywhere, and the README documents exactly what is read."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys

import pytest

from devstack.localstack import ROOT

README = ROOT / "README.md"
# Code that reads environment variables: the service and its local stack (perf/ documents
# its own options in docs/PERFORMANCE.md).
PACKAGES = ("triggers", "events", "inbox", "observability", "devstack")
_READERS = {"env_str", "env_int", "env_float", "env_bool", "env_choice", "env_list"}
_NO_LITERAL = object()


def _literal(node: ast.expr | None) -> object:
    """The value of a constant expression (`256 * 1024` too); _NO_LITERAL otherwise."""
    if node is None:
        return _NO_LITERAL
    if not all(isinstance(n, ast.Constant | ast.BinOp | ast.operator) for n in ast.walk(node)):
        return _NO_LITERAL
    value: object = eval(compile(ast.Expression(node), "<default>", "eval"), {"__builtins__": {}})  # noqa: S307 - constants and arithmetic only, checked above
    return value


def variables_read() -> dict[str, object]:
    """Every environment variable the code reads, with its default when it is a literal."""
    found: dict[str, object] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "tests" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = _literal(node.args[0])
                function = node.func
                called = (
                    function.attr
                    if isinstance(function, ast.Attribute)
                    else getattr(function, "id", "")
                )
                reads_env = called in _READERS or (
                    (called in ("get", "getenv") and "environ" in ast.unparse(function))
                    or called == "getenv"
                )
                if reads_env and isinstance(name, str) and name.isupper():
                    keywords = {k.arg: k.value for k in node.keywords}
                    given = node.args[1] if len(node.args) > 1 else keywords.get("default")
                    found[name] = _literal(given)
    return found


def documented() -> dict[str, str]:
    """name -> default, from the README's Configuration table."""
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z0-9_]+)`", cells[0])
        defaults = [d.strip() for d in cells[1].split(" / ")] if " / " in cells[0] else [cells[1]]
        for index, name in enumerate(names):
            rows[name] = defaults[min(index, len(defaults) - 1)].strip("`")
    return rows


def _same_default(code: object, readme: str) -> bool:
    if code == "":
        return readme == "unset"
    if isinstance(code, bool):
        return readme == str(code).lower()
    if isinstance(code, int | float):
        try:
            return float(readme.replace(",", "")) == float(code)
        except ValueError:
            return False
    return readme == str(code)


def test_every_variable_the_code_reads_is_in_the_readme_with_its_real_default() -> None:
    read, table = variables_read(), documented()
    assert "DYNAMODB_DEADLINE_SECONDS" in read  # the scan finds what it should
    missing = sorted(set(read) - set(table))
    assert missing == [], f"read by the code but not in README's Configuration: {missing}"
    wrong = {
        name: (default, table[name])
        for name, default in read.items()
        if default is not _NO_LITERAL and not _same_default(default, table[name])
    }
    assert wrong == {}, "README default differs from the code's"


def test_every_variable_in_the_readme_is_read_by_the_code() -> None:
    # The SDK's own endpoint variables are read by botocore, not by this code.
    sdk = {"AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_CLOUDWATCH"}
    unused = sorted(set(documented()) - set(variables_read()) - sdk)
    assert unused == [], f"documented in README but read nowhere: {unused}"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("WEB_CONCURRENCY", "two", "WEB_CONCURRENCY must be an integer"),
        ("GUNICORN_TIMEOUT", "-1", "GUNICORN_TIMEOUT must be at least 1"),
        ("LOG_LEVEL", "verbose", "LOG_LEVEL must be one of"),
        ("DYNAMODB_DEADLINE_SECONDS", "soon", "DYNAMODB_DEADLINE_SECONDS must be a number"),
        ("DJANGO_SECRET_KEY", "", "DJANGO_SECRET_KEY is required"),
    ],
)
def test_the_server_refuses_to_start_on_a_bad_value_with_one_clear_line(
    variable: str, value: str, message: str
) -> None:
    env = {**os.environ, "DJANGO_SECRET_KEY": "x" * 50, variable: value}
    result = subprocess.run(
        [sys.executable, "-m", "triggers.serve", "--check-config"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"Configuration error: {_line(result, message)}"]


def _line(result: subprocess.CompletedProcess[str], message: str) -> str:
    line = result.stderr.strip().removeprefix("Configuration error: ")
    assert message in line, result.stderr
    return line


def test_log_level_is_case_insensitive() -> None:
    env = {**os.environ, "DJANGO_SECRET_KEY": "x" * 50, "LOG_LEVEL": "info"}
    result = subprocess.run(
        [sys.executable, "-m", "triggers.serve", "--check-config"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_publishing_to_cloudwatch_needs_the_stage_the_tables_and_the_region_set() -> None:
    env = {**os.environ, "DJANGO_SECRET_KEY": "x" * 50, "METRICS_BACKEND": "cloudwatch"}
    for name in ("STAGE", "TABLE_PREFIX", "AWS_REGION", "AWS_DEFAULT_REGION"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "triggers.serve", "--check-config"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "Configuration error: METRICS_BACKEND=cloudwatch needs STAGE, TABLE_PREFIX, AWS_REGION "
        "set: each environment names its stage (the metrics namespace), its tables and its "
        "region."
    )
