"""An environment's option file comes from its stack (`python -m deploy.environment`):
the example in deploy/environments/ is that command's output for example values, and
every option it can write is a real one."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

import pytest

from deploy.environment import EnvironmentInputs, inputs_from_stack, option_settings
from deploy.tests.cfn_moto import SECRET_ARNS, client, deploy_stack
from deploy.tests.ebconfig import unknown_options
from devstack.localstack import ROOT

EXAMPLE = ROOT / "deploy" / "environments" / "production.example.json"
EXAMPLE_INPUTS = EnvironmentInputs(
    stage="Production",
    table_prefix="triggers-production",
    secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:triggers-production/django-secret-key-AbCdEf",
    fallbacks_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:triggers-production/django-secret-key-fallbacks-GhIjKl",
    instance_profile="triggers-production-web",
    service_role_arn="arn:aws:iam::123456789012:role/triggers-production-ServiceRole-ABCDEFGHIJKL",
    certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-0000-0000-000000000000",
)


def test_the_example_is_what_the_command_writes_for_example_values() -> None:
    assert json.loads(EXAMPLE.read_text()) == option_settings(EXAMPLE_INPUTS)


def test_every_option_it_writes_is_real_with_or_without_a_vpc() -> None:
    in_a_vpc = replace(
        EXAMPLE_INPUTS,
        vpc_id="vpc-1",
        instance_subnets=("subnet-a", "subnet-b"),
        elb_subnets=("subnet-c", "subnet-d"),
    )
    for inputs in (EXAMPLE_INPUTS, in_a_vpc):
        written = [(o["Namespace"], o["OptionName"]) for o in option_settings(inputs)]
        assert unknown_options(written) == []
    vpc = {o["OptionName"]: o["Value"] for o in option_settings(in_a_vpc)
           if o["Namespace"] == "aws:ec2:vpc"}  # fmt: skip
    assert vpc["Subnets"] == "subnet-a,subnet-b"
    assert vpc["ELBSubnets"] == "subnet-c,subnet-d"


@pytest.mark.integration
def test_the_inputs_are_read_from_the_stack(moto_url: str) -> None:
    prefix = f"triggers-env-{uuid.uuid4().hex[:8]}"
    deploy_stack(moto_url, table_prefix=prefix, stage="Staging")
    stack = client("cloudformation", moto_url).describe_stacks(StackName=prefix)["Stacks"][0]

    inputs = inputs_from_stack(stack, certificate_arn=EXAMPLE_INPUTS.certificate_arn)

    assert (inputs.stage, inputs.table_prefix) == ("Staging", prefix)
    assert inputs.instance_profile == f"{prefix}-web"
    assert inputs.secret_arn == SECRET_ARNS["SecretKey"]
    assert inputs.fallbacks_arn == SECRET_ARNS["SecretKeyFallbacks"]
    assert inputs.service_role_arn.startswith("arn:aws:iam::")
