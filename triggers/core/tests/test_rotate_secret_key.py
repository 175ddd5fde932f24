"""manage.py rotate_secret_key against moto's Secrets Manager, in-process, on secrets named
and made as the CloudFormation template makes them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import CommandError

from devstack.testing import run_command
from triggers.core.aws import aws_client
from triggers.core.env import comma_separated
from triggers.core.secret_key import KEY_LENGTH, secret_names

pytestmark = pytest.mark.integration

FIRST_KEY = "k" * KEY_LENGTH
FIRST_FALLBACK = "f" * KEY_LENGTH


@pytest.fixture
def environment(moto_url: str, settings: Any) -> Iterator[dict[str, str]]:
    """A fresh environment's two secrets; TABLE_PREFIX names them."""
    settings.TABLE_PREFIX = f"triggers-rotate-{uuid.uuid4().hex[:8]}"
    names = secret_names(settings.TABLE_PREFIX)
    client = aws_client("secretsmanager")
    client.create_secret(Name=names["key"], SecretString=FIRST_KEY)
    client.create_secret(Name=names["fallbacks"], SecretString=FIRST_FALLBACK)
    yield names
    for name in names.values():
        client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def held(names: dict[str, str]) -> tuple[str, list[str]]:
    client = aws_client("secretsmanager")
    key, fallbacks = (
        client.get_secret_value(SecretId=names[which])["SecretString"]
        for which in ("key", "fallbacks")
    )
    return key, comma_separated(fallbacks)


def test_stage_then_promote_rotates_the_key_and_keeps_the_old_one_accepted(
    environment: dict[str, str],
) -> None:
    # WHEN a rotation is staged
    staged = run_command("rotate_secret_key", "stage")
    key, fallbacks = held(environment)
    # THEN the key is unchanged and a new one, of the promised shape, is accepted too
    new = fallbacks[0]
    assert key == FIRST_KEY
    assert fallbacks == [new, FIRST_KEY]
    assert len(new) == KEY_LENGTH
    assert new.isalnum()
    assert "then run `rotate_secret_key promote`" in staged.splitlines()[-1]

    # WHEN it is promoted
    promoted = run_command("rotate_secret_key", "promote")
    # THEN the new key signs and the old one is accepted; no key was ever printed
    assert held(environment) == (new, [FIRST_KEY])
    assert promoted.splitlines()[-1].startswith(
        f"rotate_secret_key: {environment['key'].split('/')[0]} is settled, 1 fallback key(s)"
    )
    for output in (staged, promoted):
        assert FIRST_KEY not in output
        assert new not in output


def test_a_step_run_twice_changes_nothing_more(environment: dict[str, str]) -> None:
    run_command("rotate_secret_key", "stage")
    after_one = held(environment)

    again = run_command("rotate_secret_key", "stage")

    assert held(environment) == after_one
    assert "is staged (unchanged)" in again.splitlines()[-1]


def test_promote_without_a_staged_rotation_is_refused(environment: dict[str, str]) -> None:
    with pytest.raises(CommandError, match="No rotation is staged: run stage first"):
        run_command("rotate_secret_key", "promote")
    assert held(environment) == (FIRST_KEY, [FIRST_FALLBACK])


def test_a_dry_run_writes_nothing(environment: dict[str, str]) -> None:
    output = run_command("rotate_secret_key", "stage", "--dry-run")

    assert held(environment) == (FIRST_KEY, [FIRST_FALLBACK])
    assert f"put {environment['fallbacks']}" in output
    assert " would be staged," in output.splitlines()[-1]


def test_status_says_where_a_rotation_stands(environment: dict[str, str]) -> None:
    assert " is settled, 1 fallback key(s)" in run_command("rotate_secret_key", "status")
    run_command("rotate_secret_key", "stage")
    assert " is staged, 2 fallback key(s)" in run_command("rotate_secret_key", "status")


def test_secrets_that_do_not_exist_say_which_and_why(moto_url: str, settings: Any) -> None:
    settings.TABLE_PREFIX = "triggers-nowhere"
    with pytest.raises(CommandError, match="No secrets triggers-nowhere/django-secret-key and"):
        run_command("rotate_secret_key", "status")


def test_a_key_that_is_not_one_the_rotation_makes_is_refused_before_any_write(
    environment: dict[str, str],
) -> None:
    aws_client("secretsmanager").put_secret_value(
        SecretId=environment["fallbacks"], SecretString="short,keys"
    )
    with pytest.raises(CommandError, match="no comma or space"):
        run_command("rotate_secret_key", "stage")
    assert held(environment)[1] == ["short", "keys"]
