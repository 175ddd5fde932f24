"""The soak's reconciliation: what counts as lost, and what as the emulator's loss."""

from __future__ import annotations

from devstack.soak import KILL_DYNAMODB, Ledger, reconcile

KILLED_AT = 1_000.0


def _ledger(answered_at: dict[str, float]) -> Ledger:
    ledger = Ledger()
    for key, when in answered_at.items():
        ledger.sent[key] = "{}"
        ledger.answered[key] = f"id-{key}"
        ledger.answered_at[key] = when
    ledger.faults.append({"fault": KILL_DYNAMODB, "started": KILLED_AT, "took_s": 3.0})
    return ledger


def _stored(key: str) -> dict[str, object]:
    return {
        "event_id": {"S": f"id-{key}"},
        "payload": {"S": "{}"},
        "status": {"S": "pending"},
        "metadata": {"M": {"idempotency_key": {"S": key}}},
    }


def test_an_event_missing_long_after_a_kill_is_lost() -> None:
    ledger = _ledger({"kept": 990.0, "gone": KILLED_AT + 30})
    result = reconcile(ledger, [_stored("kept")])
    assert (result["lost"], result["lost_by_emulator_at_kill"]) == (1, 0)
    assert result["examples"]["lost"] == ["gone"]


def test_an_event_answered_just_before_the_emulator_died_is_counted_apart() -> None:
    ledger = _ledger({"kept": 990.0, "at-kill": KILLED_AT + 0.05, "before": KILLED_AT - 5})
    result = reconcile(ledger, [_stored("kept")])
    assert (result["lost"], result["lost_by_emulator_at_kill"]) == (1, 1)
    assert result["examples"]["lost_by_emulator_at_kill"] == ["at-kill"]
