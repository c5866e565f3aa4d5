"""One normalised view of a message's text, read by every judge.

Spammers dodge keyword lists by writing the same words differently: full-width or lookalike letters
(ｖｘ, Cyrillic а), letters spaced out or split by emoji (w e i x i n, 加🌹微🌹信), traditional
characters (微信號), homophones and pinyin (喂心, weixin), phone numbers in Chinese numerals (幺三八…,
壹叁捌…, ①③⑧) and links written with 点 or 。 for the dot. `normalize` undoes these once, so each
detector's patterns stay plain. The view keeps the spaces between real words (English reads as
words); drop whitespace for the compact view. Tables are built at first use, never at import.
"""
from __future__ import annotations

import unicodedata
from functools import cache

from agent import patterns
from agent.textnorm import chars, lexicon

__all__ = ["normalize", "compact"]

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SPACES = patterns.compile(r"\s+")
# separators between two Chinese characters carry nothing: "加 微 信", "加*微*信", "加-微-信"
_BETWEEN_CJK = patterns.compile(rf"([{_CJK}])[\s*~|·•_./\\=#-]+([{_CJK}])")
# three or more single letters or digits in a row, split by spaces or spacers: "w e i x i n", "1 3 8"
_SINGLES = patterns.compile(r"\b[a-z0-9](?:[ *~|·•]+[a-z0-9]\b){2,}")
_SPACER = patterns.compile(r"[ *~|·•]+")
# a dot written as 点, 。, (dot) or [.] between domain labels
_DOT_WORD = r"\s*(?:点|。|\(点\)|\(dot\)|\[dot\]|\[\.\]|\(\.\)|\sdot\s)\s*"
_DOMAIN = patterns.compile(rf"[a-z0-9][a-z0-9-]*(?:(?:\.|{_DOT_WORD})[a-z0-9][a-z0-9-]*)*{_DOT_WORD}[a-z]{{2,}}\b")
_DOT_SEP = patterns.compile(_DOT_WORD)
_PHONE = patterns.compile(r"1[3-9][0-9]{9}")
_LOOKALIKE_DIGITS = {"o": "0", "i": "1", "l": "1"}


@cache
def _t2s():
    import opencc  # the C++ converter; loaded with the first message that needs it

    return opencc.OpenCC("t2s")


@cache
def _numeral_run() -> patterns.Pattern:
    return patterns.compile(f"[0-9oil{''.join(lexicon.numerals())}]{{5,}}")


@cache
def _after_contact() -> patterns.Pattern:
    """A contact word, fillers, then either an id with numerals in it or a run of digit-sounding characters."""
    numerals = "".join(lexicon.numerals())
    sounds = "".join(lexicon.sound_digits())
    return patterns.compile(
        rf"({lexicon.contact_source()}){lexicon.FILLER}*([a-z][a-z0-9_{numerals}-]*[{numerals}][a-z0-9_{numerals}-]*|[{sounds}]{{5,}})"
    )


def _squeeze(s: str) -> str:
    s = _SPACES.sub(" ", s).strip()
    for _ in range(2):  # matches overlap on the shared character: "加 微 信" needs two passes
        s = _BETWEEN_CJK.sub(r"\1\2", s)
    return _SINGLES.sub(lambda m: _SPACER.sub("", m.group(0)), s)


def _domains(s: str) -> str:
    if not any(w in s for w in ("点", "。", "dot", "[.]", "(.)")):
        return s
    from agent.moderation.links import find_links  # TLD-aware: "3点com" is not a domain, "abc点com" is

    def dotted(m: patterns.Match) -> str:
        candidate = _DOT_SEP.sub(".", m.group(0))
        return candidate if find_links(candidate) else m.group(0)

    return _DOMAIN.sub(dotted, s)


def _read_digits(token: str, table: dict[str, str]) -> str:
    return "".join(table.get(c, c) for c in token)


def _numeral_runs(s: str) -> str:
    """Runs of five or more numerals/digits (with O/l lookalikes) read as digits, where that is safe:
    never inside an English word, and a run led by a lookalike letter only when it reads as a mobile number."""
    numerals = lexicon.numerals()
    table = {**numerals, **_LOOKALIKE_DIGITS}
    out, last = [], 0
    for m in _numeral_run().finditer(s):
        token, start, end = m.group(0), m.start(), m.end()
        if (start and s[start - 1].isascii() and s[start - 1].isalpha()) or (end < len(s) and s[end].isascii() and s[end].isalpha()):
            continue
        letters = sum(c in _LOOKALIKE_DIGITS for c in token)
        cn = sum(c in numerals for c in token)
        if not (letters or cn):
            continue
        digits = _read_digits(token, table)
        phone = _PHONE.fullmatch(digits) is not None
        if phone or (len(token) - letters >= 5 and (letters == 0 or not token[0].isalpha()) and letters <= len(token) - letters):
            out.append(s[last:start] + digits)
            last = end
    return "".join(out) + s[last:] if out else s


def _contact_numerals(s: str) -> str:
    """After a contact word, numerals inside an id and digit-sounding characters (巴 for 8) read as digits."""
    sounds = lexicon.sound_digits()

    def read(m: patterns.Match) -> str:
        whole, handle = m.group(0), m.group(2)
        return whole[: len(whole) - len(handle)] + _read_digits(handle, sounds)

    return _after_contact().sub(read, s)


def normalize(text: str) -> str:
    """The normalised view: NFKC, lower case, invisible marks dropped, lookalikes and other digit
    forms read as ASCII, traditional → simplified, spaced-out words joined (word spaces kept),
    contact words' homophone and pinyin forms read as the word, 点/。 between domain labels read as a
    dot, and Chinese numerals in handle positions read as digits."""
    if not text:
        return ""
    s = unicodedata.normalize("NFKC", text).translate(chars.table())
    if not s.isascii():
        s = _t2s().convert(s)
    s = _squeeze(s.lower())
    s = lexicon.canonical_pattern().sub(lambda m: lexicon.canonical(m.group(0)), s)
    s = _domains(s)
    return _contact_numerals(_numeral_runs(s))


def compact(text: str) -> str:
    """The normalised view without whitespace: how Chinese reads once spacing tricks are undone."""
    return _SPACES.sub("", normalize(text))
