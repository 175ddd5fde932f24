"""The Elastic Beanstalk option settings as the platform reads them, for the deploy tests:
the bundle's (.ebextensions) and each environment's (deploy/environments/*.json)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import yaml

from devstack.localstack import ROOT

EBEXTENSIONS = sorted((ROOT / ".ebextensions").glob("*.config"))
ENVIRONMENTS = sorted((ROOT / "deploy" / "environments").glob("*.json"))
ENVIRONMENT = "aws:elasticbeanstalk:application:environment"

# Every namespace and its options ("*": any), from Elastic Beanstalk's reference.
KNOWN = json.loads((Path(__file__).with_name("eb_options.json")).read_text())["namespaces"]

Options = dict[tuple[str, str], str]  # (namespace, option) -> value


def bundle_options() -> Options:
    """Every option_settings entry of every .ebextensions file."""
    found: Options = {}
    for path in EBEXTENSIONS:
        settings = yaml.safe_load(path.read_text()).get("option_settings") or {}
        for namespace, options in settings.items():
            for option, value in options.items():
                found[(namespace, option)] = str(value)
    return found


def environment_options(path: Path) -> Options:
    """One environment's option file (the AWS CLI's --option-settings format)."""
    return {(o["Namespace"], o["OptionName"]): o["Value"] for o in json.loads(path.read_text())}


def unknown_options(options: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (namespace, option) pairs Elastic Beanstalk's reference does not have."""
    return [
        (namespace, option)
        for namespace, option in options
        if namespace not in KNOWN or (KNOWN[namespace] != "*" and option not in KNOWN[namespace])
    ]


def variables(options: Options) -> dict[str, str]:
    """The environment variables among `options`."""
    return {
        option: value for (namespace, option), value in options.items() if namespace == ENVIRONMENT
    }
