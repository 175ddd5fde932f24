"""The CloudFormation template (deploy/cloudformation/triggers.yaml) against the code: it
lints clean, and its tables are what the PynamoDB models declare, index by index. A
change to an index in a model without the template, or the reverse, fails here. It
deploys into moto's CloudFormation (what moto supports: deploy/tests/cfn_moto.py), and
the bundle serves on the tables it made (test_bundle.py). Its IAM policies are checked
by test_iam_policies.py, which reads them from the template."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings

from deploy import iam
from deploy.tests.cfn_moto import NOT_MADE_BY_MOTO, SECRET_ARNS, client, deploy_stack
from devstack.localstack import ROOT
from events.tables import declared_indexes, ttl_attribute_name
from triggers.core.secret_key import KEY_LENGTH, secret_names
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


def test_the_secrets_are_the_ones_the_rotation_reads_and_hold_keys_it_accepts() -> None:
    resources = template()["Resources"]
    names = secret_names("${TablePrefix}")
    for logical, which in (("SecretKey", "key"), ("SecretKeyFallbacks", "fallbacks")):
        properties = resources[logical]["Properties"]
        assert properties["Name"] == {"Fn::Sub": names[which]}
        # alphanumeric (no comma: the fallbacks are a comma-separated list), as long as
        # the keys the rotation generates
        assert properties["GenerateSecretString"] == {
            "PasswordLength": KEY_LENGTH,
            "ExcludePunctuation": True,
        }


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


@pytest.mark.integration
def test_the_stack_deploys_on_moto_and_makes_what_moto_supports(moto_url: str) -> None:
    # GIVEN the template deployed into moto's CloudFormation (deploy/tests/cfn_moto.py says
    # what moto cannot make, and why the check goes on without it)
    prefix = f"triggers-cfn-{uuid.uuid4().hex[:8]}"
    stack = deploy_stack(moto_url, table_prefix=prefix, stage="Cfn")

    # THEN it is complete, and made every resource moto supports
    assert stack["status"] == "CREATE_COMPLETE"
    deployed = stack["template"]["Resources"]
    made = {r["LogicalResourceId"] for r in stack["resources"] if r.get("PhysicalResourceId")}
    assert made == {n for n, r in deployed.items() if r["Type"] not in NOT_MADE_BY_MOTO}
    unmade = [r for r in stack["resources"] if not r.get("PhysicalResourceId")]
    assert len(unmade) == len([r for r in deployed.values() if r["Type"] in NOT_MADE_BY_MOTO])
    # the tables, as the models declare them (test above: the template is the models')
    dynamodb = client("dynamodb", moto_url)
    for logical in ("EventsTable", "ApiKeysTable", "IdempotencyTable"):
        properties = deployed[logical]["Properties"]
        name = properties["TableName"]["Fn::Sub"].replace("${TablePrefix}", prefix)
        table = dynamodb.describe_table(TableName=name)["Table"]
        assert _keys(table["KeySchema"]) == _keys(properties["KeySchema"])
        assert {
            g["IndexName"]: g["Projection"] for g in table.get("GlobalSecondaryIndexes", [])
        } == {g["IndexName"]: g["Projection"] for g in properties.get("GlobalSecondaryIndexes", [])}
        assert table["DeletionProtectionEnabled"] is True
    # the instance profile holds the web role, which EC2 may assume, and the policies
    # exist (moto does not attach a role's ManagedPolicyArns: not checked here)
    iam_client = client("iam", moto_url)
    profile = iam_client.get_instance_profile(
        InstanceProfileName=stack["outputs"]["InstanceProfileName"]
    )["InstanceProfile"]
    (role,) = profile["Roles"]
    trust = json.dumps(iam_client.get_role(RoleName=role["RoleName"])["Role"], default=str)
    assert "ec2.amazonaws.com" in trust
    physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in stack["resources"]}
    for policy in ("WebTierPolicy", "OperatorPolicy", "DeployerPolicy"):
        assert iam_client.get_policy(PolicyArn=physical[policy])["Policy"]["Arn"]
    assert stack["outputs"]["SecretKeyArn"] == SECRET_ARNS["SecretKey"]
    assert stack["outputs"]["SecretKeyFallbacksArn"] == SECRET_ARNS["SecretKeyFallbacks"]
