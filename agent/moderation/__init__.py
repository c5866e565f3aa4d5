"""Moderation: cheap deterministic detectors, rule articles, the strike ladder and case files.

The route (agent.routes.moderation) composes these; nothing here talks to a channel or a network.
"""
from agent.moderation.detectors import Finding, detect
from agent.moderation.flood import FloodGuard
from agent.moderation.ladder import is_muted

__all__ = ["Finding", "FloodGuard", "detect", "is_muted"]
