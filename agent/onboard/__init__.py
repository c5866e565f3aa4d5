"""An operator's first steps: `steward init` writes a new group's files, `steward check` says what to fix."""
