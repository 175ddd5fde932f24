"""perf/config.yaml and the runner's safety rules for deployed environments."""

from __future__ import annotations

import pytest

from perf import loadtest
from perf.loadconfig import load, seconds
from perf.loadtest import _selected, parse

CONFIG = load()


@pytest.mark.parametrize(
    ("duration", "expected"), [("20s", 20), ("1m30s", 90), ("2h", 7200), ("0.5s", 0.5)]
)
def test_k6_durations_are_read(duration: str, expected: float) -> None:
    assert seconds(duration) == expected


@pytest.mark.parametrize("duration", ["", "10", "5 minutes"])
def test_a_bad_duration_is_refused(duration: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        seconds(duration)


def test_every_scenario_in_the_config_has_a_script() -> None:
    assert all(scenario.script.is_file() for scenario in CONFIG.scenarios.values())


@pytest.mark.parametrize("profile", list(CONFIG.profiles))
def test_production_caps_vus_and_the_whole_run(profile: str) -> None:
    production = CONFIG.environments["production"]
    assert production.max_vus is not None
    assert production.max_duration_seconds is not None

    capped = CONFIG.profiles[profile].capped(production)

    assert capped.vus <= production.max_vus
    assert capped.total_seconds <= production.max_duration_seconds
    stress = capped.stress
    assert stress["max_vus"] <= production.max_vus
    assert stress["peak_rate"] <= production.max_vus
    assert seconds(stress["climb"]) + seconds(stress["recovery"]) <= production.max_duration_seconds


def test_local_and_staging_are_not_capped() -> None:
    full = CONFIG.profiles["full"]

    assert full.capped(CONFIG.environments["staging"]) == full
    assert full.vus >= 1000


def test_production_is_refused_without_the_confirmation_flag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIGGERS_PRODUCTION_URL", "https://example.invalid")
    monkeypatch.setenv("TRIGGERS_PRODUCTION_API_KEY", "trg_secret")

    with pytest.raises(SystemExit, match="without --confirm-production"):
        loadtest.main(["--env", "production", "--scenario", "event_ingestion"])


def test_staging_shows_its_plan_and_will_not_run_unattended_without_yes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRIGGERS_STAGING_URL", "https://staging.example.invalid")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)

    with pytest.raises(SystemExit, match="pass --yes"):
        loadtest.main(["--env", "staging", "--profile", "full"])

    plan = capsys.readouterr().out
    assert "https://staging.example.invalid" in plan
    assert "up to 1000 VUs" in plan


def test_a_remote_environment_needs_its_url_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIGGERS_STAGING_URL", raising=False)
    monkeypatch.delenv("TRIGGERS_STAGING_API_KEY", raising=False)

    with pytest.raises(SystemExit, match="Set TRIGGERS_STAGING_URL and TRIGGERS_STAGING_API_KEY"):
        loadtest.main(["--env", "staging", "--yes"])


def test_overridden_vus_or_duration_are_a_profile_of_their_own() -> None:
    config = load()
    plain = _selected(config, parse(["--scenario", "event_ingestion", "--profile", "local"]))[1]
    more = _selected(config, parse(["--scenario", "event_ingestion", "--vus", "8"]))[1]
    longer = _selected(config, parse(["--scenario", "event_ingestion", "--duration", "60s"]))[1]

    assert plain.name == "local"
    # never the profile's baseline: neither compared with it nor written over it
    assert (more.name, more.vus) == ("local-8vus-20s", 8)
    assert (longer.name, longer.duration) == ("local-4vus-60s", "60s")
