"""`steward blocklist list|remove|export|import`: the operator's blocklist from the shell.

Export and import are one JSON file ({"entries": [{"contact_id", "reason", "evidence", ...}]}) so
operators can share lists; an imported entry is marked as such and only ever raises a case, never a
removal, whatever a group's `blocklist` says. A running bot sees these edits within a minute
(agent.state.blocklist.REFRESH_S).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from agent.cli_support import settings_or_exit

blocklist_app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                            help="The blocklist shared across your groups: list, remove, export, import.")
console = Console()
err = Console(stderr=True)
ConfigOpt = typer.Option(Path("config"), "--config", help="Folder holding settings.yaml and groups/.")
FORMAT = 1


def _store(config: Path, create: bool = False):
    """The state, or None when there is none yet and `create` is not asked (reading makes no file)."""
    from agent.store import Store

    settings = settings_or_exit(config)
    return Store(settings.store_url) if create or settings.has_state else None


def _entries(config: Path) -> list[dict]:
    from agent.state import blocklist

    store = _store(config)
    if store is None:
        return []
    try:
        return blocklist.entries(store)
    finally:
        store.close()


@blocklist_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="One JSON object, as export writes."),
          config: Path = ConfigOpt) -> None:
    """Every listed contact id: why, from which group, by whom, when."""
    rows = _entries(config)
    if as_json:
        print(json.dumps(_document(rows), ensure_ascii=False))
        return
    if not rows:
        console.print("The blocklist is empty.")
        return
    table = Table("contact id", "reason", "group", "by", "source", "listed", "evidence")
    for r in rows:
        table.add_row(r["contact_id"], r["reason"], r["group_id"] or "-", r["added_by"], r["source"],
                      r["ts"].strftime("%Y-%m-%d %H:%M"), ", ".join(r["evidence"]) or "-")
    console.print(table)


@blocklist_app.command("remove")
def remove(contact_id: str = typer.Argument(..., help="The contact id (wxid_…) to take off the list."),
           config: Path = ConfigOpt) -> None:
    """Take a contact id off the list (as /unblock does in a chat)."""
    from agent.state import blocklist

    store = _store(config)
    try:
        gone = store is not None and blocklist.remove(store, contact_id)
    finally:
        if store is not None:
            store.close()
    if not gone:
        err.print(f"{contact_id} is not on the blocklist.")
        raise typer.Exit(1)
    console.print(f"Removed {contact_id}.")


@blocklist_app.command("export")
def export(file: Path = typer.Argument(..., dir_okay=False, help="The JSON file to write."),
           config: Path = ConfigOpt) -> None:
    """Write the list to a JSON file another operator can import."""
    rows = _entries(config)
    file.write_text(json.dumps(_document(rows), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    console.print(f"Wrote {len(rows)} entries to {file}.")


@blocklist_app.command("import")
def import_(file: Path = typer.Argument(..., exists=True, dir_okay=False, help="A JSON file from export."),
            config: Path = ConfigOpt) -> None:
    """Add another operator's entries. They only ever raise a case for your owners; ids you listed
    yourself keep your own entry."""
    from agent.state import blocklist

    entries = read(file)
    store = _store(config, create=True)
    now = datetime.now(timezone.utc)
    try:
        added = sum(blocklist.add(store, e["contact_id"], e["reason"], e["evidence"], "", f"import:{file.name}",
                                  "import", now) for e in entries)
    finally:
        store.close()
    console.print(f"Imported {added} new entries from {file} ({len(entries) - added} were listed already).")


def read(file: Path) -> list[dict]:
    """The entries of an export file, checked: a bad file is one line naming it and the key."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _bad(file, f"not JSON ({exc})")
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        _bad(file, 'needs an "entries" list')
    out = []
    for i, e in enumerate(data["entries"]):
        if not isinstance(e, dict) or not isinstance(e.get("contact_id"), str) or not e["contact_id"].strip():
            _bad(file, f"entries[{i}].contact_id: a non-empty string is required")
        evidence = e.get("evidence", [])
        if not isinstance(evidence, list) or not all(isinstance(x, str) for x in evidence):
            _bad(file, f"entries[{i}].evidence: a list of message ids is required")
        out.append({"contact_id": e["contact_id"].strip(), "reason": str(e.get("reason") or "import"),
                    "evidence": evidence})
    return out


def _bad(file: Path, why: str):
    err.print(f"[red]{file}[/red]: {why}")
    raise typer.Exit(2)


def _document(rows: list[dict]) -> dict:
    return {"format": FORMAT, "entries": [
        {"contact_id": r["contact_id"], "reason": r["reason"], "evidence": r["evidence"], "group": r["group_id"],
         "source": r["source"], "listed": r["ts"].isoformat()} for r in rows]}


def register(app: typer.Typer) -> None:
    app.add_typer(blocklist_app, name="blocklist", help="The blocklist shared across your groups.")
