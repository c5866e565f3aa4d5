"""`steward theme test FOLDER`: how the theme guard would judge a recorded chat, before going live.

Replays the folder (the eval format) through the real pipeline with the group in preview mode, so the
drift policy runs with its real window, cooldown and caps, but sends nothing. Prints the judgement of
every message that reached the theme route and the nudges the policy would have sent.
"""
from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from agent.cli_support import settings_or_exit

console = Console()


def test(
    folder: Path = typer.Argument(..., exists=True, file_okay=False, help="A recorded group (eval format)."),
    config: Path = typer.Option(Path("config"), "--config", help="Config folder (defaults only)."),
    all_messages: bool = typer.Option(False, "--all", help="Also list messages judged on-topic."),
):
    """Judge every message of a recorded chat for the theme guard; list the nudges it would send."""
    from agent import eval as evaluation
    from agent.events import DecisionKind

    def preview(group):
        group.theme_policy.preview = True

    settings = settings_or_exit(config)
    table = Table(title=f"theme test · {folder.name}")
    for col in ("id", "sender", "message", "judged", "score", "policy"):
        table.add_column(col, overflow="fold")
    nudges = offtopic = judged = 0
    with evaluation.sandbox(folder, settings, configure=preview) as (app, group):
        for row, message, d in evaluation.replay(app, group, folder / "messages.jsonl"):
            if d is None or d.route != "theme":
                continue
            judged += 1
            off = d.kind == DecisionKind.NUDGE
            offtopic += off
            would = d.detail.get("suppressed", "").startswith("preview")
            nudges += would
            if not (off or all_messages):
                continue
            verdict = "OFF-TOPIC" if off else "glue" if d.detail.get("glue") else "on-topic"
            policy = "→ would nudge" if would else d.detail.get("suppressed", "")
            table.add_row(row["id"], group.name_of(row["sender"]), row["text"][:60], verdict,
                          str(d.detail.get("offtopic_score", "")), policy)
    console.print(table)
    console.print(f"{judged} messages reached the theme guard; {offtopic} judged off-topic; "
                  f"{nudges} nudge(s) would be sent with the group's current policy.")


def register(app: typer.Typer) -> None:
    theme_app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None, help="Try the theme guard on recorded chat.")
    theme_app.command("test")(test)
    app.add_typer(theme_app, name="theme")
