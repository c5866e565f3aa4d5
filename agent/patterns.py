"""Linear-time regular expressions for member text.

Python's `re` backtracks: a pattern such as `\\d+\\s*\\d+元` takes seconds to minutes on a long
run of digits, and member messages can be arbitrarily long. Every pattern applied to text a
member can write is compiled here instead, onto google-re2, whose matching time is linear in
the input. `compile(pattern, flags)` accepts the stdlib's pattern syntax and flags and returns
a `Pattern` with the `re.Pattern` methods callers use.

Kept as in the stdlib: `\\d`, `\\w`, `\\s` (and their negations) are Unicode-aware here too (re2's
own are ASCII-only, so they are translated), `\\uXXXX` escapes, `\\Z`, and the flags I, M, S, X.
Differences that remain: `\\b`/`\\B` are ASCII word boundaries (so `\\bkick\\b` also matches
inside "请kick他", which suits mixed Chinese-English text), `$` without MULTILINE matches only
at the very end (not before a final newline), and lookarounds and backreferences are rejected
with `PatternError` — such patterns must be rewritten.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

import re2

__all__ = ["Pattern", "PatternError", "compile", "escape", "I", "IGNORECASE", "M", "MULTILINE",
           "S", "DOTALL", "X", "VERBOSE", "U", "UNICODE", "A", "ASCII"]

I = IGNORECASE = re.IGNORECASE
M = MULTILINE = re.MULTILINE
S = DOTALL = re.DOTALL
X = VERBOSE = re.VERBOSE
U = UNICODE = re.UNICODE
A = ASCII = re.ASCII

escape = re.escape
Match = Any  # re2's match object: group, groups, groupdict, start, end, span, expand, [n]


class PatternError(ValueError):
    """A pattern uses syntax that cannot run in linear time (or does not parse)."""


# Python's str-pattern classes, spelled for re2 (whose \d \w \s are ASCII-only).
_WORD = r"\p{L}\p{N}_"
_DIGIT = r"\p{Nd}"
_SPACE = r"\t\n\x0b\f\r \x1c-\x1f\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
_INSIDE = {"d": _DIGIT, "w": _WORD, "s": _SPACE}  # usable within [...]
_NEGATED = {"D": _DIGIT, "W": _WORD, "S": _SPACE}  # the complement of these classes


def _translate(source: str, flags: int) -> str:
    """Rewrite a stdlib pattern into equivalent re2 syntax, or raise PatternError."""
    ascii_classes = bool(flags & re.ASCII)
    verbose = bool(flags & re.VERBOSE)
    out: list[str] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == "\\":
            piece, i = _escape(source, i, ascii_classes, in_class=False)
            out.append(piece)
        elif c == "[":
            piece, i = _char_class(source, i, ascii_classes)
            out.append(piece)
        elif c == "(" and source.startswith("(?", i):
            head = source[i:i + 4]
            if head.startswith(("(?=", "(?!", "(?<=", "(?<!")) or head.startswith("(?P="):
                raise PatternError(f"lookaround/backreference is not linear-time: {source!r}")
            if head.startswith("(?#"):
                end = source.find(")", i)
                i = n if end < 0 else end + 1
                continue
            out.append(c)
            i += 1
        elif verbose and c in " \t\n\r\f\v":
            i += 1
        elif verbose and c == "#":
            end = source.find("\n", i)
            i = n if end < 0 else end + 1
        else:
            out.append(c)
            i += 1
    prefix = "".join(f for bit, f in ((re.I, "i"), (re.M, "m"), (re.S, "s")) if flags & bit)
    return (f"(?{prefix})" if prefix else "") + "".join(out)


def _escape(source: str, i: int, ascii_classes: bool, in_class: bool) -> tuple[str, int]:
    """Translate the escape at source[i] (a backslash); return the re2 text and the next index."""
    if i + 1 >= len(source):
        raise PatternError(f"pattern ends with a backslash: {source!r}")
    e = source[i + 1]
    if e in "uU":
        width = 4 if e == "u" else 8
        digits = source[i + 2:i + 2 + width]
        if len(digits) != width or not all(ch in "0123456789abcdefABCDEF" for ch in digits):
            raise PatternError(f"bad \\{e} escape in {source!r}")
        return f"\\x{{{digits}}}", i + 2 + width
    if e == "Z" and not in_class:
        return r"\z", i + 2
    if e.isdigit() and e != "0" and not in_class:
        raise PatternError(f"backreference is not linear-time: {source!r}")
    if not ascii_classes and e in _INSIDE:
        return (_INSIDE[e] if in_class else f"[{_INSIDE[e]}]"), i + 2
    if not ascii_classes and e in _NEGATED:
        if in_class:
            return "", i  # signals the caller: complement inside a class
        return f"[^{_NEGATED[e]}]", i + 2
    if not (e.isascii() and e.isalnum()):
        return f"\\x{{{ord(e):x}}}", i + 2  # an escaped literal; re2 rejects some, e.g. "\\中"
    return source[i:i + 2], i + 2


def _char_class(source: str, i: int, ascii_classes: bool) -> tuple[str, int]:
    """Translate the class starting at source[i] ('['). A positive class holding \\W, \\S or \\D
    becomes an alternation, since re2 cannot put a complement inside a class."""
    j = i + 1
    negated = j < len(source) and source[j] == "^"
    if negated:
        j += 1
    body: list[str] = []
    complements: list[str] = []
    first = True
    while j < len(source):
        c = source[j]
        if c == "]" and not first:
            break
        first = False
        if c == "\\":
            piece, nxt = _escape(source, j, ascii_classes, in_class=True)
            if nxt == j:  # a complement class such as \W
                complements.append(source[j + 1])
                j += 2
                continue
            body.append(piece)
            j = nxt
        elif c == "[":
            body.append(r"\[")  # stdlib reads a nested "[" as a literal (with a warning)
            j += 1
        else:
            body.append(c)
            j += 1
    else:
        raise PatternError(f"unterminated character class in {source!r}")
    end = j + 1
    inner = "".join(body)
    if not complements:
        return f"[{'^' if negated else ''}{inner}]", end
    if negated:
        raise PatternError(f"a negated class holding \\W, \\S or \\D is not supported: {source!r}")
    options = ([f"[{inner}]"] if inner else []) + [f"[^{_NEGATED[k]}]" for k in complements]
    return "(?:" + "|".join(options) + ")", end


class Pattern:
    """A compiled linear-time pattern with the methods of `re.Pattern` that callers use."""

    __slots__ = ("pattern", "flags", "_re")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        try:
            self._re = re2.compile(_translate(pattern, flags))
        except re2.error as e:
            raise PatternError(f"cannot compile {pattern!r}: {e}") from None

    def __repr__(self) -> str:
        return f"patterns.compile({self.pattern!r}, {self.flags})"

    @property
    def groups(self) -> int:
        return self._re.groups

    @property
    def groupindex(self) -> dict[str, int]:
        return self._re.groupindex

    def search(self, text: str, pos: int | None = None, endpos: int | None = None) -> Match | None:
        return self._re.search(text, pos, endpos)

    def match(self, text: str, pos: int | None = None, endpos: int | None = None) -> Match | None:
        return self._re.match(text, pos, endpos)

    def fullmatch(self, text: str, pos: int | None = None, endpos: int | None = None) -> Match | None:
        return self._re.fullmatch(text, pos, endpos)

    def finditer(self, text: str, pos: int | None = None, endpos: int | None = None) -> Iterator[Match]:
        return self._re.finditer(text, pos, endpos)

    def findall(self, text: str, pos: int | None = None, endpos: int | None = None) -> list[Any]:
        return self._re.findall(text, pos, endpos)

    def split(self, text: str, maxsplit: int = 0) -> list[str | None]:
        return self._re.split(text, maxsplit)

    def subn(self, repl: str | Callable[[Match], str], text: str, count: int = 0) -> tuple[str, int]:
        if isinstance(repl, str):
            # re2's template expansion mangles non-ASCII text, so templates expand through the
            # stdlib (on the short template only), and plain replacements skip expansion.
            if "\\" in repl:
                template = repl
                repl = lambda m: _expand(m, template)  # noqa: E731
            else:
                literal = repl
                repl = lambda m: literal  # noqa: E731
        return self._re.subn(repl, text, count)

    def sub(self, repl: str | Callable[[Match], str], text: str, count: int = 0) -> str:
        return self.subn(repl, text, count)[0]


def _expand(m: Match, template: str) -> str:
    """Expand a `\\1` / `\\g<name>` template against an re2 match like the stdlib does
    (the stdlib `re` here runs on the caller's short template, never on member text)."""
    def group(g: re.Match) -> str:
        key = g.group(1) or g.group(2)
        value = m.group(int(key) if key.isdigit() else key)
        return value or ""
    return re.sub(r"\\(\d{1,2})|\\g<(\w+)>", group, template)


def compile(pattern: str | Pattern, flags: int = 0) -> Pattern:  # noqa: A001 - mirrors re.compile
    """Compile `pattern` (stdlib syntax and flags) for linear-time matching."""
    if isinstance(pattern, Pattern):
        return pattern
    return _compiled(pattern, flags)


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str, flags: int) -> Pattern:
    """The module-level helpers are called with built patterns on every message: compile once."""
    return Pattern(pattern, flags)


def search(pattern: str, text: str, flags: int = 0) -> Match | None:
    return compile(pattern, flags).search(text)


def match(pattern: str, text: str, flags: int = 0) -> Match | None:
    return compile(pattern, flags).match(text)


def fullmatch(pattern: str, text: str, flags: int = 0) -> Match | None:
    return compile(pattern, flags).fullmatch(text)


def finditer(pattern: str, text: str, flags: int = 0) -> Iterator[Match]:
    return compile(pattern, flags).finditer(text)


def findall(pattern: str, text: str, flags: int = 0) -> list[Any]:
    return compile(pattern, flags).findall(text)


def split(pattern: str, text: str, maxsplit: int = 0, flags: int = 0) -> list[str | None]:
    return compile(pattern, flags).split(text, maxsplit)


def sub(pattern: str, repl: str | Callable[[Match], str], text: str, count: int = 0, flags: int = 0) -> str:
    return compile(pattern, flags).sub(repl, text, count)
