"""The Elastic Beanstalk configuration, read as the platform reads it: every file parses,
uses only real namespaces and options, and says what the deployment promises."""

from __future__ import annotations

import importlib
import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import crossplane
import pytest
import yaml
from django.conf import settings
from django.urls import resolve

from deploy.tests.ebconfig import (
    EBEXTENSIONS,
    ENVIRONMENT,
    ENVIRONMENTS,
    bundle_options,
    environment_options,
    unknown_options,
    variables,
)
from devstack.localstack import ROOT
from triggers.core.errors import ErrorCode
from triggers.serve import APPLICATION

NGINX = ROOT / ".platform" / "nginx" / "conf.d"
# A CloudFormation function in a value, `{...}` between backticks (.ebextensions only).
FUNCTION = re.compile(r"`(\{.*?\})`")
SECRETS = "aws:elasticbeanstalk:application:environmentsecrets"


def _config(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / ".ebextensions" / name).read_text())
    return loaded


def _render_functions(text: str, environment_name: str = "triggers-production") -> str:
    """What Elastic Beanstalk writes for the backtick functions the configs use."""

    def value(match: re.Match[str]) -> str:
        function = json.loads(match.group(1))
        if function == {"Ref": "AWS::Region"}:
            return "eu-west-1"
        join = function["Fn::Join"]
        parts = [environment_name if p == {"Ref": "AWSEBEnvironmentName"} else p for p in join[1]]
        return str(join[0]).join(parts)

    return FUNCTION.sub(value, text)


@pytest.mark.parametrize("path", EBEXTENSIONS, ids=lambda p: p.name)
def test_every_config_file_is_yaml_with_known_sections(path: Path) -> None:
    config = yaml.safe_load(path.read_text())
    assert set(config) <= {
        "option_settings",
        "files",
        "commands",
        "container_commands",
        "Resources",
    }


def test_every_option_is_a_real_namespace_and_option() -> None:
    options = [*bundle_options(), *(o for path in ENVIRONMENTS for o in environment_options(path))]
    assert unknown_options(options) == []


def test_the_bundle_carries_no_secret_and_nothing_of_one_environment() -> None:
    assert not set(variables(bundle_options())) & {
        "DJANGO_SECRET_KEY",
        "DJANGO_SECRET_KEY_FALLBACKS",
        "STAGE",
        "TABLE_PREFIX",
    }
    assert not any(namespace == SECRETS for namespace, _ in bundle_options())
    text = "\n".join(path.read_text() for path in EBEXTENSIONS)
    assert not re.search(r"arn:aws:(secretsmanager|acm|ssm):", text)


def test_the_region_is_the_environments_own() -> None:
    region = bundle_options()[(ENVIRONMENT, "AWS_REGION")]
    assert json.loads(FUNCTION.fullmatch(region).group(1)) == {"Ref": "AWS::Region"}  # type: ignore[union-attr]


def test_each_environment_names_its_stage_tables_secret_and_certificate() -> None:
    for path in ENVIRONMENTS:
        options = environment_options(path)
        assert options[(ENVIRONMENT, "STAGE")]
        assert options[(ENVIRONMENT, "TABLE_PREFIX")].startswith("triggers-")
        for secret in ("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY_FALLBACKS"):
            assert re.fullmatch(r"arn:aws:(secretsmanager|ssm):.+", options[(SECRETS, secret)])
        assert options[("aws:elbv2:listener:443", "Protocol")] == "HTTPS"
        assert options[("aws:elbv2:listener:443", "SSLCertificateArns")].startswith("arn:aws:acm:")
        assert options[("aws:autoscaling:launchconfiguration", "IamInstanceProfile")]


def test_capacity_deployments_and_health() -> None:
    options = bundle_options()
    assert options[("aws:elasticbeanstalk:environment", "LoadBalancerType")] == "application"
    assert int(options[("aws:autoscaling:asg", "MinSize")]) >= 2
    assert (
        options[("aws:elasticbeanstalk:command", "DeploymentPolicy")]
        == "RollingWithAdditionalBatch"
    )
    assert options[("aws:elasticbeanstalk:healthreporting:system", "SystemType")] == "enhanced"
    for path in [*(p for p in ENVIRONMENTS), None]:
        found = environment_options(path) if path else options
        check = found[("aws:elasticbeanstalk:environment:process:default", "HealthCheckPath")]
        assert check == "/v1/health/live"
        assert resolve(check).url_name == "health-live"  # shallow: no DynamoDB call


# Elastic Beanstalk's own nginx server block (Amazon Linux 2023): keepalive_timeout 60.
EB_NGINX_KEEPALIVE_SECONDS = 60


def test_the_load_balancer_lets_go_of_idle_connections_before_nginx_does() -> None:
    idle = int(bundle_options()[("aws:elbv2:loadbalancer", "IdleTimeout")])
    assert idle < EB_NGINX_KEEPALIVE_SECONDS
    # and the bundle's own nginx files leave nginx's keep-alive as it is
    text = "".join(path.read_text() for path in NGINX.rglob("*.conf"))
    assert "keepalive_timeout" not in text


