"""The source bundle (`make bundle`) holds what the instances need and nothing else, and,
unzipped into an empty folder with a fresh virtualenv, starts under the Procfile's
command with the production configuration, as Elastic Beanstalk would start it."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from deploy.bundle import build
from deploy.tests.cfn_moto import deploy_stack
from deploy.tests.ebconfig import bundle_options, environment_options, variables
from devstack.localstack import ROOT, aws_env, free_port, start_server

pytestmark = pytest.mark.integration

NEEDED = {
    "Procfile",
    "requirements.txt",
    "manage.py",
    "triggers/wsgi.py",
    "triggers/serve.py",
    "triggers/gunicorn_conf.py",
    "events/models.py",
    "inbox/views.py",
    "observability/logging.py",
    ".ebextensions/01-environment.config",
    ".platform/nginx/conf.d/triggers.conf",
    ".platform/hooks/postdeploy/01_stream_app_log.sh",
}
LEFT_OUT = (".venv/", ".data/", "node_modules/", "dist/", "perf/", "devstack/", "deploy/",
            "docs/", ".github/", ".ci/", "package.json")  # fmt: skip
SECRET = "bundle-smoke-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
FALLBACK = "bundle-smoke-fallback-key-0123456789abcdefghijklmnopqrstuvwxyz"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(output=tmp_path_factory.mktemp("dist"))


def test_the_bundle_holds_what_the_instances_need_and_nothing_else(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        names = {info.filename for info in archive.infolist() if not info.is_dir()}
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
    assert names >= NEEDED
    assert [
        n for n in names if n.startswith(LEFT_OUT) or "/tests/" in n or "__pycache__" in n
    ] == []
    hooks = [n for n in names if n.startswith(".platform/") and n.endswith(".sh")]
    assert hooks
    assert all(modes[hook] & 0o111 for hook in hooks)


def _eb_environment() -> dict[str, str]:
    """The variables Elastic Beanstalk gives the app: .ebextensions, then one environment's."""
    example = ROOT / "deploy" / "environments" / "production.example.json"
    return variables({**bundle_options(), **environment_options(example)})


