"""Command-line options shared by the `steward` commands (a module of its own: the command modules
import it while agent.cli is still mounting them)."""
from __future__ import annotations

CONFIG_HELP = "Config folder: settings.yaml, groups/ and .env (relative paths in it resolve from its parent)."
