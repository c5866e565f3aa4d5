"""Theme guard: is a message on the group's theme, and when does drift deserve a nudge."""
