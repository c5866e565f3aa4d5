"""The owner's view of a group: counts recorded as the bot works, the funnel read from them, and the
weekly digest, /stats reply and operator report built on that one summary."""
