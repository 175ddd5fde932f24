"""The CloudFormation template (deploy/cloudformation/triggers.yaml) against the code: it
lints clean, and its tables are what the PynamoDB models declare, index by index. A
change to an index in a model without the template, or the reverse, fails here. (Its
IAM policies are checked by test_iam_policies.py, which reads them from the template.)"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from deploy import iam
from devstack.localstack import ROOT
from events.tables import declared_indexes, ttl_attribute_name
from triggers.core.tables import registered_tables

TEMPLATE = iam.TEMPLATE


def template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(TEMPLATE.read_text())
    return loaded


def _keys(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return sorted((key["AttributeName"], key["KeyType"]) for key in schema)


def _declared(model: Any) -> dict[str, Any]:
    """What a model makes `create_tables` create, in the template's terms."""
    schema = model._get_schema()
    return {
        "attributes": sorted(
            (a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"]
        ),
        "keys": _keys(schema["key_schema"]),
        "indexes": {
            name: (_keys(index._get_schema()["key_schema"]), index._get_schema()["projection"])
            for name, index in declared_indexes(model).items()
        },
        "ttl": ttl_attribute_name(model),
    }


def _in_template(table: dict[str, Any]) -> dict[str, Any]:
    properties = table["Properties"]
    ttl = properties.get("TimeToLiveSpecification", {})
    return {
        "attributes": sorted(
            (a["AttributeName"], a["AttributeType"]) for a in properties["AttributeDefinitions"]
        ),
        "keys": _keys(properties["KeySchema"]),
        "indexes": {
            index["IndexName"]: (_keys(index["KeySchema"]), index["Projection"])
            for index in properties.get("GlobalSecondaryIndexes", [])
        },
        "ttl": ttl.get("AttributeName") if ttl.get("Enabled") else None,
    }


def differences(resources: dict[str, Any]) -> list[str]:
    """Where the template's tables and the models' part, in words; empty when they agree."""
    tables = {
        resource["Properties"]["TableName"]["Fn::Sub"].removeprefix("${TablePrefix}-"): resource
        for resource in resources.values()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }
    found = []
    models = {model.Meta.table_name.removeprefix(f"{settings.TABLE_PREFIX}-"): model
              for model in registered_tables()}  # fmt: skip
    for suffix in sorted(set(tables) | set(models)):
        if suffix not in tables or suffix not in models:
            where = "the models" if suffix not in tables else "the template"
            found.append(f"table {suffix}: only in {where}")
            continue
        declared, templated = _declared(models[suffix]), _in_template(tables[suffix])
        found += [
            f"table {suffix}, {part}: models {declared[part]!r}, template {templated[part]!r}"
            for part in declared
            if declared[part] != templated[part]
        ]
    return found


def test_the_template_lints_clean() -> None:
    linted = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(TEMPLATE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_templates_tables_are_what_the_models_declare() -> None:
    assert differences(template()["Resources"]) == []


EXTRA_INDEX = {
    "IndexName": "extra-index",
    "KeySchema": [{"AttributeName": "event_id", "KeyType": "HASH"}],
    "Projection": {"ProjectionType": "KEYS_ONLY"},
}


@pytest.mark.parametrize(
    "change",
    [
        lambda events: events["GlobalSecondaryIndexes"].pop(),  # an index only in the models
        lambda events: events["GlobalSecondaryIndexes"][0].update(
            Projection={"ProjectionType": "ALL"}  # another projection
        ),
        lambda events: events["GlobalSecondaryIndexes"].append(EXTRA_INDEX),  # only here
        lambda events: events.pop("TimeToLiveSpecification"),
        lambda events: events["KeySchema"].pop(),
    ],
)
def test_a_template_that_parts_from_the_models_is_caught(change: Any) -> None:
    resources = copy.deepcopy(template()["Resources"])
    change(resources["EventsTable"]["Properties"])

    assert [d for d in differences(resources) if d.startswith("table events")]


def test_the_data_outlives_the_stack_and_a_mistake() -> None:
    for name, resource in template()["Resources"].items():
        if resource["Type"] in ("AWS::DynamoDB::Table", "AWS::SecretsManager::Secret"):
            assert resource["DeletionPolicy"] == "Retain", name
            assert resource["UpdateReplacePolicy"] == "Retain", name
        if resource["Type"] == "AWS::DynamoDB::Table":
            properties = resource["Properties"]
            assert properties["DeletionProtectionEnabled"] is True, name
            assert properties["PointInTimeRecoverySpecification"] == {
                "PointInTimeRecoveryEnabled": True
            }, name
            assert properties["BillingMode"] == "PAY_PER_REQUEST", name


def test_the_policies_checked_are_the_templates_and_there_is_no_other_copy() -> None:
    resources = template()["Resources"]
    for name, logical in iam.POLICY_RESOURCES.items():
        assert iam.POLICIES[name] == resources[logical]["Properties"]["PolicyDocument"]
    assert sorted(path.name for path in iam.POLICY_DIR.iterdir()) == ["actions.json"]


def test_the_deployer_may_pass_exactly_the_two_roles() -> None:
    statements = template()["Resources"]["DeployerPolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    passing = [s for s in statements if "iam:PassRole" in str(s["Action"])]
    assert len(passing) == 1
    assert passing[0]["Resource"] == [
        {"Fn::GetAtt": ["WebInstanceRole", "Arn"]},
        {"Fn::GetAtt": ["ServiceRole", "Arn"]},
    ]


def test_the_environments_health_pages_through_the_alarm_topic() -> None:
    resources = template()["Resources"]
    alarm = resources["EnvironmentHealthAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (
        "AWS/ElasticBeanstalk",
        "EnvironmentHealth",
    )
    assert alarm["Threshold"] == 20  # Degraded (25: Severe)
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    # and the bundle makes Elastic Beanstalk publish the metric it reads
    configured = yaml.safe_load(
        (ROOT / ".ebextensions" / "02-capacity-and-health.config").read_text()
    )["option_settings"]["aws:elasticbeanstalk:healthreporting:system"]
    published = json.loads(configured["ConfigDocument"])["CloudWatchMetrics"]["Environment"]
    assert published["EnvironmentHealth"] == alarm["Period"]
