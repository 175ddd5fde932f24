"""How one test is split over k6 processes, and k6's percentile, on made-up numbers."""

from __future__ import annotations

from perf.segments import percentile, segment_options


def test_each_process_runs_its_own_segment_of_one_sequence() -> None:
    assert [options[:4] for options in segment_options(3)] == [
        ["--execution-segment", "0:1/3", "--execution-segment-sequence", "0,1/3,2/3,1"],
        ["--execution-segment", "1/3:2/3", "--execution-segment-sequence", "0,1/3,2/3,1"],
        ["--execution-segment", "2/3:1", "--execution-segment-sequence", "0,1/3,2/3,1"],
    ]


def test_percentiles_interpolate_between_the_closest_ranks_as_k6_does() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.5
    assert percentile(values, 0.95) == 95.05
    assert percentile([3.0], 0.95) == 3.0
    assert percentile([], 0.95) == 0.0
