"""The deployment's IAM policies and the check that they allow exactly what the service does.

The policies are the CloudFormation template's (deploy/cloudformation/triggers.yaml,
resources WebTierPolicy and OperatorPolicy): read from it here, with its intrinsic
functions resolved for one environment, so that what is checked is what is deployed.

    .venv/bin/python -m deploy.iam render web-tier --region eu-west-1 --account 123456789012 \\
        --table-prefix triggers-production --stage Production \\
        --secret-arn arn:aws:... --fallbacks-arn arn:aws:...

Two policies, two roles:

- `web-tier`: the instance profile of the Elastic Beanstalk instances (with the managed
  `AWSElasticBeanstalkWebTier`): what serving requests needs, data-plane actions on the
  three tables and PutMetricData to the stage's namespace, and what the platform does
  for the application on the instance (statements whose Sid starts with "Platform":
  reading the secret keys, writing the application's log group).
- `operator`: an engineer's or CI's role for the management commands: the schema
  (`create_tables`, `migrate_gsi`), API keys, the dashboard and the alarms, rotating the
  secret key.

The test suite records every AWS call its processes make (devstack/aws_calls.py);
`check` compares that record with the policies, both ways: a call a policy does not
allow, and an action a policy allows that nothing used, are both findings.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from triggers.core.secret_key import secret_names

POLICY_DIR = Path(__file__).with_name("iam")
TEMPLATE = Path(__file__).with_name("cloudformation") / "triggers.yaml"
# Policy name -> the template's logical id of its AWS::IAM::ManagedPolicy.
POLICY_RESOURCES = {"web-tier": "WebTierPolicy", "operator": "OperatorPolicy"}
PLATFORM_SID_PREFIX = "Platform"
TABLE_SUFFIXES = ("events", "api-keys", "idempotency")

Policy = dict[str, Any]
Call = dict[str, Any]  # one line of the AWS call record


@dataclass(frozen=True)
class Target:
    """Where a policy is rendered for: one environment of one account."""

    region: str
    account: str
    table_prefix: str
    stage: str
    secret_arn: str  # the secret key's secret (stack output SecretKeyArn)
    fallbacks_arn: str  # the fallback keys' (SecretKeyFallbacksArn)


def policy_documents(template: Path = TEMPLATE) -> dict[str, Policy]:
    """Each policy's document as the template holds it (intrinsic functions unresolved)."""
    resources = yaml.safe_load(template.read_text())["Resources"]
    return {
        name: resources[logical]["Properties"]["PolicyDocument"]
        for name, logical in POLICY_RESOURCES.items()
    }


POLICIES = policy_documents()

_SUBSTITUTED = re.compile(r"\$\{([^}]+)\}")


def render(document: Policy, target: Target) -> Policy:
    """The document with the template's `Fn::Sub` and `Ref` resolved for the target."""
    return _rendered(json.dumps(document, sort_keys=True), target)


@cache
def _rendered(text: str, target: Target) -> Policy:
    values = {
        "AWS::Partition": "aws",
        "AWS::Region": target.region,
        "AWS::AccountId": target.account,
        "TablePrefix": target.table_prefix,
        "Stage": target.stage,
    }
    references = {"SecretKey": target.secret_arn, "SecretKeyFallbacks": target.fallbacks_arn}

    def resolved(value: Any) -> Any:
        if isinstance(value, list):
            return [resolved(item) for item in value]
        if not isinstance(value, dict):
            return value
        if list(value) == ["Fn::Sub"]:
            return _SUBSTITUTED.sub(lambda name: values[name.group(1)], value["Fn::Sub"])
        if list(value) == ["Ref"]:
            return references[value["Ref"]]
        return {key: resolved(item) for key, item in value.items()}

    policy: Policy = resolved(json.loads(text))
    return policy


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def statements(policy: Policy) -> list[dict[str, Any]]:
    return [s for s in policy["Statement"] if s["Effect"] == "Allow"]


def actions(policy: Policy, *, platform: bool | None = None) -> set[str]:
    """Every action the policy allows (only the platform's, or only the others')."""
    return {
        action
        for statement in statements(policy)
        if platform is None or statement.get("Sid", "").startswith(PLATFORM_SID_PREFIX) == platform
        for action in _listed(statement["Action"])
    }


@cache
def known_actions() -> frozenset[str]:
    """Real IAM actions of the services the policies use (vendored: deploy/iam/actions.json)."""
    vendored = json.loads((POLICY_DIR / "actions.json").read_text())
    return frozenset(
        f"{service}:{action}" for service, names in vendored["actions"].items() for action in names
    )


