"""The load-test workflow keeps its promises (perf/README.md, "CI"): read-only, a smoke run
on pull requests, a nightly gate on baselines of the same runner kind, a job that
records them, and a staging run that needs its secrets and a ticked confirmation."""

from __future__ import annotations

from typing import Any

import yaml

from devstack.localstack import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "load-tests.yml"


def workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return loaded


def commands(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_the_workflow_may_only_read_the_repository() -> None:
    assert workflow()["permissions"] == {"contents": "read"}
    assert all("permissions" not in job for job in workflow()["jobs"].values())


def test_pull_requests_get_a_smoke_run_of_a_subset() -> None:
    smoke = workflow()["jobs"]["smoke"]
    assert "pull_request" in smoke["if"]
    assert "SCENARIO=event_ingestion,inbox_polling PROFILE=smoke" in commands(smoke)


def test_the_nightly_gate_uses_baselines_recorded_on_its_own_runner_kind() -> None:
    jobs = workflow()["jobs"]
    restored = next(s for s in jobs["nightly"]["steps"] if s.get("id") == "baselines")
    saved = next(
        step
        for step in jobs["record-baselines"]["steps"]
        if step.get("with", {}).get("path") == "perf/baselines"
    )
    assert restored["with"]["key"] == saved["with"]["key"]
    assert "runner.os" in saved["with"]["key"]
    assert "make loadtest-baseline" in commands(jobs["record-baselines"])
    assert "PROFILE=local" in commands(jobs["nightly"])
    # the runner names the last commit that changed the service: it needs the history
    for name in ("nightly", "record-baselines"):
        checkout = jobs[name]["steps"][0]
        assert checkout["with"]["fetch-depth"] == 0


def test_staging_needs_its_secrets_and_a_ticked_confirmation() -> None:
    staging = workflow()["jobs"]["staging"]
    run = next(step for step in staging["steps"] if "ENV=staging" in step.get("run", ""))
    assert run["env"]["TRIGGERS_STAGING_URL"] == "${{ secrets.TRIGGERS_STAGING_URL }}"
    assert run["env"]["TRIGGERS_STAGING_API_KEY"] == "${{ secrets.TRIGGERS_STAGING_API_KEY }}"
    guard = staging["steps"][0]
    assert guard["if"] == "${{ !inputs.confirm }}"
    assert "exit 1" in guard["run"]
    triggers = workflow()[True]  # (YAML 1.1 reads the key `on` as true)
    assert triggers["workflow_dispatch"]["inputs"]["confirm"]["default"] is False
