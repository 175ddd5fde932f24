"""Rotating DJANGO_SECRET_KEY without invalidating a cursor or lease token a client holds.

The key signs inbox cursors and lease tokens; Django also accepts what a key in
SECRET_KEY_FALLBACKS signed (DJANGO_SECRET_KEY_FALLBACKS). On Elastic Beanstalk both come
from Secrets Manager secrets, `<TABLE_PREFIX>/django-secret-key` and
`<TABLE_PREFIX>/django-secret-key-fallbacks` (deploy/cloudformation/triggers.yaml), which
the platform reads when an instance starts and when the environment is updated. Instances
take new values a batch at a time and a new instance can start at any moment, so whatever
the secrets hold at any moment must accept every key an instance may be signing with.
A rotation is two steps, each followed by a refresh of every instance:

    stage     fallbacks = new,current   every instance learns to accept `new`;
                                        all of them still sign with `current`
    promote   key = new                 instances sign with `new` as they refresh;
                                        every state accepts `new` and `current`
              fallbacks = current       (`new` is the key now)

Where a rotation stands is in the secrets themselves: it is staged when the fallbacks
hold the key (after a newer one), half promoted when they start with it. Each write is
one `PutSecretValue`, so a step that stops half way is run again. What the key before
`current` signed stops being accepted at `stage`: a cursor survives one rotation.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Literal

from triggers.core.env import comma_separated

__all__ = [
    "KEY_LENGTH",
    "RotationError",
    "Secrets",
    "SigningKeys",
    "Stage",
    "Write",
    "promote",
    "secret_names",
    "stage",
]

KEY_LENGTH = 64  # alphanumeric: 381 bits, and no separator of the fallbacks list
_SHORTEST_KEY = 50  # Django's own check (security.W009) warns below it


class RotationError(Exception):
    """The secrets are not in a state the requested step starts from."""


class Stage(enum.Enum):
    SETTLED = "settled"  # no rotation under way
    STAGED = "staged"  # every instance is to accept the new key, then promote
    PROMOTED = "promoted"  # the new key signs; the fallbacks still list it


@dataclass(frozen=True)
class SigningKeys:
    key: str
    fallbacks: tuple[str, ...]

    @property
    def stage(self) -> Stage:
        if self.fallbacks and self.fallbacks[0] == self.key:
            return Stage.PROMOTED
        if self.key in self.fallbacks:
            return Stage.STAGED
        return Stage.SETTLED

    def accepts(self) -> set[str]:
        return {self.key, *self.fallbacks}


Which = Literal["key", "fallbacks"]


@dataclass(frozen=True)
class Write:
    """One PutSecretValue: the key's secret or the fallbacks' secret gets `value`."""

    which: Which
    value: str

    def applied_to(self, keys: SigningKeys) -> SigningKeys:
        if self.which == "key":
            return SigningKeys(key=self.value, fallbacks=keys.fallbacks)
        return SigningKeys(key=keys.key, fallbacks=tuple(comma_separated(self.value)))


def stage(keys: SigningKeys, *, new_key: str) -> list[Write]:
    """The writes that make every instance accept `new_key` (none if one is staged)."""
    if keys.stage is Stage.STAGED:
        return []
    if keys.stage is Stage.PROMOTED:
        raise RotationError("The last rotation is not finished: run promote first.")
    if new_key in keys.accepts():
        raise RotationError("The new key must differ from the keys in use.")
    return [Write("fallbacks", f"{new_key},{keys.key}")]


def promote(keys: SigningKeys) -> list[Write]:
    """The writes that make the staged key the one instances sign with."""
    if keys.stage is Stage.SETTLED:
        raise RotationError("No rotation is staged: run stage first.")
    writes: list[Write] = []
    if keys.stage is Stage.STAGED:
        new = keys.fallbacks[0]
        writes.append(Write("key", new))
        keys = writes[-1].applied_to(keys)
    older = [key for key in keys.fallbacks if key != keys.key]
    writes.append(Write("fallbacks", ",".join(older)))
    return writes


def secret_names(table_prefix: str) -> dict[Which, str]:
    """The secrets' names, as the CloudFormation template gives them."""
    return {
        "key": f"{table_prefix}/django-secret-key",
        "fallbacks": f"{table_prefix}/django-secret-key-fallbacks",
    }


def _checked(name: str, key: str) -> str:
    if len(key) < _SHORTEST_KEY or any(c.isspace() or c == "," for c in key):
        raise RotationError(
            f"{name} holds a key that is not one this rotation makes (at least "
            f"{_SHORTEST_KEY} characters, no comma or space); fix the secret first."
        )
    return key


class Secrets:
    """The two secrets of one environment, through a Secrets Manager client."""

    def __init__(self, client: Any, *, table_prefix: str) -> None:
        self._client = client
        self.names = secret_names(table_prefix)

    def read(self) -> SigningKeys:
        key, fallbacks = (self._value(self.names[which]) for which in ("key", "fallbacks"))
        return SigningKeys(
            key=_checked(self.names["key"], key.strip()),
            fallbacks=tuple(
                _checked(self.names["fallbacks"], f) for f in comma_separated(fallbacks)
            ),
        )

    def _value(self, name: str) -> str:
        value: str = self._client.get_secret_value(SecretId=name)["SecretString"]
        return value

    def new_key(self) -> str:
        password: str = self._client.get_random_password(
            PasswordLength=KEY_LENGTH, ExcludePunctuation=True, IncludeSpace=False
        )["RandomPassword"]
        return password

    def apply(self, write: Write) -> None:
        self._client.put_secret_value(SecretId=self.names[write.which], SecretString=write.value)
