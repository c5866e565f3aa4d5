"""Drafts and posts live in the state package (agent.state.schedule); the schedule package reads them
under this name."""
from agent.state.schedule import OPEN, Draft, ScheduleStore

__all__ = ["OPEN", "Draft", "ScheduleStore"]
