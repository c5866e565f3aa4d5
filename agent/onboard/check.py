"""`steward check`: everything an operator can get wrong before `steward run`, each with what to fix.

Config errors come first (nothing else can be checked without a valid config). Then each group's
knowledge (a folder with nothing to answer from, files that are not text, files the index does not
read) and its room (bound in config, by /bind, or not bindable at all), then the puppet connection
settings. Errors stop the bot from working as configured; warnings are worth knowing.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    level: Level
    where: str
    what: str
    fix: str = ""
    config: bool = False  # the config could not be loaded (exit 2, as every command does)


def check(config_dir: Path, env: dict[str, str] | None = None) -> list[Finding]:
    """Every finding, in a stable order; empty when all is well."""
    from agent import envfile
    from agent.settings import ConfigError, load_settings

    if env is None:
        envfile.load(config_dir)
        env = dict(os.environ)
    try:
        settings = load_settings(config_dir, env=env)
    except ConfigError as exc:
        return [Finding("error", line.partition(": ")[0], line.partition(": ")[2],
                        "edit the file; every key is explained in the file `steward init` writes", config=True)
                for line in str(exc).splitlines()]
    findings: list[Finding] = []
    if not settings.groups:
        findings.append(Finding("error", str(settings.groups_dir), "no group files",
                                "run `steward init` to write one"))
    knowledge = settings.kb.knowledge_dir
    for group in settings.groups.values():
        findings += _knowledge(knowledge / group.id, group.id)
    findings += _knowledge(knowledge / "shared", "shared", required=False)
    findings += _rooms(settings)
    if not env.get("WECHATY_PUPPET_SERVICE_ENDPOINT"):
        findings.append(Finding("warning", "WECHATY_PUPPET_SERVICE_ENDPOINT", "not set: `steward run` cannot "
                                "reach WeChat", f"set it (and the token) in {config_dir / '.env'}"))
    return findings


def _knowledge(folder: Path, scope: str, required: bool = True) -> list[Finding]:
    from agent.kb.ingest import SUFFIXES, NotText, decode, knowledge_files

    if not folder.is_dir():
        return [Finding("warning", str(folder), "missing: the group answers from knowledge/shared/ only",
                        "create it and put .md or .txt files in it")] if required else []
    files = knowledge_files(folder)
    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        if any(part.startswith((".", "_")) for part in rel.parts):
            continue  # hidden files and the operator's own notes are skipped on purpose
        if rel.as_posix() not in files:
            out.append(Finding("warning", str(path), f"not read: only {', '.join(SUFFIXES)} files are knowledge",
                               "paste its text into a .md file"))
            continue
        try:
            text = decode(path.read_bytes())
        except NotText as exc:
            out.append(Finding("error", str(path), f"skipped, not text ({exc})",
                               "save it as UTF-8 text, or remove it"))
            continue
        except OSError as exc:
            out.append(Finding("error", str(path), f"cannot be read: {exc.strerror or exc}", "check its permissions"))
            continue
        if not text.strip():
            out.append(Finding("warning", str(path), "empty", "write the knowledge in it, or remove it"))
    if required and not files:
        out.append(Finding("warning", str(folder), f"no knowledge files: group {scope} can answer only from "
                           "knowledge/shared/", "add .md or .txt files (see _README.md there)"))
    return out


def _rooms(settings) -> list[Finding]:
    """Which groups have a room: in config, or bound by /bind or `steward rooms --bind` (the store)."""
    from agent.channels.binding import RoomBook
    from agent.store import Store

    store = Store(settings.store_url) if settings.has_state else Store()  # never create the data folder
    try:
        book = RoomBook(settings.groups, store)
        out = []
        for g in settings.groups.values():
            if book.room_of(g.id):
                continue
            if g.topic:
                out.append(Finding("warning", g.id, f"no room bound yet (a room named “{g.topic}” is only a candidate)",
                                   "an owner says /bind in the room, or run `steward rooms --live` then "
                                   "`steward rooms --bind ROOM_ID --group " + g.id + " --write`"))
            else:
                out.append(Finding("error", g.id, "neither room_id nor topic: no room can ever be bound",
                                   "set topic (the room's name) or room_id in its file"))
        return out
    finally:
        store.close()
