"""The injected CPU regression spends CPU, not time: a busy machine makes it last longer,
never cost less."""

from __future__ import annotations

import time

from devstack.slowdown import burn_cpu


def test_a_burn_spends_at_least_the_cpu_it_was_asked_for() -> None:
    before = time.thread_time()

    burn_cpu(0.02)

    assert time.thread_time() - before >= 0.02
