"""perf/config.yaml and the runner's safety rules for deployed environments."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devstack.localstack import ROOT
from perf import loadtest
from perf.loadconfig import Profile, load, seconds
from perf.loadtest import _selected, parse
from perf.stack import LoadStack, Target

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
    more = _selected(config, parse(["--scenario", "event_ingestion", "--vus", "16"]))[1]
    longer = _selected(config, parse(["--scenario", "event_ingestion", "--duration", "60s"]))[1]

    assert plain.name == "local"
    # never the profile's baseline: neither compared with it nor written over it
    assert (more.name, more.vus) == ("local-16vus-10s", 16)
    assert (longer.name, longer.duration) == ("local-8vus-60s", "60s")
    # and the figures given hold for every scenario, the profile's own rates included
    assert more.for_scenario("event_ingestion").rate is None


def test_scenarios_are_all_or_a_list_of_known_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse(["--scenario", "all"]).scenario == list(CONFIG.scenarios)
    chosen = parse(["--scenario", "event_ingestion, inbox_polling"]).scenario
    assert chosen == ["event_ingestion", "inbox_polling"]
    with pytest.raises(SystemExit):
        parse(["--scenario", "event_ingestion,nonsense"])
    assert "unknown scenario nonsense" in capsys.readouterr().err


def test_the_local_profile_offers_a_fixed_rate_that_reaches_the_scripts(tmp_path: Path) -> None:
    stack = LoadStack(Target("service", "http://127.0.0.1:1", None), None, "trg_x", None)
    local = CONFIG.profiles["local"]

    def env(name: str, profile: Profile) -> dict[str, str]:
        return loadtest._k6_env(
            stack.service, stack=stack, scenario=CONFIG.scenarios[name],
            profile=profile.for_scenario(name), report=tmp_path,
        )  # fmt: skip

    assert env("event_ingestion", local)["RATE"] == "100"
    assert env("batch_ingestion", local)["RATE"] == "20"
    assert env("event_ingestion", CONFIG.profiles["full"])["RATE"] == ""  # VUs, as fast as served
    assert local.rounds > 1  # the CPU verdict is a mean over rounds


def test_the_full_profile_is_the_task_lists_load_scenario_by_scenario() -> None:
    full = CONFIG.profiles["full"]

    shapes = {
        name: (full.for_scenario(name).vus, seconds(full.for_scenario(name).duration))
        for name in ("event_ingestion", "inbox_polling", "mixed_workload")
    }

    assert shapes == {
        "event_ingestion": (1000, 300),
        "inbox_polling": (500, 300),
        "mixed_workload": (1000, 600),
    }
    assert full.stress["max_vus"] > 2000
    assert full.throughput_thresholds
    assert not CONFIG.profiles["local"].throughput_thresholds


def test_targets_reach_the_scripts_from_the_config_only(tmp_path: Path) -> None:
    stack = LoadStack(Target("service", "http://127.0.0.1:1", None), None, "trg_x", None)
    scenario = CONFIG.scenarios["event_ingestion"]

    def env(profile: str) -> dict[str, str]:
        return loadtest._k6_env(
            stack.service, stack=stack, scenario=scenario,
            profile=CONFIG.profiles[profile], report=tmp_path,
        )  # fmt: skip

    assert env("local")["P95_MS"] == "100"
    assert env("local")["MIN_EVENTS_PER_S"] == ""  # not on a laptop
    assert env("full")["MIN_EVENTS_PER_S"] == "1000"
    # and no script holds a copy of a target
    scripts = [path.read_text() for path in (ROOT / "perf" / "scenarios").glob("*.js")]
    assert not [text for text in scripts if re.search(r"p\(95\)<\d", text)]


def test_deployed_environments_keep_connections_alive_and_the_local_one_does_not() -> None:
    assert CONFIG.environments["staging"].keep_alive
    assert CONFIG.environments["production"].keep_alive
    assert not CONFIG.environments["local"].keep_alive


def test_deployed_environments_clean_up_and_production_seeds_little() -> None:
    production = CONFIG.environments["production"]
    assert production.max_seed_events is not None
    for profile in CONFIG.profiles.values():
        assert profile.capped(production).seed_events <= production.max_seed_events
    assert production.clean_up
    assert CONFIG.environments["staging"].clean_up
    assert not CONFIG.environments["local"].clean_up


def test_each_scenario_sends_the_key_of_its_own_tenant_locally_and_the_one_key_remotely(
    tmp_path: Path,
) -> None:
    service = Target("service", "http://127.0.0.1:1", None)
    local = LoadStack(service, None, "trg_x", None, new_tenant_key=lambda name: f"trg_{name}")
    remote = LoadStack(service, None, "trg_x", None)

    def key(stack: LoadStack, name: str) -> str:
        return loadtest._k6_env(
            stack.service, stack=stack, scenario=CONFIG.scenarios[name],
            profile=CONFIG.profiles["local"].for_scenario(name), report=tmp_path,
        )["API_KEY"]  # fmt: skip

    # an inbox reads, and consumers lease, only what their own scenario wrote
    assert key(local, "inbox_polling") == "trg_inbox_polling"
    assert key(local, "competing_consumers") == "trg_competing_consumers"
    assert key(remote, "inbox_polling") == key(remote, "competing_consumers") == "trg_x"
