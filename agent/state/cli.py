"""`steward db`: bring the schema up to date, or copy the state to another database."""
from __future__ import annotations

from pathlib import Path

import typer

from agent.cli_support import CONFIG_HELP, err, settings_or_exit

db_app = typer.Typer(help="The bot's state database: migrations, and moving it to PostgreSQL.", no_args_is_help=True)


@db_app.command()
def upgrade(config: Path = typer.Option(Path("config"), "--config", "-c", help=CONFIG_HELP)) -> None:
    """Run the migrations on the configured database (store.url, else the SQLite file)."""
    from agent.state.engine import StateError, make_engine, upgrade as migrate, url_of

    settings = settings_or_exit(config)
    try:
        engine = make_engine(url_of(settings.store_url))
        migrate(engine, alembic=True)
    except StateError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    typer.echo(f"{engine.url.render_as_string()}: schema up to date")
    engine.dispose()


@db_app.command()
def copy(to: str = typer.Option(..., "--to", help="Target database URL, e.g. postgresql+psycopg://steward@host/db "
                                                  "(password: ${VAR} from the environment, or PGPASSWORD)"),
         config: Path = typer.Option(Path("config"), "--config", "-c", help=CONFIG_HELP)) -> None:
    """Copy the configured state into an empty database (SQLite to PostgreSQL); then set store.url to it."""
    from agent.state.copy import NotEmpty, copy_state
    from agent.state.engine import StateError
    from agent.state.store import Store

    settings = settings_or_exit(config)
    try:
        source, target = Store(settings.store_url), Store(to)
    except StateError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    try:
        copied = copy_state(source, target)
    except NotEmpty as exc:
        err.print(f"[red]Not copied: {exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        source.close()
        target.close()
    for table, n in copied.items():
        typer.echo(f"{table}: {n}")
    typer.echo(f"copied {sum(copied.values())} rows; set store.url to use it")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