@pytest.fixture(scope="module")
def instance(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The bundle unzipped and installed in a fresh virtualenv, as on an instance."""
    work = tmp_path_factory.mktemp("instance")
    app, venv = work / "app", work / "venv"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(app)
    # The bundle's own settings, plus devstack's AWS call recorder (for the IAM check):
    # devstack is not in the bundle, so the test lays it beside it.
    shutil.copytree(ROOT / "devstack", app / "devstack", ignore=shutil.ignore_patterns("tests"))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", "--no-compile", "-r", str(app / "requirements.txt")],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return {"app": app, "venv": venv, "work": work}


@contextmanager
def serving(
    instance: dict[str, Path], stores: dict[str, str], *, table_prefix: str, create_tables: bool
) -> Iterator[dict[str, Any]]:
    """The Procfile's process on `stores` (aws_env's variables), with an API key; the
    tables made first by the operator step (`create_tables`) unless they exist."""
    app, venv = instance["app"], instance["venv"]
    work = Path(tempfile.mkdtemp(prefix=f"{table_prefix}-", dir=instance["work"]))
    log_file = work / "log" / "app.log"
    log_file.parent.mkdir()
    python = str(venv / "bin" / "python")
    port = free_port()
    env = {
        "PATH": f"{venv / 'bin'}:{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", str(work)),
        **_eb_environment(),
        "AWS_REGION": "us-east-1",  # what `{"Ref": "AWS::Region"}` gives on the instance
        "TABLE_PREFIX": table_prefix,
        "LOG_FILE": str(log_file),
        # Elastic Beanstalk's, from Secrets Manager
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_SECRET_KEY_FALLBACKS": FALLBACK,
        "PORT": str(port),
        **stores,
        "AWS_CALL_RECORD": os.environ["AWS_CALL_RECORD"],  # for the IAM check
        "DJANGO_SETTINGS_MODULE": "devstack.settings",
    }
    if create_tables:
        subprocess.run(
            [python, "manage.py", "create_tables", "--wait"], cwd=app, env=env, check=True,
            capture_output=True, timeout=120,
        )  # fmt: skip
    key = subprocess.run(
        [python, "manage.py", "create_api_key", "--tenant", "bundle"], cwd=app, env=env,
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    _, command = (ROOT / "Procfile").read_text().strip().split(":", 1)
    with (work / "stdout.log").open("ab") as out:
        service = start_server(
            "bundle", shlex.split(command), f"http://127.0.0.1:{port}", out,
            path="/v1/health/live", cwd=app, env=env,
        )  # fmt: skip
        try:
            yield {"url": service.url, "key": key, "log_file": log_file, "work": work}
        finally:
            service.stop()


@pytest.fixture(scope="module")
def deployed(
    instance: dict[str, Path], dynamodb_url: str, moto_url: str
) -> Iterator[dict[str, Any]]:
    """The bundle on DynamoDB Local, its tables made by the operator step."""
    stores = aws_env(dynamodb_url=dynamodb_url, moto_url=moto_url)
    with serving(instance, stores, table_prefix=f"triggers-bundle-{free_port()}",
                 create_tables=True) as running:  # fmt: skip
        yield running


def smoke(deployed: dict[str, Any]) -> None:
    """What the post-deploy check asks of a fresh environment (docs/DEPLOYMENT.md)."""
    url, headers = deployed["url"], {"X-API-Key": deployed["key"]}
    assert requests.get(url + "/v1/health/live", timeout=10).status_code == 200
    health = requests.get(url + "/v1/health", timeout=10)
    assert health.status_code == 200, health.text
    created = requests.post(
        url + "/v1/events", json={"source": "bundle", "event_type": "smoke", "payload": {"n": 1}},
        headers=headers, timeout=10,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    event_id = created.json()["event_id"]
    inbox = requests.get(url + "/v1/inbox", headers=headers, timeout=10).json()
    assert [e["event_id"] for e in inbox["events"]] == [event_id]
    found = requests.get(f"{url}/v1/events/{event_id}", headers=headers, timeout=10)
    assert found.status_code == 200, found.text


def test_the_bundle_serves_under_the_procfile_with_production_settings(
    deployed: dict[str, Any],
) -> None:
    smoke(deployed)


def test_the_bundle_serves_on_the_tables_the_cloudformation_stack_made(
    instance: dict[str, Path], moto_url: str
) -> None:
    # GIVEN the stack deployed into moto's CloudFormation, its tables in moto's DynamoDB
    prefix = f"triggers-cfn-{free_port()}"
    stack = deploy_stack(moto_url, table_prefix=prefix, stage="Production")
    assert stack["status"] == "CREATE_COMPLETE"

    # THEN the bundle serves on them, no create_tables needed
    stores = aws_env(dynamodb_url=moto_url, moto_url=moto_url)
    with serving(instance, stores, table_prefix=prefix, create_tables=False) as running:
        smoke(running)


def test_the_bundle_writes_only_json_lines_to_the_streamed_file(
    deployed: dict[str, Any],
) -> None:
    requests.get(deployed["url"] + "/v1/health/live", timeout=10)
    lines = deployed["log_file"].read_bytes().splitlines()
    assert lines
    entries = [json.loads(line) for line in lines]  # each line, whole, one JSON object
    assert all(isinstance(entry, dict) and "event" in entry for entry in entries)
    events = {entry["event"] for entry in entries}
    assert {"request_finished"} <= events
    assert SECRET not in deployed["log_file"].read_text()
    assert FALLBACK not in deployed["log_file"].read_text()
    assert (deployed["work"] / "stdout.log").read_text() == ""  # nothing went around it
