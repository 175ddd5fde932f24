"""The IAM policies against every AWS call the test suite made (runs after every other test).

Each process the suite starts records its calls (devstack/aws_calls.py): the servers
as `web`, management commands as `command:<name>`. The web tier's policy must allow
exactly what `web` did, the operator's exactly what the commands did: a call a policy
refuses and an action nothing used are both failures.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from deploy import iam

pytestmark = pytest.mark.after_everything


@pytest.fixture(scope="module")
def calls(whole_suite_calls: Path | None) -> list[dict[str, Any]]:
    if whole_suite_calls is None:
        pytest.skip("reads what the whole suite did: run every test (make test)")
    return [json.loads(line) for line in whole_suite_calls.read_text().splitlines()]


def test_every_action_in_the_policies_is_a_real_iam_action() -> None:
    for name, document in iam.POLICIES.items():
        unknown = iam.actions(iam.render(document, iam.target_for({}))) - iam.known_actions()
        assert unknown == set(), name


def test_the_policies_allow_exactly_what_the_service_and_the_commands_do(
    calls: list[dict[str, Any]],
) -> None:
    roles = {call["role"] for call in calls}
    assert "web" in roles  # the record covers the servers...
    assert {"command:create_tables", "command:migrate_gsi", "command:setup_alarms"} <= roles
    findings = iam.check(calls)
    assert findings.not_allowed == []
    assert findings.unused == []


def _without(document: dict[str, Any], action: str) -> dict[str, Any]:
    policy = copy.deepcopy(document)
    for statement in policy["Statement"]:
        listed = statement["Action"]
        statement["Action"] = [
            a for a in ([listed] if isinstance(listed, str) else listed) if a != action
        ]
    policy["Statement"] = [s for s in policy["Statement"] if s["Action"]]
    return policy


def test_removing_any_one_needed_action_is_caught(calls: list[dict[str, Any]]) -> None:
    for name, document in iam.POLICIES.items():
        rendered = iam.render(document, iam.target_for({}))
        for action in sorted(iam.actions(rendered, platform=False)):
            policies = {**iam.POLICIES, name: _without(document, action)}
            refused = {(n, call["action"]) for n, call in iam.check(calls, policies).not_allowed}
            assert (name, action) in refused, f"{name} without {action}: nothing failed"


def test_the_platform_statements_are_only_what_elastic_beanstalk_does_for_the_service() -> None:
    web = iam.render(iam.POLICIES["web-tier"], iam.target_for({}))
    assert iam.actions(web, platform=True) == {
        # Elastic Beanstalk reads DJANGO_SECRET_KEY from Secrets Manager at bootstrap.
        "secretsmanager:GetSecretValue",
        # The CloudWatch agent creates the service's log group, sets its retention and
        # streams LOG_FILE into it (.ebextensions/03-logs.config).
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
    }
    operator = iam.render(iam.POLICIES["operator"], iam.target_for({}))
    assert iam.actions(operator, platform=True) == set()
