"""An environment's option file, from its CloudFormation stack: the one way to give
`aws elasticbeanstalk create-environment` what differs per environment.

    .venv/bin/python -m deploy.environment --stack triggers-production \\
        --certificate-arn arn:aws:acm:... [--vpc-id vpc-... --instance-subnets subnet-a,subnet-b \\
        --elb-subnets subnet-c,subnet-d] > deploy/environments/triggers-production.json

The stack (deploy/cloudformation/triggers.yaml) names the stage, the table prefix, the
secret key, the instance profile and Elastic Beanstalk's service role; the certificate
and the network are given here. What every environment shares is in the bundle
(.ebextensions). Environment variables set this way are there at the first start, which
`eb create` cannot do (an environment started without STAGE and TABLE_PREFIX stops at
start-up): docs/DEPLOYMENT.md uses `create-environment` with this file, and only that.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import boto3

__all__ = ["EnvironmentInputs", "inputs_from_stack", "option_settings"]

ENVIRONMENT = "aws:elasticbeanstalk:application:environment"
LAUNCH = "aws:autoscaling:launchconfiguration"
PROCESS = "aws:elasticbeanstalk:environment:process:default"
SECRETS = "aws:elasticbeanstalk:application:environmentsecrets"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass(frozen=True)
class EnvironmentInputs:
    stage: str
    table_prefix: str
    secret_arn: str
    fallbacks_arn: str
    instance_profile: str
    service_role_arn: str
    certificate_arn: str
    instance_type: str = "c7i.large"
    vpc_id: str | None = None
    instance_subnets: tuple[str, ...] = ()
    elb_subnets: tuple[str, ...] = ()


def _option(namespace: str, name: str, value: str) -> dict[str, str]:
    return {"Namespace": namespace, "OptionName": name, "Value": value}


def option_settings(inputs: EnvironmentInputs) -> list[dict[str, str]]:
    """The option file's entries (the AWS CLI's --option-settings format)."""
    options = [
        _option(ENVIRONMENT, "STAGE", inputs.stage),
        _option(ENVIRONMENT, "TABLE_PREFIX", inputs.table_prefix),
        # read by the platform at instance start, given to the service as variables
        _option(SECRETS, "DJANGO_SECRET_KEY", inputs.secret_arn),
        _option(SECRETS, "DJANGO_SECRET_KEY_FALLBACKS", inputs.fallbacks_arn),
        _option(
            "aws:autoscaling:launchconfiguration", "IamInstanceProfile", inputs.instance_profile
        ),
        _option("aws:autoscaling:launchconfiguration", "InstanceType", inputs.instance_type),
        _option("aws:autoscaling:launchconfiguration", "DisableIMDSv1", "true"),
        _option("aws:elasticbeanstalk:environment", "ServiceRole", inputs.service_role_arn),
        _option("aws:elasticbeanstalk:environment", "LoadBalancerType", "application"),
        _option(PROCESS, "HealthCheckPath", "/v1/health/live"),
        _option("aws:elbv2:listener:443", "ListenerEnabled", "true"),
        _option("aws:elbv2:listener:443", "Protocol", "HTTPS"),
        _option("aws:elbv2:listener:443", "SSLCertificateArns", inputs.certificate_arn),
        _option("aws:elbv2:listener:443", "SSLPolicy", TLS_POLICY),
    ]
    if inputs.vpc_id:
        options += [
            _option("aws:ec2:vpc", "VPCId", inputs.vpc_id),
            _option("aws:ec2:vpc", "Subnets", ",".join(inputs.instance_subnets)),
            _option("aws:ec2:vpc", "ELBSubnets", ",".join(inputs.elb_subnets)),
            _option("aws:ec2:vpc", "ELBScheme", "public"),
        ]
    return options


def inputs_from_stack(
    stack: dict[str, Any], *, certificate_arn: str, **network: Any
) -> EnvironmentInputs:
    """The inputs a stack (describe-stacks' description of it) gives, plus the rest."""
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
    return EnvironmentInputs(
        stage=parameters["Stage"],
        table_prefix=parameters["TablePrefix"],
        secret_arn=outputs["SecretKeyArn"],
        fallbacks_arn=outputs["SecretKeyFallbacksArn"],
        instance_profile=outputs["InstanceProfileName"],
        service_role_arn=outputs["ServiceRoleArn"],
        certificate_arn=certificate_arn,
        **network,
    )


def _listed(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.environment",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", required=True, help="The environment's CloudFormation stack.")
    parser.add_argument("--certificate-arn", required=True, help="ACM certificate for HTTPS.")
    parser.add_argument("--instance-type", default="c7i.large")
    parser.add_argument("--vpc-id", help="Without it: the account's default VPC.")
    parser.add_argument("--instance-subnets", type=_listed, default=(), help="subnet-a,subnet-b")
    parser.add_argument("--elb-subnets", type=_listed, default=(), help="subnet-c,subnet-d")
    options = parser.parse_args(argv)
    if options.vpc_id and not (options.instance_subnets and options.elb_subnets):
        parser.error("--vpc-id needs --instance-subnets and --elb-subnets (two zones each)")
    stack = boto3.client("cloudformation").describe_stacks(StackName=options.stack)["Stacks"][0]
    inputs = inputs_from_stack(
        stack,
        certificate_arn=options.certificate_arn,
        instance_type=options.instance_type,
        vpc_id=options.vpc_id,
        instance_subnets=options.instance_subnets,
        elb_subnets=options.elb_subnets,
    )
    json.dump(option_settings(inputs), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
