"""Moderation: cheap deterministic detectors, rule articles, the strike ladder and case files.

The route (agent.routes.moderation) composes these; nothing here talks to a channel or a network.
The names below load on first use (PEP 562), so importing agent.moderation.cli for `steward --help`
does not load the detectors and their lexicons.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.moderation.detectors import Finding, detect
    from agent.moderation.flood import FloodGuard
    from agent.moderation.ladder import is_paused

_HOMES = {"Finding": "agent.moderation.detectors", "detect": "agent.moderation.detectors",
          "FloodGuard": "agent.moderation.flood", "is_paused": "agent.moderation.ladder"}
__all__ = ["Finding", "FloodGuard", "detect", "is_paused"]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
