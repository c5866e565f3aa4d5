"""Text → (command spec, arguments), by slash syntax or natural phrasing addressed to the bot.

Who may run it is decided elsewhere (permissions by contact id); this module only reads the text, so
a member's wording can never change what they are allowed to do.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from agent.commands.specs import BY_NAME, SPECS, CommandSpec
from agent.events import Message

_MENTION = re.compile(r"@\S+\s?")
_POLITE = re.compile(r"^(请|麻烦|帮我|帮忙|你)+")


@dataclass(frozen=True)
class Parsed:
    spec: CommandSpec
    text: str = ""  # free-text argument
    targets: tuple[str, ...] = ()  # contact ids of @mentioned members (bot excluded)
    slash: bool = False
    extra: dict = field(default_factory=dict)


@lru_cache(maxsize=1)
def _phrases() -> list[tuple[str, re.Pattern]]:
    data = yaml.safe_load(Path(__file__).with_name("phrases.yaml").read_text(encoding="utf-8"))
    return [(intent, re.compile(p, re.I)) for intent, pats in data.items() for p in pats]


def _slash(body: str) -> tuple[CommandSpec, str] | None:
    """'/kb add 内容' → (kb_add, '内容'); the longest matching slash word wins."""
    word = body[1:].strip()
    best = None
    for spec in SPECS:
        for s in spec.slash:
            if word.lower() == s or word.lower().startswith(s + " ") or word.startswith(s + "\n"):
                if best is None or len(s) > len(best[1]):
                    best = (spec, s)
    if best is None:
        return None
    return best[0], word[len(best[1]):].strip()


def parse(message: Message, bot_name: str = "") -> Parsed | None:
    """A command, or None when the text is not command-shaped for this message.

    Slash commands are commands from anyone. Natural phrasing counts only when the bot is addressed
    (@bot or a private chat), or when staff ask the bot directly ("帮我…") without @-mentioning a person.
    """
    text = message.text.strip()
    targets = tuple(m for m in message.mentions)
    body = _MENTION.sub(" ", text).strip()
    if body.startswith(("/", "／")):
        hit = _slash("/" + body[1:])
        if hit is None:
            return Parsed(BY_NAME["help"], slash=True, extra={"unknown": body.split()[0]})
        spec, arg = hit
        return Parsed(spec, arg, targets, slash=True)
    polite_staff = message.sender.is_staff and not message.mentions and _POLITE.match(body)
    if not (message.to_bot or polite_staff):
        return None
    core = _POLITE.sub("", body).strip()
    for intent, pattern in _phrases():
        found = pattern.search(core)
        if found:
            arg = found.groupdict().get("arg") or ""
            if intent in ("kick", "warn") and not targets:
                continue  # "踢出去" with nobody named is talk, not a command
            return Parsed(BY_NAME[intent], arg.strip(), targets, extra={"phrase": core})
    return None
