"""`steward stats` and `steward report`: the funnel for operators, read straight from the state database
(no knowledge base, no model), so they run beside a live bot in a second or two."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Column, Table

from agent.cli_support import CONFIG_HELP, settings_or_exit

if TYPE_CHECKING:  # the rest loads inside the commands, so `steward --help` stays fast
    from agent.analytics.funnel import Summary
    from agent.settings import GroupConfig, Settings
    from agent.store import Store

out = Console()
err = Console(stderr=True)


def _open(config: Path, group: str | None) -> tuple[Settings, Store, list[GroupConfig]]:
    from agent.store import Store

    settings = settings_or_exit(config)
    if group is not None and group not in settings.groups:
        have = ", ".join(settings.groups) or "none"
        err.print(f"[red]No group {group!r} in {settings.groups_dir}[/red] (have: {have})")
        raise typer.Exit(2)
    if not settings.has_state:
        err.print(f"[red]No state database at {settings.db_path}[/red]: the bot has not recorded anything yet.")
        raise typer.Exit(1)
    groups = [settings.groups[group]] if group else list(settings.groups.values())
    return settings, Store(settings.store_url), groups


def _today(group: GroupConfig):
    from agent import clock

    return clock.now(group.timezone).date()


def show(s: Summary, group: GroupConfig, console: Console = out, llm=None) -> None:
    """Print one group's summary as rich tables (`llm`: LLMSettings, for the estimated cost)."""
    from agent.analytics import wording
    from agent.analytics.labels import labels

    w = labels(group.language)
    rate = "—" if s.answer_rate is None else f"{s.answer_rate:.0%}"
    figures = Table(title=group.name or group.id, caption=f"{s.since} – {s.until}", show_header=False)
    figures.add_column()
    figures.add_column(justify="right")
    for key, value in [("messages", s.messages), ("active", s.active), ("joined", s.total("members.joined")),
                       ("left", s.total("members.left")), ("asked", s.asked), ("answered", s.answered),
                       ("unknown", s.unknown), ("answer_rate", rate), ("offtopic", s.offtopic), ("nudges", s.nudges),
                       ("violations", sum(s.violations.values())), ("llm_calls", s.total("llm.calls")),
                       ("llm_tokens", s.total("llm.tokens"))]:
        figures.add_row(w[key], str(value))
    estimate = wording.cost(s.total("llm.tokens"), llm)
    if estimate:
        figures.add_row(w["llm_cost"], f"{llm.currency}{estimate}")
    console.print(figures)
    if s.cohorts:
        weeks = max(len(c.retained) for c in s.cohorts)
        cohorts = Table(w["week"], *[Column(h, justify="right") for h in (w["cohort_size"], *[f"+{n}" for n in range(weeks)])],
                        title=w["cohorts"])
        for c in s.cohorts:
            cohorts.add_row(c.week.isoformat(), str(c.members), *map(str, c.retained))
        console.print(cohorts)
    if s.top:
        top = Table(w["member"], Column(w["messages"], justify="right"), title=w["top"])  # names left, figures right
        for member, n in s.top:
            top.add_row(s.name(member), str(n))
        console.print(top)
    console.print(f"{w['silent_never']}: {len(s.silent_never)} · {w['silent_quiet']}: {len(s.silent_quiet)}")


def stats(
    group: str | None = typer.Option(None, "--group", "-g", help="Group id (default: every group)."),
    days: int = typer.Option(7, "--days", "-d", min=1, max=366, help="Days to cover, ending today."),
    config: Path = typer.Option(Path("config"), "--config", help=CONFIG_HELP),
):
    """Print the community funnel: activity, joins and leaves, answers, retention, top and silent members."""
    from agent.analytics.days import last_days
    from agent.analytics.funnel import summary

    settings, store, groups = _open(config, group)
    try:
        for g in groups:
            since, until = last_days(days, _today(g))
            show(summary(store, g, since, until), g, llm=settings.llm)
    finally:
        store.close()


def report(
    group: str = typer.Option(..., "--group", "-g", help="Group id."),
    out_dir: Path = typer.Option(..., "--out", "-o", file_okay=False, help="Folder to write the HTML page into."),
    days: int = typer.Option(30, "--days", "-d", min=1, max=366, help="Days to cover, ending today."),
    config: Path = typer.Option(Path("config"), "--config", help=CONFIG_HELP),
):
    """Write a self-contained HTML report (charts embedded) for one group. Its open questions leave out
    what the knowledge answers now and chatter."""
    from agent.analytics import report as reports
    from agent.app import offline_screen  # a throwaway app on the knowledge as it is on disk

    settings, store, groups = _open(config, group)
    try:
        with offline_screen(settings, groups[0].id) as screen:
            path = reports.write(store, groups[0], out_dir, _today(groups[0]), days, screen=screen)
    finally:
        store.close()
    out.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Mount `stats` and `report` on the main `steward` app."""
    app.command("stats")(stats)
    app.command("report")(report)
