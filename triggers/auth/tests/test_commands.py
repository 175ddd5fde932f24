"""create_api_key and revoke_api_key against DynamoDB Local, run in-process."""

from __future__ import annotations

import pytest
from django.core.management import CommandError

from devstack.testing import run_command
from triggers.auth.models import ApiKey
from triggers.auth.selectors import api_key_hash, api_key_identity
from triggers.auth.services import api_key_create
from triggers.core.errors import ValidationFailedError

pytestmark = pytest.mark.integration


def test_create_api_key_prints_the_key_last_and_stores_only_its_hash(tables: str) -> None:
    output = run_command("create_api_key", "--tenant", "cmd-tenant", "--name", "ci")

    raw_key = output.strip().splitlines()[-1]
    assert raw_key.startswith("trg_")
    assert len(raw_key) > 40
    record = ApiKey.get(api_key_hash(raw_key))
    assert record.tenant_id == "cmd-tenant"
    assert record.name == "ci"
    assert raw_key not in str(record.attribute_values)
    identity = api_key_identity(raw_key=raw_key)
    assert identity is not None
    assert identity.tenant_id == "cmd-tenant"


@pytest.mark.parametrize("tenant", ["", "has space", "x" * 65, "a#b"])
def test_bad_tenant_ids_are_refused_by_the_command_and_the_service(
    tables: str, tenant: str
) -> None:
    with pytest.raises(CommandError, match="tenant id is 1-64 characters"):
        run_command("create_api_key", "--tenant", tenant)
    with pytest.raises(ValidationFailedError):
        api_key_create(tenant_id=tenant, name="direct")


def test_revoke_api_key_revokes_and_is_safe_to_repeat(tables: str) -> None:
    raw_key = run_command("create_api_key", "--tenant", "cmd-tenant").strip().splitlines()[-1]

    first = run_command("revoke_api_key", "--key", raw_key)
    second = run_command("revoke_api_key", "--key", raw_key)

    assert "is revoked" in first
    assert "is revoked" in second
    assert raw_key not in first
    assert ApiKey.get(api_key_hash(raw_key)).revoked_at is not None


def test_revoke_by_prefix_or_all_of_a_tenants_keys(tables: str) -> None:
    def create(tenant: str) -> str:
        return run_command("create_api_key", "--tenant", tenant).strip().splitlines()[-1]

    def revoked() -> list[bool]:
        return [
            ApiKey.get(api_key_hash(key), consistent_read=True).revoked_at is not None
            for key in (first, second, other)
        ]

    first, second, other = create("prefix-tenant"), create("prefix-tenant"), create("other-t")

    by_prefix = run_command("revoke_api_key", "--tenant", "prefix-tenant", "--prefix", first[:8])
    assert f"{first[:8]}…" in by_prefix
    assert first not in by_prefix
    assert revoked() == [True, False, False]

    everything = run_command("revoke_api_key", "--tenant", "prefix-tenant", "--all")
    assert "2 key(s)" in everything
    assert revoked() == [True, True, False]
    with pytest.raises(CommandError, match="No key of tenant 'nobody' matches"):
        run_command("revoke_api_key", "--tenant", "nobody", "--all")
    with pytest.raises(CommandError, match="need --tenant"):
        run_command("revoke_api_key", "--all")


def test_revoke_unknown_key_fails_clearly(tables: str) -> None:
    with pytest.raises(CommandError, match="No such API key"):
        run_command("revoke_api_key", "--key", "trg_unknown")


def test_create_api_key_with_its_own_rate_limit(tables: str) -> None:
    output = run_command(
        "create_api_key", "--tenant", "cmd-tenant", "--rate", "2.5", "--burst", "7"
    )

    identity = api_key_identity(raw_key=output.strip().splitlines()[-1])
    assert identity is not None
    assert (identity.rate_limit_per_second, identity.rate_limit_burst) == (2.5, 7)


def test_a_key_without_its_own_rate_limit_has_none(tables: str) -> None:
    output = run_command("create_api_key", "--tenant", "cmd-tenant")

    identity = api_key_identity(raw_key=output.strip().splitlines()[-1])
    assert identity is not None
    assert (identity.rate_limit_per_second, identity.rate_limit_burst) == (None, None)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--rate", "0"), "rate limit is more than 0"),
        (("--rate", "-3"), "rate limit is more than 0"),
        (("--rate", "1e9"), "rate limit is more than 0"),
        (("--burst", "0"), "burst is 1 to"),
    ],
)
def test_bad_rate_limits_are_refused(tables: str, flags: tuple[str, str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run_command("create_api_key", "--tenant", "cmd-tenant", *flags)
