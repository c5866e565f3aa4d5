"""`steward`: the operator's command line. Each command builds the app from config and does one job."""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click
import typer
from typer.core import TyperGroup

from agent.cli_support import config_exit, err, settings_or_exit

# Imported here: typer, rich and click only. Everything else is imported inside the command that uses it,
# so `steward --help` and every `--help` stay fast (tests/test_cli_imports.py holds that).

class _Commands(TyperGroup):
    """Config errors end every command the same way, whichever stage finds them (loading the files,
    building the model, opening the data folder)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as exc:
            # a ConfigError can only come from agent.settings, so it is loaded if one was raised
            settings = sys.modules.get("agent.settings")
            if settings is not None and isinstance(exc, settings.ConfigError):
                config_exit(exc)
            raise


# plain click help (rich_markup_mode=None): typer's rich help loads markdown-it and rich's traceback, which
# doubles the time `steward --help` takes; the sub-apps do the same
app = typer.Typer(cls=_Commands, help="群管家 Qun Steward: an offline-first assistant for WeChat group owners.",
                  no_args_is_help=True, rich_markup_mode=None)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug details to stderr.")):
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")


@app.command("eval")
def eval_cmd(
    folder: Path = typer.Argument(..., exists=True, file_okay=False,
                                 help="A labelled group folder: group.yaml, knowledge/*.md, messages.jsonl and commands.jsonl."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics JSON object only."),
    llm: str = typer.Option("none", "--llm", help="none, or 'config' to use the llm block of settings.yaml."),
    config: Path = typer.Option(Path("config"), "--config", help="Config folder (defaults only; groups come from FOLDER)."),
    details: Path | None = typer.Option(None, "--details", help="Write each message's decision as JSONL here."),
    every: bool = typer.Option(False, "--all", help="FOLDER holds group folders: score each, with the mean and the worst."),
    holdout_each: bool = typer.Option(False, "--holdout-each", help="With --all: refit the learned weights without each group before scoring it."),
):
    """Replay a labelled group through the real pipeline and score it."""
    from agent import eval as evaluation

    settings = settings_or_exit(config)
    rows: list | None = [] if details else None
    if every or holdout_each:
        from agent.eval_all import print_summary, run_all

        metrics = run_all(folder, settings, llm_mode=llm, holdout_each=holdout_each, details=rows,
                          progress=lambda note: err.print(f"[dim]{note}[/dim]"))
    else:
        metrics = evaluation.run(folder, settings, llm_mode=llm, details=rows)
    if details:
        details.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    if as_json:
        print(json.dumps(metrics, ensure_ascii=False))
        return
    if every or holdout_each:
        print_summary(metrics)
        return
    from agent.simulate import print_metrics

    print_metrics(metrics)


def _mount() -> None:
    """Sub-apps owned by their packages: knowledge base and the WeChat channel."""
    from agent.kb.cli import kb_app

    from agent.analytics.cli import register as register_analytics
    from agent.blocklist.cli import register as register_blocklist
    from agent.channels.cli import register as register_channels
    from agent.moderation.cli import register as register_moderation
    from agent.onboard.cli import register as register_onboard
    from agent.state.cli import register as register_db
    from agent.theme.cli import register as register_theme

    register_onboard(app)
    app.add_typer(kb_app, name="kb", help="Sync, search and inspect the knowledge base.")
    register_channels(app)
    register_moderation(app)
    register_analytics(app)
    register_theme(app)
    register_db(app)
    register_blocklist(app)



_mount()


if __name__ == "__main__":
    app()
