"""Prompts and fixed sentences as files under prompts/<lang>/<name>.txt, rendered strictly.

Keeping every user-facing sentence in files lets operators tune tone without touching code, and the
strict renderer turns a missing variable into an error at the first use instead of a reply with a
hole in it.
"""
from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

from agent.wording import fill


class MissingVariables(KeyError):
    """A template needs variables that were not given."""


class UnknownPrompt(FileNotFoundError):
    """No file for this prompt name in the requested language (nor in the fallback)."""


class Prompts:
    """Loads prompts/<lang>/<name>.txt; falls back to zh, the project's first language."""

    def __init__(self, root: Path | str, fallback: str = "zh"):
        self.root = Path(root)
        self.fallback = fallback

    @lru_cache(maxsize=256)
    def raw(self, name: str, lang: str) -> str:
        for candidate in (lang, self.fallback):
            path = self.root / candidate / f"{name}.txt"
            if path.is_file():
                return path.read_text(encoding="utf-8").strip("\n")
        raise UnknownPrompt(f"{self.root}/{lang}/{name}.txt: no such prompt file")

    def variables(self, name: str, lang: str) -> set[str]:
        fields = string.Formatter().parse(self.raw(name, lang))
        return {f for _, f, _, _ in fields if f}

    def render(self, name: str, lang: str, /, **values: object) -> str:
        missing = self.variables(name, lang) - values.keys()
        if missing:
            raise MissingVariables(f"prompt {lang}/{name}: missing {', '.join(sorted(missing))}")
        return fill(self.raw(name, lang), values)  # no doubled marks where a value meets the template
