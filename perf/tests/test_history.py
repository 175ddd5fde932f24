"""The load runs' history and its page, on made-up runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from perf import history
from perf.history_report import render
from perf.regression import Measured


def measured(p95: float, cpu: float) -> Measured:
    return Measured(
        p50_ms=p95 / 2, p95_ms=p95, p99_ms=p95 * 2, requests_per_s=200.0, events_per_s=200.0,
        failed_rate=0.0, cpu_ms_per_request=cpu, reference_requests_per_s=250.0,
        reference_p95_ms=20.0, reference_cpu_ms_per_request=2.0,
    )  # fmt: skip


def run(when: str, commit: str, p95: float, calls: float, cpu_model: str = "x") -> dict[str, Any]:
    return history.entry(
        environment="local", scenario="event_ingestion", profile="local", when=when,
        commit=commit, service_commit=commit, machine={"cores": 2, "cpu": cpu_model},
        rounds=[measured(p95, 3.0), measured(p95 + 2, 3.2)],
        dynamodb_calls={"POST /v1/events": calls},
        dynamodb_capacity={"POST /v1/events": calls * 3}, ok=True,
    )  # fmt: skip


def test_runs_append_and_read_back_oldest_first(tmp_path: Path) -> None:
    history.append(run("2026-12-02T10:00:00Z", "bbb2222", 30.0, 1.0), tmp_path)
    history.append(run("2026-12-01T10:00:00Z", "aaa1111", 25.0, 1.0), tmp_path)

    runs = history.read(tmp_path)

    assert list(runs) == [("local", "event_ingestion", "local")]
    assert [r["commit"] for r in runs[("local", "event_ingestion", "local")]] == [
        "aaa1111",
        "bbb2222",
    ]
    line = runs[("local", "event_ingestion", "local")][0]
    assert line["rounds"][0]["cpu_ratio"] == 1.5
    assert (tmp_path / "local-event_ingestion-local.jsonl").is_file()


def test_the_page_draws_the_history_it_was_given_and_needs_no_network(tmp_path: Path) -> None:
    history.append(run("2026-12-01T10:00:00Z", "aaa1111", 25.0, 1.0), tmp_path)
    history.append(run("2026-12-02T10:00:00Z", "bbb2222", 31.5, 2.0), tmp_path)

    page = render(history.read(tmp_path))

    assert "event_ingestion — local profile, local (2 runs)" in page
    assert "aaa1111" in page
    assert "bbb2222" in page
    # the medians of each run's rounds are the points drawn: p95 26 then 32.5
    assert re.search(r'"y":\[26\.0,32\.5\]', page), "the p95 trend is not in the page"
    # calls then capacity units per request, by endpoint (plotly escapes "/" in its JSON)
    assert re.search(r'"name":"POST \\u002fv1\\u002fevents".*?"y":\[1\.0,2\.0\]', page)
    assert re.search(r'"name":"POST \\u002fv1\\u002fevents".*?"y":\[3\.0,6\.0\]', page)
    # plotly's own JavaScript is in the page: nothing is fetched when it is viewed
    assert "plotly.js" in page.lower()
    assert not re.search(r"<script[^>]+src=", page)


def test_an_empty_history_says_how_to_make_one() -> None:
    assert "run `make loadtest`" in render({})


def test_a_baseline_is_made_of_the_newest_runs_of_this_code_on_this_kind_of_machine() -> None:
    runs = [
        run("2026-12-01T10:00:00Z", "old1111", 25.0, 1.0),
        *[run(f"2026-12-02T1{i}:00:00Z", "new2222", 20.0 + i, 1.0) for i in range(3)],
        run("2026-12-02T15:00:00Z", "new2222", 99.0, 1.0, cpu_model="another"),
    ]

    chosen = history.unchanged_runs(
        runs, service_commit="new2222", machine={"cores": 2, "cpu": "x"}
    )

    assert [r[0].p95_ms for r in chosen] == [20.0, 21.0, 22.0]
    many = [run(f"2026-12-02T10:{i:02}:00Z", "new2222", float(i), 1.0) for i in range(30)]
    newest = history.unchanged_runs(
        many, service_commit="new2222", machine={"cores": 2, "cpu": "x"}
    )
    assert [r[0].p95_ms for r in newest] == [float(i) for i in range(20, 30)]
