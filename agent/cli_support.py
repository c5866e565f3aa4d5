"""What every `steward` command shares: the config option's help, the error console, config errors as
one line and exit 2, loading settings. A leaf: the command modules
of each feature import it, and agent.cli mounts them (so nothing imports agent.cli back)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from agent.settings import ConfigError, Settings

CONFIG_HELP = "Config folder: settings.yaml, groups/ and .env (relative paths in it resolve from its parent)."

err = Console(stderr=True)


def config_exit(exc: ConfigError) -> NoReturn:
    """One plain line per problem (file: key: what is wrong), exit 2: an operator fixes it from that
    line, and a script can tell a config error from a crash."""
    for line in str(exc).splitlines():
        typer.echo(f"Config error: {line}", err=True)
    raise typer.Exit(2)


def settings_or_exit(config: Path) -> Settings:
    from agent import envfile, logmask
    from agent.settings import ConfigError, load_settings

    envfile.load(config)
    logmask.protect_environment()  # keys and tokens, from the environment or .env, never reach a log line
    try:
        return load_settings(config)
    except ConfigError as exc:
        config_exit(exc)
