"""`make loadtest-report`: one static HTML page of the load runs' history, a row of trend
charts per scenario (p95, requests/s, CPU per request as a ratio to the reference,
DynamoDB calls and capacity units per request by endpoint) over the runs, each labelled
with its commit.

    .venv/bin/python -m perf.history_report [--history perf/history] [--out FILE]

Charts are plotly's (installed by `make install`); its JavaScript is written into the
page itself, so the page needs no network to be viewed.
"""

from __future__ import annotations

import argparse
import html
import statistics
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from perf.history import HISTORY, read

__all__ = ["render"]

REPORT = Path(__file__).with_name("reports") / "history.html"
_PANELS = (
    "p95 (ms)",
    "requests/s",
    "CPU per request / reference's",
    "DynamoDB calls per request",
    "capacity units per request",
)


def _median(rounds: list[dict[str, Any]], metric: str) -> float | None:
    values = [r[metric] for r in rounds if r.get(metric) is not None]
    return statistics.median(values) if values else None


def _figure(title: str, runs: list[dict[str, Any]]) -> go.Figure:
    labels = [f"{run['when']} {run['commit']}" for run in runs]
    figure = make_subplots(rows=1, cols=len(_PANELS), subplot_titles=_PANELS)
    for column, metric in enumerate(("p95_ms", "requests_per_s", "cpu_ratio"), start=1):
        values = [_median(run["rounds"], metric) for run in runs]
        figure.add_trace(
            go.Scatter(x=labels, y=values, mode="lines+markers", name=metric, showlegend=False),
            row=1,
            col=column,
        )
    for column, field in enumerate(("dynamodb_calls", "dynamodb_capacity"), start=4):
        per_endpoint = [run.get(field, {}) for run in runs]  # older runs have no capacity
        for endpoint in sorted({endpoint for costs in per_endpoint for endpoint in costs}):
            figure.add_trace(
                go.Scatter(
                    x=labels,
                    y=[costs.get(endpoint) for costs in per_endpoint],
                    mode="lines+markers",
                    name=endpoint,
                    legendgroup=endpoint,
                    showlegend=column == 4,
                ),
                row=1,
                col=column,
            )
    figure.update_layout(title=title, height=360, margin={"t": 80})
    figure.update_xaxes(showticklabels=False)
    return figure


def render(history: dict[tuple[str, str, str], list[dict[str, Any]]]) -> str:
    """The page: a title and a row of charts per (environment, scenario, profile)."""
    sections = []
    for (environment, scenario, profile), runs in sorted(history.items()):
        title = f"{scenario} — {profile} profile, {environment} ({len(runs)} runs)"
        chart = _figure(title, runs).to_html(full_html=False, include_plotlyjs=False)
        latest = runs[-1]
        sections.append(
            f"<section><h2>{html.escape(title)}</h2>{chart}"
            f"<p>latest: {html.escape(latest['when'])} at {html.escape(latest['commit'])}, "
            f"{'passed' if latest['ok'] else 'FAILED'}</p></section>"
        )
    body = "".join(sections) or "<p>No runs recorded yet: run `make loadtest`.</p>"
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Load test history</title>"
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head>"
        f"<body><h1>Load test history</h1>{body}</body></html>"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--history", type=Path, default=HISTORY)
    parser.add_argument("--out", type=Path, default=REPORT)
    options = parser.parse_args()
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(render(read(options.history)))
    print(f"report: {options.out}")


if __name__ == "__main__":
    main()