def _resource_arn(call: Call, target: Target) -> str:
    """The ARN IAM checks the call against ("*" for calls on no single resource)."""
    where = f"{target.region}:{target.account}"
    action, name = call["action"], call.get("name")
    if call.get("table"):
        arn = f"arn:aws:dynamodb:{where}:table/{call['table']}"
        return arn + (f"/index/{call['index']}" if call.get("index") else "")
    if action == "cloudwatch:PutDashboard" and name:
        return f"arn:aws:cloudwatch::{target.account}:dashboard/{name}"
    if action.startswith("cloudwatch:") and name:
        return f"arn:aws:cloudwatch:{where}:alarm:{name}"
    if action.startswith("sns:") and name:
        return f"arn:aws:sns:{where}:{name}"
    if action.startswith("secretsmanager:") and name:
        return secret_arn(target.region, target.account, name)
    return "*"


def _condition_holds(statement: dict[str, Any], call: Call) -> bool:
    wanted = statement.get("Condition", {}).get("StringEquals", {}).get("cloudwatch:namespace")
    return wanted is None or call.get("namespace") == wanted


def allows(policy: Policy, call: Call, target: Target) -> bool:
    """Whether one statement of `policy` allows the call's action on its resource."""
    resource = _resource_arn(call, target)
    return any(
        any(fnmatch.fnmatchcase(call["action"], a) for a in _listed(statement["Action"]))
        and any(fnmatch.fnmatchcase(resource, r) for r in _listed(statement["Resource"]))
        and _condition_holds(statement, call)
        for statement in statements(policy)
    )


def table_prefix_of(table: str) -> str | None:
    """The TABLE_PREFIX of one of the service's tables; None for any other table."""
    for suffix in TABLE_SUFFIXES:
        if table.endswith(f"-{suffix}"):
            return table[: -len(suffix) - 1]
    return None


def _secret_prefix_of(name: str) -> str | None:
    """The TABLE_PREFIX of one of the service's secrets; None for any other secret."""
    for suffix in secret_names("").values():
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return None


def secret_arn(region: str, account: str, name: str) -> str:
    """A secret's ARN: Secrets Manager ends each with six random characters, the same
    six here for every secret of every test environment."""
    return f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-AbCdEf"


def policy_for(role: str) -> str:
    """Which policy a recorded role runs under: the server's, or the operator's."""
    return "web-tier" if role == "web" else "operator"


def target_for(call: Call, *, region: str = "us-east-1", account: str = "123456789012") -> Target:
    """The environment a recorded call was made in (its table prefix and stage)."""
    prefix = None
    if call.get("table"):
        prefix = table_prefix_of(call["table"])
    elif call.get("action", "").startswith("secretsmanager:") and call.get("name"):
        prefix = _secret_prefix_of(call["name"])
    prefix = prefix or "triggers"
    names = secret_names(prefix)
    return Target(
        region,
        account,
        prefix,
        call.get("stage") or "Stage",
        secret_arn(region, account, names["key"]),
        secret_arn(region, account, names["fallbacks"]),
    )


def _in_scope(call: Call) -> bool:
    """Calls of the service and its commands on the service's own resources. Left out:
    what the tests do themselves, and calls on a table that is none of the service's
    (a test asking migrate_gsi about a table that does not exist)."""
    return call["role"] != "test" and (
        not call.get("table") or table_prefix_of(call["table"]) is not None
    )


@dataclass(frozen=True)
class Findings:
    not_allowed: list[tuple[str, Call]]  # (policy, call)
    unused: list[tuple[str, str]]  # (policy, action)


def check(calls: Iterable[Call], policies: dict[str, Policy] = POLICIES) -> Findings:
    """Every recorded call (but the tests' own) against the policy of its role, and every
    non-platform action of each policy against the calls made under it."""
    used: dict[str, set[str]] = {name: set() for name in policies}
    not_allowed: list[tuple[str, Call]] = []
    distinct = {json.dumps(call, sort_keys=True) for call in calls if _in_scope(call)}
    for call in map(json.loads, sorted(distinct)):
        name = policy_for(call["role"])
        target = target_for(call)
        if allows(render(policies[name], target), call, target):
            used[name].add(call["action"])
        else:
            not_allowed.append((name, call))
    unused = [
        (name, action)
        for name, document in policies.items()
        for action in sorted(actions(render(document, target_for({})), platform=False) - used[name])
    ]
    return Findings(not_allowed=not_allowed, unused=unused)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.iam", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("render", help="Print a policy for one environment.")
    show.add_argument("policy", choices=sorted(POLICIES))
    for option in ("region", "account", "table-prefix", "stage", "secret-arn", "fallbacks-arn"):
        show.add_argument(f"--{option}", required=True)
    options = parser.parse_args(argv)
    target = Target(
        options.region,
        options.account,
        options.table_prefix,
        options.stage,
        options.secret_arn,
        options.fallbacks_arn,
    )
    print(json.dumps(render(POLICIES[options.policy], target), indent=2))


if __name__ == "__main__":
    main()
