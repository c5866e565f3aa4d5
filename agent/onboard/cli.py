"""`steward init` and `steward check`, mounted by agent/cli.py with `register(app)`."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from agent.cli_support import CONFIG_HELP

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _shown(path: Path | str) -> str:
    """A path as the operator typed it: relative to the working folder when it is below it."""
    here = f"{Path.cwd()}/"
    return str(path).replace(here, "", 1) if str(path).startswith(here) else str(path)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("check")(check)


def init(
    group_id: str | None = typer.Option(None, "--id", help="Group id: letters, digits, _ . - (names the files)."),
    name: str | None = typer.Option(None, "--name", help="The group's name, as members know it."),
    topic: str | None = typer.Option(None, "--topic", help="The WeChat room's topic (群聊名称); default: the name."),
    language: str | None = typer.Option(None, "--language", help="zh or en: the language the bot speaks."),
    theme: str | None = typer.Option(None, "--theme", help="What the group is about, in one line."),
    owners: list[str] = typer.Option([], "--owner", metavar="ID[:NAME]",
                                     help="An owner's contact id (wxid_…), optionally :name. Repeat for more."),
    rules: list[str] = typer.Option([], "--rule", help="A group rule, one article per --rule, in order."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Ask nothing: take the flags, fail on what is missing."),
    force: bool = typer.Option(False, "--force", help="Replace an existing group file."),
    config: Path = typer.Option(Path("config"), "--config", help=CONFIG_HELP),
):
    """Start a new group: write config/groups/<id>.yaml (every key explained) and knowledge/<id>/_README.md."""
    from agent.onboard.init import InitError, NewGroup, parse_owner, write
    from agent.settings import ConfigError, Settings, load_settings

    try:
        settings = load_settings(config)
    except ConfigError:  # init may be what fixes an empty config folder: fall back to the default paths
        settings = Settings()
        base = config.resolve().parent
        settings.groups_dir, settings.kb.knowledge_dir = config / "groups", base / settings.kb.knowledge_dir

    def ask(value: str | None, question: str, default: str | None = None) -> str:
        if value is not None:
            return value
        if yes:
            if default is not None:
                return default
            err.print(f"[red]Missing {question.lower()}[/red]: pass it as a flag (see steward init --help).")
            raise typer.Exit(2)
        return typer.prompt(question, default=default)

    group_id = ask(group_id, "Group id (letters, digits, _ . -)")
    name = ask(name, "Group name", group_id)
    language = ask(language, "Language the bot speaks (zh/en)", "zh")
    theme = ask(theme, "Theme: what the group is about, in one line")
    topic = ask(topic, "The WeChat room's topic (群聊名称)", name)
    if not owners and not yes:
        console.print("Owners are matched by contact id (wxid_…). `steward rooms --live` lists them once "
                      "the bot's account is logged in; you can add more to the file later.")
        while entry := typer.prompt("Owner id[:name] (empty to finish)", default="", show_default=False):
            owners.append(entry)
    if not rules and not yes:
        while entry := typer.prompt(f"Rule {len(rules) + 1} (empty to finish)", default="", show_default=False):
            rules.append(entry)
    try:
        group = NewGroup(id=group_id, name=name, topic=topic, language=language, theme=theme,
                         owners=[parse_owner(o) for o in owners], rules=list(rules))
        path, note = write(group, settings.groups_dir, settings.kb.knowledge_dir, force=force)
    except InitError as exc:
        err.print(f"[red]Cannot write the group[/red]: {escape(str(exc))}")
        raise typer.Exit(2) from None
    console.print(f"wrote {_shown(path)}\nwrote {_shown(note)} (a note for you: files starting with _ are not "
                  f"indexed)\nNext: put knowledge files in {_shown(note.parent)}/, run `steward check`, then "
                  f"`steward chat --group {group_id}`.")


def check(config: Path = typer.Option(Path("config"), "--config", help=CONFIG_HELP)):
    """Validate the config and the knowledge and say what to fix. Exit 2 on config errors, 1 on other errors."""
    from agent.onboard.check import check as run_checks

    findings = run_checks(config)
    for f in findings:
        mark = "[red]error[/red]" if f.level == "error" else "[yellow]warning[/yellow]"
        console.print(f"{mark} {escape(_shown(f.where))}: {escape(f.what)}" + (f"\n    fix: {escape(f.fix)}" if f.fix else ""))
    errors = sum(f.level == "error" for f in findings)
    warnings = len(findings) - errors
    console.print(f"{errors} error(s), {warnings} warning(s)." if findings else "All good: config and knowledge check out.")
    if errors:
        raise typer.Exit(2 if any(f.config for f in findings) else 1)
