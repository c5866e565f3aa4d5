"""The bot's state handle, kept in agent.state; most of the code base imports it under this name."""
from agent.state.store import Store

__all__ = ["Store"]
