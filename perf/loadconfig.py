"""perf/config.yaml, read into typed objects: environments, profiles, scenarios."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CONFIG", "Config", "Environment", "Profile", "Scenario", "load", "seconds"]

CONFIG = Path(__file__).with_name("config.yaml")
_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?")


def seconds(duration: str) -> float:
    """k6's duration syntax ("1m30s", "20s", "2h") in seconds."""
    match = _DURATION.fullmatch(duration.strip())
    if not match or not duration.strip():
        raise ValueError(f"not a duration: {duration!r}")
    hours, minutes, secs = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(secs or 0)


@dataclass(frozen=True)
class Environment:
    name: str
    kind: str  # "local" or "remote"
    url_env: str | None = None
    api_key_env: str | None = None
    confirm: str | None = None  # None, "ask" or "flag"
    max_vus: int | None = None
    max_duration_seconds: float | None = None


@dataclass(frozen=True)
class Profile:
    name: str
    vus: int
    duration: str
    ramp_up: str
    ramp_down: str
    seed_events: int
    latency_thresholds: bool
    stress: dict[str, Any] = field(default_factory=dict)

    def capped(self, environment: Environment) -> Profile:
        """The profile within an environment's caps (production's)."""
        vus, duration = self.vus, self.duration
        if environment.max_vus is not None:
            vus = min(vus, environment.max_vus)
        limit = environment.max_duration_seconds
        if limit is not None and seconds(duration) > limit:
            duration = f"{int(limit)}s"
        stress = dict(self.stress)
        if environment.max_vus is not None:
            stress["max_vus"] = min(int(stress.get("max_vus", vus)), environment.max_vus)
        return Profile(
            self.name,
            vus,
            duration,
            self.ramp_up,
            self.ramp_down,
            self.seed_events,
            self.latency_thresholds,
            stress,
        )


@dataclass(frozen=True)
class Scenario:
    name: str
    p95_ms: float
    reference: bool = True  # measured against the reference in the same run

    @property
    def script(self) -> Path:
        return Path(__file__).with_name("scenarios") / f"{self.name}.js"


@dataclass(frozen=True)
class Config:
    environments: dict[str, Environment]
    profiles: dict[str, Profile]
    scenarios: dict[str, Scenario]


def load(path: Path = CONFIG) -> Config:
    raw = yaml.safe_load(path.read_text())
    environments = raw["environments"].items()
    return Config(
        environments={name: Environment(name=name, **values) for name, values in environments},
        profiles={name: Profile(name=name, **values) for name, values in raw["profiles"].items()},
        scenarios={name: Scenario(name=name, **value) for name, value in raw["scenarios"].items()},
    )
