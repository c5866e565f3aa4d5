from datetime import datetime, timedelta

from agent.llm.budget import Budget
from agent.store import Store


class Clock:
    def __init__(self):
        self.now = datetime(2025, 3, 30, 9, 0)

    def __call__(self):
        return self.now


def test_a_low_budget_shortens_then_stops():
    budget = Budget(group_daily=1000, member_daily=None, monthly=None, short_fraction=0.5, clock=Clock())
    assert budget.allow("g", "m", 400) == "full"
    budget.spend("g", "m", 700)  # 300 left
    assert budget.allow("g", "m", 400) == "short"
    budget.spend("g", "m", 150)  # 150 left
    assert budget.allow("g", "m", 400) == "none"
    assert budget.allow("other-group", "m", 400) == "full"


def test_the_tightest_limit_decides():
    budget = Budget(group_daily=10_000, member_daily=500, monthly=100_000, clock=Clock())
    budget.spend("g", "greedy", 480)
    assert budget.remaining("g", "greedy") == 20
    assert budget.allow("g", "greedy", 300) == "none"
    assert budget.allow("g", "someone-else", 300) == "full"
    assert Budget(None, None, None).remaining("g", "m") is None


def test_days_and_months_roll_over():
    clock = Clock()
    budget = Budget(group_daily=1000, member_daily=None, monthly=1500, clock=clock)
    budget.spend("g", "m", 1000)
    assert budget.allow("g", "m", 10) == "none"
    clock.now += timedelta(hours=16)  # next day, still March: the day resets, the month does not
    assert budget.remaining("g", "m") == 500
    clock.now += timedelta(days=1)  # April
    assert budget.remaining("g", "m") == 1000


def test_spending_survives_a_restart_through_the_store():
    store, clock = Store(":memory:"), Clock()
    Budget(group_daily=1000, member_daily=400, monthly=5000, store=store, clock=clock).spend("g", "m", 300)
    again = Budget(group_daily=1000, member_daily=400, monthly=5000, store=store, clock=clock)
    assert again.remaining("g", "m") == 100
    assert again.remaining("g", "other") == 400
    again.spend("g", "other", 50)
    assert Budget(monthly=5000, store=store, clock=clock).remaining("x", "y") == min(10_000, 5000 - 350)
