"""The message as detectors read it: the normalised view of its text (agent.textnorm) and its kind.

Spammers dodge keyword lists with full-width or lookalike letters, spaced-out words, homophones,
pinyin and numerals; `folded` is the text with those undone, so each detector's patterns stay plain.
Quoted spans are set aside so a member quoting a bad word ("'傻逼'这种词会被警告吗") is not treated as
using it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from agent import patterns
from agent.events import Kind, Message
from agent.textnorm import normalize

_QUOTED = patterns.compile(r"[「『“\"‘'《]([^」』”\"’'》]{1,24})[」』”\"’'》]")
_IMAGE_CODE = patterns.compile(r"\[(图片|image|photo|动画表情)\]", re.I)


def fold(text: str) -> str:
    """The normalised view of `text` (word spaces kept); see agent.textnorm.normalize."""
    return normalize(text)


@dataclass(frozen=True)
class Text:
    """The message as detectors read it."""

    raw: str
    kind: Kind = Kind.TEXT
    to_bot: bool = False
    bot_name: str = ""

    @classmethod
    def of(cls, message: Message, bot_name: str = "") -> "Text":
        raw = message.text or ""
        if message.quote:  # a reply quoting someone else is judged on its own words only
            raw = raw.replace(message.quote, " ")
        return cls(raw=raw, kind=message.kind, to_bot=message.to_bot, bot_name=fold(bot_name))

    @cached_property
    def folded(self) -> str:
        return fold(self.raw)

    @cached_property
    def compact(self) -> str:
        """Folded with all whitespace removed: '加 微 信' reads as '加微信'."""
        return "".join(self.folded.split())

    @cached_property
    def unquoted(self) -> str:
        """Compact text with short quoted spans removed (mentions of a word, not uses of it)."""
        return _QUOTED.sub(" ", self.compact)

    @property
    def has_image(self) -> bool:
        return self.kind == Kind.IMAGE or bool(_IMAGE_CODE.search(self.folded))

    @property
    def addressed(self) -> bool:
        """Said to the bot: @-mentioned by the channel, or its name written as an @-mention."""
        return self.to_bot or bool(self.bot_name and f"@{self.bot_name}" in self.compact)
