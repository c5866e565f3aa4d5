"""Owners' commands: the command API features declare theirs with (api), the one list (catalog), parsing
(slash and natural phrasing) and the bot's own commands (basic)."""
