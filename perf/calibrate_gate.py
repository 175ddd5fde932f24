"""Calibrates the load gate's CPU verdict on this machine: how often an unchanged build
fails it (false alarms) and how often a real CPU regression passes it.

    .venv/bin/python -m perf.calibrate_gate --unchanged 20 --slowed 10

Runs one scenario again and again on one local stack (DynamoDB Local and moto started
once; a fresh service and reference for every run), each run the profile's interleaved
rounds (or `--rounds`) as `make loadtest` runs them. A third of the runs are of a
slowed build: devstack's CpuBurnMiddleware spins, in every request, `--slowdown` (10 %)
of the CPU per request the first unchanged run measured, installed through the
service's environment (DEVSTACK_CPU_BURN_US), never through a branch in the service's
code. Slowed and unchanged runs take turns, so a drift of the machine weighs on both.

The unchanged runs are ordinary runs of this build: they are appended to the history
(perf/history), where `make loadtest-baseline` finds them. Each unchanged run is then
judged against a baseline made from the other unchanged runs (the `--history` nearest
in time, as a baseline recorded from that many runs would be); each slowed run against
the `--history` unchanged runs nearest to it. The rates, and every round's ratio, go to
perf/calibration/<date>-<scenario>.json; the table goes to stdout for perf/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from devstack.stack import local_stack
from perf import history
from perf.harness import machine
from perf.loadconfig import load
from perf.loadtest import _commit, history_line, run_scenario, service_commit
from perf.regression import cpu_noise, cpu_regression
from perf.stack import TABLE_PREFIX, load_stack

__all__ = ["Verdicts", "judge"]

CALIBRATION = Path(__file__).with_name("calibration")


@dataclass(frozen=True)
class Verdicts:
    false_alarms: int
    unchanged: int
    detected: int
    slowed: int

    def table(self) -> str:
        return (
            "| build | runs | failed the CPU verdict | rate |\n"
            "|---|---|---|---|\n"
            f"| unchanged | {self.unchanged} | {self.false_alarms} | "
            f"{self.false_alarms / max(1, self.unchanged):.0%} (false alarms) |\n"
            f"| 10 % slower | {self.slowed} | {self.detected} | "
            f"{self.detected / max(1, self.slowed):.0%} (detected) |"
        )


def _nearest(runs: Sequence[Sequence[float]], index: int, count: int) -> list[Sequence[float]]:
    """Up to `count` runs other than runs[index], the nearest in time first."""
    others = sorted((i for i in range(len(runs)) if i != index), key=lambda i: (abs(i - index), i))
    return [runs[i] for i in others[:count]]


def judge(
    unchanged: Sequence[Sequence[float]],
    slowed: Sequence[Sequence[float]],
    *,
    history: int,
    slowed_after: Sequence[int] | None = None,
) -> Verdicts:
    """The CPU verdict on each run, from per-round CPU ratios. An unchanged run is judged
    against up to `history` other unchanged runs, the nearest in time; a slowed run
    against the `history` unchanged runs nearest to it (`slowed_after[i]`: how many
    unchanged runs had run before slowed run i; all, when not given)."""
    false_alarms = 0
    for index, run in enumerate(unchanged):
        noise = cpu_noise(_nearest(unchanged, index, history))
        false_alarms += noise is not None and cpu_regression(run, noise) is not None
    detected = 0
    for index, run in enumerate(slowed):
        before = len(unchanged) if slowed_after is None else slowed_after[index]
        # the unchanged runs nearest in time: as if slotted in among them at `before`
        padded = [*unchanged[:before], [], *unchanged[before:]]
        noise = cpu_noise([r for r in _nearest(padded, before, history) if r])
        detected += noise is not None and cpu_regression(run, noise) is not None
    return Verdicts(false_alarms, len(unchanged), detected, len(slowed))


def _schedule(unchanged: int, slowed: int) -> list[bool]:
    """Which runs are slowed (True), spread evenly among the unchanged ones; the first
    run is unchanged (it measures the CPU the slowdown is a share of)."""
    total = unchanged + slowed
    marks = {round((i + 1) * total / (slowed + 1)) for i in range(slowed)} - {0}
    while len(marks) < slowed:  # rounding collided: the next free places
        marks.add(next(i for i in range(1, total) if i not in marks))
    return [i in marks for i in range(total)]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scenario", default="event_ingestion")
    parser.add_argument("--profile", default="local")
    parser.add_argument("--rounds", type=int, help="Default: the profile's.")
    parser.add_argument("--unchanged", type=int, default=20)
    parser.add_argument("--slowed", type=int, default=10)
    parser.add_argument("--slowdown", type=float, default=0.10, help="CPU added, as a share.")
    parser.add_argument("--history", type=int, default=10, help="Runs a baseline is made of.")
    parser.add_argument("--out", type=Path, default=CALIBRATION)
    parser.add_argument("--history-dir", type=Path, default=history.HISTORY)
    options = parser.parse_args()
    config = load()
    scenario = config.scenarios[options.scenario]
    profile = config.profiles[options.profile].for_scenario(scenario.name)
    unchanged: list[list[float]] = []
    slowed: list[list[float]] = []
    slowed_after: list[int] = []
    burn_us = 0
    with tempfile.TemporaryDirectory(prefix="triggers-calibrate-") as tmp:
        work = Path(tmp)
        with local_stack(work / "stores", settings={"TABLE_PREFIX": TABLE_PREFIX},
                         tables=False) as stores:  # fmt: skip
            for number, slow in enumerate(_schedule(options.unchanged, options.slowed)):
                service_env = {"DEVSTACK_CPU_BURN_US": str(burn_us)} if slow else {}
                with load_stack(
                    work / f"run-{number}", stores=stores.own_env, service_env=service_env
                ) as stack:
                    result = run_scenario(
                        stack,
                        scenario,
                        profile,
                        rounds=options.rounds or profile.rounds,
                        reports=work / "reports",
                        baselines=work / "no-baselines",
                    )
                ratios = [r for m in result.rounds if (r := m.cpu_ratio) is not None]
                cpu = [c for m in result.rounds if (c := m.cpu_ms_per_request) is not None]
                if slow:
                    slowed.append(ratios)
                    slowed_after.append(len(unchanged))
                else:
                    unchanged.append(ratios)
                    history.append(history_line(result, "local", profile.name), options.history_dir)
                if number == 0:
                    burn_us = round(statistics.median(cpu) * 1000 * options.slowdown)
                print(
                    f"run {number + 1}: {'slowed' if slow else 'unchanged'}, CPU ratio per "
                    f"round {', '.join(f'{r:.3f}' for r in ratios)}",
                    flush=True,
                )
    verdicts = judge(unchanged, slowed, history=options.history, slowed_after=slowed_after)
    noise = cpu_noise(unchanged)
    options.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    path = options.out / f"{stamp}-{scenario.name}.json"
    path.write_text(
        json.dumps(
            {
                "scenario": scenario.name,
                "profile": profile.name,
                "rounds": options.rounds or profile.rounds,
                "history": options.history,
                "slowdown": options.slowdown,
                "burn_us": burn_us,
                "commit": _commit(),
                "service_commit": service_commit(),
                "machine": machine(),
                "unchanged": unchanged,
                "slowed": slowed,
                "slowed_after": slowed_after,
                "noise": None if noise is None else noise.__dict__,
                "verdicts": verdicts.__dict__,
            },
            indent=2,
        )
        + "\n"
    )
    print(verdicts.table())
    if noise is not None:
        print(
            f"per-round spread {noise.within_sd:.4f}, between runs {noise.between_sd:.4f} "
            f"(natural log of the ratio); injected {burn_us} us a request"
        )
    print(f"figures: {path}")


if __name__ == "__main__":
    main()