def test_http_is_refused_in_the_error_envelope_never_redirected() -> None:
    listener = _config("04-https.config")["Resources"]["AWSEBV2LoadBalancerListener"]
    (action,) = listener["Properties"]["DefaultActions"]
    assert (listener["Properties"]["Port"], action["Type"]) == (80, "fixed-response")
    response = action["FixedResponseConfig"]
    assert (response["StatusCode"], response["ContentType"]) == ("403", "application/json")
    assert len(response["MessageBody"]) <= 1024  # the load balancer's limit
    error = json.loads(response["MessageBody"])["error"]
    assert error["code"] == "HTTPS_REQUIRED"
    assert "https://" in error["message"]
    assert error["details"] == {}
    # and no listener action in the bundle redirects anywhere
    configs = [_config(path.name) for path in (ROOT / ".ebextensions").glob("*.config")]
    assert '"Type": "redirect"' not in json.dumps(configs)


def test_the_service_log_is_in_the_platforms_tail_and_bundle_log_tasks() -> None:
    files = _config("03-logs.config")["files"]
    log_file = bundle_options()[("aws:elasticbeanstalk:application:environment", "LOG_FILE")]
    tail = files["/opt/elasticbeanstalk/tasks/taillogs.d/triggers.conf"]["content"]
    bundle = files["/opt/elasticbeanstalk/tasks/bundlelogs.d/triggers.conf"]["content"]
    assert tail.split() == [log_file]
    assert bundle.split() == [f"{log_file}*"]  # rotated files too


def test_logs_stream_the_file_the_service_writes_and_outlive_the_environment() -> None:
    options = bundle_options()
    logs = "aws:elasticbeanstalk:cloudwatch:logs"
    assert options[(logs, "StreamLogs")] == "True"
    assert options[(logs, "DeleteOnTerminate")] == "False"
    assert int(options[(logs, "RetentionInDays")]) >= 30
    files = _config("03-logs.config")["files"]
    agent = json.loads(
        _render_functions(
            files["/opt/aws/amazon-cloudwatch-agent/etc/triggers-app-log.json"]["content"]
        )
    )
    (collected,) = agent["logs"]["logs_collected"]["files"]["collect_list"]
    assert collected["file_path"] == options[(ENVIRONMENT, "LOG_FILE")]
    assert (
        collected["log_group_name"]
        == "/aws/elasticbeanstalk/triggers-production/var/log/triggers/app.log"
    )
    assert collected["retention_in_days"] >= 30
    assert options[(ENVIRONMENT, "LOG_FILE")] in files["/etc/logrotate.d/triggers"]["content"]


def test_the_platform_hooks_are_executable_scripts() -> None:
    hooks = sorted((ROOT / ".platform").glob("*hooks/**/*.sh"))
    assert {hook.parent.parent.name for hook in hooks} == {"hooks", "confighooks"}
    for hook in hooks:
        assert os.access(hook, os.X_OK), hook
        assert hook.read_text().startswith("#!/bin/bash\n")
        subprocess.run(["/bin/bash", "-n", str(hook)], check=True)  # parses
    agent_config = "/opt/aws/amazon-cloudwatch-agent/etc/triggers-app-log.json"
    assert agent_config in (ROOT / ".platform/hooks/postdeploy/01_stream_app_log.sh").read_text()


def test_the_procfile_command_and_the_wsgi_application_import() -> None:
    (line,) = (ROOT / "Procfile").read_text().splitlines()
    name, command = line.split(":", 1)
    assert name == "web"
    assert shlex.split(command)[:3] == ["python", "-m", "triggers.serve"]
    module, attribute = APPLICATION.split(":")
    assert callable(getattr(importlib.import_module(module), attribute))


def _nginx(path: Path) -> list[dict[str, Any]]:
    # An Elastic Beanstalk include is a fragment: parsed as the body of its block.
    parsed = crossplane.parse(str(path), single=True, check_ctx=False, comments=False)
    assert parsed["status"] == "ok", parsed["errors"]
    directives: list[dict[str, Any]] = parsed["config"][0]["parsed"]
    return directives


def test_nginx_takes_the_largest_body_the_service_takes_and_no_more() -> None:
    (directive,) = _nginx(NGINX / "triggers.conf")
    assert directive["directive"] == "client_max_body_size"
    kib = int(directive["args"][0].removesuffix("k"))
    assert kib * 1024 == settings.MAX_BATCH_BYTES


def _body(text: str) -> Any:
    """A `return` body as nginx sends it (its \\n escape, its $request_id), parsed."""
    return json.loads(text.replace("\\n", "\n").replace("$request_id", "0" * 32))


def test_nginx_answers_its_own_errors_in_the_envelope() -> None:
    directives = _nginx(NGINX / "elasticbeanstalk" / "triggers-errors.conf")
    pages = {
        int(code): target
        for d in directives
        if d["directive"] == "error_page"
        for code in d["args"][:-2]
        for target in [d["args"][-1]]
    }
    assert {400, 413, 414, 500, 502, 503, 504} <= set(pages)
    locations = {d["args"][-1]: d["block"] for d in directives if d["directive"] == "location"}
    for code, target in pages.items():
        block = {d["directive"]: d["args"] for d in locations[target]}
        headers = [d["args"] for d in locations[target] if d["directive"] == "add_header"]
        assert block["default_type"] == ["application/json"]
        assert ["X-Request-ID", "$request_id", "always"] in headers
        status, body = block["return"]
        envelope = _body(body)
        assert set(envelope["error"]) == {"code", "message", "details", "request_id"}
        assert envelope["error"]["code"] in vars(ErrorCode).values()
        assert int(status) >= 400, code
    too_large = _body({d["directive"]: d["args"] for d in locations[pages[413]]}["return"][1])
    assert too_large["error"]["details"]["max_bytes"] == settings.MAX_BATCH_BYTES
