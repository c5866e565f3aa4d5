"""`steward kb …`: sync the knowledge folders, try a search, show what is indexed."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agent.cli_support import CONFIG_HELP, settings_or_exit

kb_app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)  # plain help: fast
console = Console()
ConfigOpt = typer.Option(Path("config"), "--config", help=CONFIG_HELP)


def open_kb(config_dir: Path):
    """The persisted knowledge base the bot uses, built from settings."""
    from agent.kb.chroma import make_kb  # here: Chroma and the encoder load only for a kb command

    settings = settings_or_exit(config_dir)
    return settings, make_kb(settings, settings.chroma_dir)


def all_sources(settings, kb) -> dict:
    """Every folder under the knowledge directory, plus indexed scopes whose folder is gone (so they
    get emptied too)."""
    root = settings.kb.knowledge_dir
    sources = {d.name: d for d in sorted(root.iterdir()) if d.is_dir()} if root.is_dir() else {}
    return sources | {scope: root / scope for scope in kb.stats()["scopes"] if scope not in sources}


def group_sources(knowledge_dir: Path, group_id: str) -> dict[str, Path]:
    """A group sees its own folder and the shared one (those that exist)."""
    return {scope: knowledge_dir / scope for scope in (group_id, "shared") if (knowledge_dir / scope).is_dir()}


@kb_app.command()
def sync(config: Path = ConfigOpt) -> None:
    """Index every folder under the knowledge directory (only changed files are re-embedded)."""
    settings, kb = open_kb(config)
    _print_report(settings.kb.knowledge_dir, kb.sync(all_sources(settings, kb), progress=True))


def _print_report(root: Path, report) -> None:
    console.print(f"[bold]{root}[/]: {report}")
    for label, files in (("added", report.added), ("updated", report.updated), ("removed", report.removed),
                         ("[yellow]skipped[/]", report.skipped)):
        for f in files:
            console.print(f"  {label}: {escape(f)}")


@kb_app.command()
def watch(config: Path = ConfigOpt) -> None:
    """Keep the index in step with the knowledge folders: re-sync whenever a file changes (Ctrl-C stops).
    `steward run` does the same inside the bot."""
    from agent.kb.watch import watch_forever

    settings, kb = open_kb(config)
    root = settings.kb.knowledge_dir
    _print_report(root, kb.sync(all_sources(settings, kb), progress=True))
    console.print(f"watching {root} …")
    try:
        watch_forever(kb, root, lambda: all_sources(settings, kb), lambda r: _print_report(root, r))
    except KeyboardInterrupt:
        pass


@kb_app.command()
def search(query: str, group: str = typer.Option(..., "--group", "-g", help="Group id (its folder + shared)."),
           k: int = typer.Option(5, "-k", min=1, help="Hits to show."), config: Path = ConfigOpt) -> None:
    """Show what the bot would retrieve for a question in a group, with every score."""
    settings, kb = open_kb(config)
    scopes = list(group_sources(settings.kb.knowledge_dir, group)) or [group, "shared"]
    hits = kb.search(query, scopes, k=k)
    if not hits:
        console.print(f"No hits in {', '.join(scopes)}. Run `steward kb sync` first?")
        raise typer.Exit(1)
    table = Table(title=query, show_lines=False)
    for col in ("#", "fused", "dense", "bm25", "coverage", "file › heading", "snippet"):
        table.add_column(col, overflow="fold")
    for rank, h in enumerate(hits, start=1):
        where = " › ".join(p for p in (f"{h.scope}/{h.file}", h.heading) if p)
        snippet = h.text.replace("\n", " ")
        table.add_row(str(rank), f"{h.rrf:.4f}", f"{h.dense:.3f}", f"{h.bm25:.2f}",
                      f"{h.lexical_coverage:.2f}", where, snippet[:80] + ("…" if len(snippet) > 80 else ""))
    console.print(table)


@kb_app.command()
def stats(config: Path = ConfigOpt) -> None:
    """Files and chunks indexed per scope, when the last sync ran, and the files that are not text."""
    settings, kb = open_kb(config)
    info = kb.stats()
    chroma = settings.kb.chroma
    where = f"Chroma server {chroma.host}:{chroma.port}" if chroma.mode == "server" else str(settings.chroma_dir)
    table = Table(title=f"knowledge base {kb.collection.name} ({where}) — last sync {info['last_sync'] or 'never'}")
    for col in ("scope", "files", "chunks"):
        table.add_column(col)
    for scope, row in sorted(info["scopes"].items()):
        table.add_row(scope, str(row["files"]), str(row["chunks"]))
    table.add_row("[bold]total[/]", str(info["files"]), str(info["chunks"]))
    console.print(table)
    for where, why in not_text(all_sources(settings, kb), kb.indexed_files()):
        console.print(f"[yellow]skipped, not text[/]: {escape(where)}: {why}")


def not_text(sources: dict[str, Path], indexed: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """(scope/file, why) for the knowledge files sync skips. Only files missing from the index are read:
    an indexed file was text when it was synced."""
    from agent.kb.ingest import NotText, decode, knowledge_files

    found = []
    for scope, folder in sources.items():
        for rel, path in knowledge_files(folder).items():
            if (scope, rel) in indexed:
                continue
            try:
                decode(path.read_bytes())
            except NotText as exc:
                found.append((f"{scope}/{rel}", str(exc)))
    return found
