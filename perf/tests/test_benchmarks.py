"""perf/benchmarks.md's tables, from a made-up report."""

from __future__ import annotations

import json
from pathlib import Path

from perf.benchmarks import tables
from perf.tests.test_history import measured


def test_a_report_becomes_its_rows_and_its_costs_per_endpoint(tmp_path: Path) -> None:
    report = tmp_path / "20261202T100000Z-event_ingestion"
    report.mkdir()
    (report / "result.json").write_text(
        json.dumps(
            {
                "scenario": "event_ingestion",
                "rounds": [measured(30.0, 3.0).record(), measured(32.0, 3.3).record()],
                "dynamodb_calls_per_request": {"POST /v1/events": 1},
                "dynamodb_capacity_per_request": {"POST /v1/events": 3.0},
                "stress": None,
            }
        )
    )

    text = tables([report])

    assert "| event_ingestion | 1 | 15.0 | 30.0 | 60.0 | 100.00% | 200.0 |" in text
    assert "- event_ingestion: median CPU ratio 1.57" in text
    assert "- event_ingestion: `POST /v1/events` 1 / 3" in text
