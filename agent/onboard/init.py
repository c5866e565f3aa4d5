"""`steward init`: a new group's config file and knowledge folder, from answers or flags.

The config file is written from group_template.yaml with every key present, the ones at their defaults
commented out, so an operator learns the whole vocabulary from the file itself. The knowledge folder
gets `_README.md`: the leading underscore keeps it out of the index (agent.kb.ingest skips such
names), so the note never becomes an answer.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

README_NAME = "_README.md"


class InitError(ValueError):
    """The answers cannot make a valid group; the message says which and why."""


@dataclass
class NewGroup:
    id: str
    theme: str
    owners: list[tuple[str, str]]  # (contact id, display name)
    name: str = ""
    topic: str = ""
    language: str = "zh"
    bot_name: str = ""
    description: str = ""
    rules: list[str] = field(default_factory=list)


def parse_owner(text: str) -> tuple[str, str]:
    """"wxid_abc:Ann" -> ("wxid_abc", "Ann"); the name is optional."""
    contact_id, _, name = text.strip().partition(":")
    if not contact_id.strip():
        raise InitError(f"owner {text!r}: give the contact id, optionally followed by :name")
    return contact_id.strip(), name.strip()


def _q(value: str) -> str:
    """A YAML scalar that reads back as exactly this string (JSON strings are YAML)."""
    return json.dumps(value, ensure_ascii=False)


def render(group: NewGroup) -> str:
    """The group file's text, checked against GroupConfig before anything is written."""
    import yaml
    from pydantic import ValidationError

    from agent.settings import GroupConfig

    if not group.owners:
        raise InitError("at least one owner (contact id) is needed: owners run commands and bind the room")
    default_bot = "小助手" if group.language == "zh" else "Steward"
    rules = "".join(f"\n  - text: {_q(r)}" for r in group.rules) if group.rules else " []"
    owners = "".join(f"\n  - id: {_q(i)}\n    name: {_q(n)}" for i, n in group.owners)
    template = resources.files(__package__).joinpath("group_template.yaml").read_text(encoding="utf-8")
    text = template.format(folder=group.id, id=_q(group.id), name=_q(group.name or group.id),
                           topic=_q(group.topic or group.name or group.id), language=group.language,
                           bot_name=_q(group.bot_name or default_bot), theme=_q(group.theme),
                           description=_q(group.description), rules=rules, owners=owners)
    try:
        GroupConfig.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InitError(problems) from None
    return text


def readme(group: NewGroup) -> str:
    template = resources.files(__package__).joinpath("knowledge_readme.txt").read_text(encoding="utf-8")
    return template.format(id=group.id, name=group.name or group.id)


def write(group: NewGroup, groups_dir: Path, knowledge_dir: Path, *, force: bool = False) -> tuple[Path, Path]:
    """Write config/groups/<id>.yaml and knowledge/<id>/_README.md; returns both paths. An existing
    group file is kept unless `force`: it may hold an owner's edits."""
    text = render(group)
    path = groups_dir / f"{group.id}.yaml"
    if path.exists() and not force:
        raise InitError(f"{path} exists already (pass --force to replace it)")
    groups_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    folder = knowledge_dir / group.id
    folder.mkdir(parents=True, exist_ok=True)
    note = folder / README_NAME
    if not note.exists():
        note.write_text(readme(group), encoding="utf-8")
    return path, note
