"""Catch-up summaries: what a member missed, from the group's own transcript (issue 17)."""
