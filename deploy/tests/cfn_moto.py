"""The CloudFormation template deployed into moto's CloudFormation (the suite's moto
server), for what moto supports.

What moto's CloudFormation does not make, and what the tests do instead:

- `AWS::SecretsManager::Secret`: no Secrets Manager resources in moto's CloudFormation.
  The stack is deployed without `SecretKey` and `SecretKeyFallbacks`; an ARN for each
  (`SECRET_ARNS`) stands in for every `Ref` to it (the policies' statements that read
  them, the outputs).
- `AWS::CloudWatch::Alarm`, `AWS::SNS::Subscription`: moto skips them with a warning
  and reports them created with no physical id; nothing exists.
- moto creates the roles and the managed policies but does not attach a role's
  `ManagedPolicyArns` (nothing is listed attached).
- Of the tables' properties, moto keeps the keys, indexes and deletion protection, and
  drops TimeToLiveSpecification and PointInTimeRecoverySpecification. Those, and the
  unsupported resources, are held to the code by deploy/tests/test_cloudformation.py
  (the template itself) and checked by a real deploy (docs/DEPLOYMENT.md).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import yaml

from deploy.iam import TEMPLATE

__all__ = ["NOT_MADE_BY_MOTO", "SECRET_ARNS", "deploy_stack"]

SECRET_ARNS = {
    logical: f"arn:aws:secretsmanager:us-east-1:123456789012:secret:triggers-moto/{logical}-AbCdEf"
    for logical in ("SecretKey", "SecretKeyFallbacks")
}
LEFT_OUT = frozenset({"AWS::SecretsManager::Secret"})
NOT_MADE_BY_MOTO = frozenset({"AWS::CloudWatch::Alarm", "AWS::SNS::Subscription"})


def for_moto(template: dict[str, Any]) -> dict[str, Any]:
    """The template without the resources moto cannot parse, their ARNs in their place."""
    left_out = {
        name for name, resource in template["Resources"].items() if resource["Type"] in LEFT_OUT
    }
    assert left_out == set(SECRET_ARNS), left_out

    def replaced(value: Any) -> Any:
        if isinstance(value, dict):
            if list(value) == ["Ref"] and value["Ref"] in left_out:
                return SECRET_ARNS[value["Ref"]]
            return {key: replaced(item) for key, item in value.items()}
        if isinstance(value, list):
            return [replaced(item) for item in value]
        return value

    resources = {n: r for n, r in template["Resources"].items() if n not in left_out}
    result: dict[str, Any] = replaced({**template, "Resources": resources})
    return result


def client(service: str, moto_url: str) -> Any:
    return boto3.client(
        service, endpoint_url=moto_url, region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )  # fmt: skip


def deploy_stack(moto_url: str, *, table_prefix: str, stage: str) -> dict[str, Any]:
    """Create the stack; its description (status, outputs) and resources."""
    cloudformation = client("cloudformation", moto_url)
    template = for_moto(yaml.safe_load(TEMPLATE.read_text()))
    cloudformation.create_stack(
        StackName=table_prefix,
        TemplateBody=json.dumps(template),
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[
            {"ParameterKey": "Stage", "ParameterValue": stage},
            {"ParameterKey": "TablePrefix", "ParameterValue": table_prefix},
            {"ParameterKey": "EnvironmentName", "ParameterValue": table_prefix},
            {"ParameterKey": "AlarmEmail", "ParameterValue": "oncall@example.com"},
        ],
    )
    stack = cloudformation.describe_stacks(StackName=table_prefix)["Stacks"][0]
    resources = cloudformation.list_stack_resources(StackName=table_prefix)
    return {
        "status": stack["StackStatus"],
        "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        "resources": resources["StackResourceSummaries"],
        "template": template,
    }
