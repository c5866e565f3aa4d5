"""agent.state.probation on a SQLite file and on a real PostgreSQL (e2e): a rejoin starts afresh but keeps
an owner's vouch, the compare-and-set agreement and vouch happen once, a case event lands with its decision."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.state import probation
from agent.store import Store
from pg import postgres, postgres_url, state_url  # noqa: F401  (fixtures)

T0 = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(state_url):
    s = Store(state_url)
    yield s
    s.close()


def test_probation_rows_and_events(store):
    probation.joined(store, "g", "u", "新人", T0, True)
    probation.spoke(store, "g", "u")
    probation.spoke(store, "g", "someone-else")  # no row: nothing to count
    assert probation.row(store, "g", "u")["messages"] == 1 and probation.row(store, "g", "someone-else") is None
    assert probation.agreed(store, "g", "u", T0 + timedelta(minutes=1))
    assert not probation.agreed(store, "g", "u", T0 + timedelta(minutes=2))  # once
    assert probation.trust(store, "g", "u", "owner", T0 + timedelta(minutes=3))
    assert not probation.trust(store, "g", "u", "owner", T0 + timedelta(minutes=4))
    assert probation.members(store, "g") == []  # vouched for
    probation.left(store, "g", "u")
    probation.joined(store, "g", "u", "新人", T0 + timedelta(days=1), False)  # left and came back: afresh,
    again = probation.row(store, "g", "u")
    assert (again["messages"], again["agree"]) == (0, False)
    assert (again["trusted_by"], again["trusted_ts"]) == ("owner", T0 + timedelta(minutes=3))  # but still vouched for
    assert probation.members(store, "g") == []
    assert not probation.agreed(store, "g", "u", T0 + timedelta(days=1, minutes=1))  # not asked this time
    case_id = store.open_case("g", "u", "link", None, "kick", T0 + timedelta(days=1, minutes=2))
    with store.deciding():
        probation.case_opened(store, "g", "u", case_id, T0 + timedelta(days=1, minutes=2))
        assert [e["event"] for e in probation.events(store, "g")].count("case") == 0  # held for the decision
        assert store.decided("m1", T0 + timedelta(days=1, minutes=2), "violation")
    events = probation.events(store, "g", T0, T0 + timedelta(days=2))
    assert [e["event"] for e in events] == ["join", "agree", "trust", "join", "case"]
    assert events[-1]["case_id"] == case_id and events[2]["by"] == "owner"
    assert probation.events(store, "g", T0 + timedelta(days=1), T0 + timedelta(days=2))[0]["event"] == "join"
    probation.left(store, "g", "u")
    assert probation.row(store, "g", "u") is None
    probation.joined(store, "g", "v", "另一个新人", T0 + timedelta(days=1), False)
    assert probation.row(store, "g", "v")["trusted_ts"] is None  # a vouch is for one contact id only
    probation.left(store, "g", "v")
