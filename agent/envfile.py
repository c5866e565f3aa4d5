"""Secrets from `<config>/.env` (python-dotenv), so an operator need not export them in every shell.

Variables already in the environment win: a deployment's real environment (compose, systemd) is the
authority, the file a convenience. Values are never logged (agent.logmask masks them).
"""
from __future__ import annotations

from pathlib import Path


def load(config_dir: Path) -> Path | None:
    """Read `config_dir/.env` into os.environ if it exists; returns its path, or None."""
    path = Path(config_dir) / ".env"
    if not path.is_file():
        return None
    from dotenv import load_dotenv

    load_dotenv(path, override=False)
    return path
