"""One normalised view of a message's text, read by every judge.

Spammers dodge keyword lists by writing the same words differently: full-width or lookalike letters
(ｖｘ, Cyrillic а), letters spaced out or split by emoji (w e i x i n, 加🌹微🌹信), one mark strewn
through the whole message (兼✨职✨日✨结, h·t·t·p·s), a glyph standing for 微 (√信), traditional
characters (微信號), homophones and pinyin (喂心, weixin), phone numbers in Chinese numerals (幺三八…,
壹叁捌…, ①③⑧) and links written with 点 or 。 for the dot. `normalize` undoes these once, so each
detector's patterns stay plain. The view keeps the spaces between real words (English reads as
words); drop whitespace for the compact view. Tables are built at first use, never at import.
"""
from __future__ import annotations

import unicodedata
from functools import cache, lru_cache
from itertools import groupby

from agent import patterns
from agent.textnorm import chars, lexicon

__all__ = ["normalize", "compact"]

# spacers that split the characters of one word: "w e i x i n", "1*3*8", "一 三 八"
_SPACER_CHARS = frozenset(" *~|·•")
# what separates two Chinese characters carries nothing ("加 微 信", "加*微*信", "加.微.信"); between a
# Chinese character and a digit only spacers do ("电话 1 三 8"). Not _ or -: ids keep theirs ("a零零_零").
_SEP_CHARS = frozenset(" *~|·•./\\=#")
# a dot written as 点, 。, (dot) or [.] between domain labels
_DOT_WORD = r"\s*(?:点|。|\(点\)|\(dot\)|\[dot\]|\[\.\]|\(\.\)|\sdot\s)\s*"
_DOMAIN = patterns.compile(rf"[a-z0-9][a-z0-9-]*(?:(?:\.|{_DOT_WORD})[a-z0-9][a-z0-9-]*)*{_DOT_WORD}[a-z]{{2,}}\b")
_DOT_SEP = patterns.compile(_DOT_WORD)
_PHONE = patterns.compile(r"1[3-9][0-9]{9}")
# a mark strewn through a message: at least this many times, between at least this share of its letters
SPRINKLED_MIN = 5
SPRINKLED_SHARE = 0.2
SENTENCE_MARK_SHARE = 0.6  # the marks of sentences and lists are dense in ordinary text: strewn only past this
_SENTENCE_MARKS = frozenset("，。、；：？！,.;:?!\"'“”‘’()（）【】《》[]<>")
# before 信, one symbol or Bopomofo glyph standing for 微, with an id after it (√信, 🅥信, ㄨ信: abc123):
# nobody writes a glyph there but to dodge a list of 微信's look-alikes
_STAND_IN_CATEGORIES = frozenset({"So", "Sm", "Sk"})
_ID_AFTER = patterns.compile(r"\s*[:：]?\s*[A-Za-z0-9_-]{4,}")
_ID = patterns.compile(r"[A-Za-z0-9_-]{4}")
_LOOKALIKE_DIGITS = {"o": "0", "i": "1", "l": "1"}


@cache
def _t2s():
    import opencc  # the C++ converter; loaded with the first message that needs it

    return opencc.OpenCC("t2s")


@cache
def _traditional() -> frozenset[str]:
    """Characters OpenCC writes differently in simplified Chinese: a text without any is left alone
    (the converter is the costliest step on a short message)."""
    block = "".join(map(chr, range(0x3400, 0xA000)))
    simplified = _t2s().convert(block)
    return frozenset(t for t, s in zip(block, simplified) if t != s) if len(simplified) == len(block) else frozenset(block)


@cache
def _numeral_run() -> patterns.Pattern:
    digit = f"[0-9oil{''.join(lexicon.numerals())}]"
    return patterns.compile(f"{digit}{{3,}}(?:[ -]{digit}{{3,}})*")  # whole, or grouped "一三八 零零一三 …"


@cache
def _after_contact() -> patterns.Pattern:
    """A contact word, fillers, then an id with numerals in it ("abc五二零"), a number partly in numerals
    ("1三8…", "1零0 0000 …") or a run of digit-sounding characters ("巴巴伞溜久")."""
    numerals = "".join(lexicon.numerals())
    sounds = "".join(lexicon.sound_digits())
    return patterns.compile(
        rf"({lexicon.contact_source()}){lexicon.FILLER}*"
        rf"([a-z][a-z0-9_{numerals}-]*[{numerals}][a-z0-9_{numerals}-]*|[{sounds}]{{5,}}|"
        rf"[0-9{numerals}]*[{numerals}][0-9{numerals}]*(?:[ -][0-9{numerals}]{{3,}})*)"
    )


def _edge_run(word: str, edge: int) -> int:
    """How many letters/digits of one script (ASCII or not) `word` starts with (edge 0) or ends with
    (edge -1): "是1" ends with one ASCII digit."""
    seq = word if edge == 0 else word[::-1]
    if not seq or not seq[0].isalnum():
        return 0
    n = 0
    for c in seq:
        if not c.isalnum() or c.isascii() != seq[0].isascii():
            break
        n += 1
    return n


def _join_singles(s: str) -> str:
    """Three or more single letters, digits or Chinese characters in a row, split by spacers, are one
    word: "w e i x i n" → "weixin". A lone "a" or "I" between real words keeps its spaces."""
    if _SPACER_CHARS.isdisjoint(s):
        return s
    parts = ["".join(run) for _, run in groupby(s, _SPACER_CHARS.__contains__)]
    if parts and parts[0][0] in _SPACER_CHARS:
        parts.insert(0, "")  # keep the word, spacer, word, ... order
    words = parts[::2]
    if not any(len(w) == 1 for w in words):  # a run of three needs a one-character word in its middle
        return s
    # a gap joins two single characters: the last of "微信:1" and the first of "n: abc" count as single
    gap = [False] + [_edge_run(words[i - 1], -1) == 1 and _edge_run(words[i], 0) == 1 for i in range(1, len(words))] + [False]
    out = [words[0]]
    for i in range(1, len(words)):
        run = gap[i] and (gap[i - 1] or gap[i + 1])
        out.append(words[i] if run else parts[2 * i - 1] + words[i])
    return "".join(out)


def _cjk(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" or "\uf900" <= c <= "\ufaff"


def _drop_separators(s: str) -> str:
    """Separators between Chinese characters (and spacers between one and a digit) removed."""
    parts = ["".join(run) for _, run in groupby(s, _SEP_CHARS.__contains__)]
    out = parts[:1]
    for i in range(1, len(parts)):
        part = parts[i]
        if part[0] in _SEP_CHARS and 0 < i < len(parts) - 1:
            left, right = parts[i - 1][-1], parts[i + 1][0]
            if (_cjk(left) and _cjk(right)) or (_SPACER_CHARS.issuperset(part) and (
                    (_cjk(left) and right.isdigit()) or (left.isdigit() and _cjk(right)))):
                continue
        out.append(part)
    return "".join(out)


def _squeeze(s: str) -> str:
    s = _join_singles(" ".join(s.split()))
    if not s.isascii() and not _SEP_CHARS.isdisjoint(s):
        s = _drop_separators(s)
    return s


def _dot_after_label(s: str) -> bool:
    """A 点 or 。 right after an ASCII letter or digit (a space allowed): worth the domain pattern."""
    for dot in "点。":
        i = s.find(dot)
        while i != -1:
            before = s[max(i - 2, 0):i].strip()[-1:]
            if before.isascii() and before.isalnum():
                return True
            i = s.find(dot, i + 1)
    return False


def _domains(s: str) -> str:
    if not (_dot_after_label(s) or any(w in s for w in ("dot", "[.]", "(.)"))):
        return s
    from agent.moderation.links import find_links  # TLD-aware: only a real top-level domain makes a domain

    def dotted(m: patterns.Match) -> str:
        candidate = _DOT_SEP.sub(".", m.group(0))
        return candidate if find_links(candidate) else m.group(0)

    return _DOMAIN.sub(dotted, s)


def _read_digits(token: str, table: dict[str, str]) -> str:
    return "".join(table.get(c, c) for c in token)


def _lone_edge_numeral(token: str, numerals: dict[str, str]) -> bool:
    """One Chinese numeral at the edge of a digit run is a word, not a digit: "5000一个月", "一12345"."""
    found = [i for i, c in enumerate(token) if c in numerals]
    return len(found) == 1 and found[0] in (0, len(token) - 1)


def _numeral_runs(s: str) -> str:
    """Runs of five or more numerals/digits (with O/l lookalikes) read as digits, where that is safe:
    never inside an English word, and a run led by a lookalike letter only when it reads as a mobile number."""
    numerals = lexicon.numerals()
    if numerals.keys().isdisjoint(s) and (_LOOKALIKE_DIGITS.keys().isdisjoint(s) or sum(map(str.isdigit, s)) < 2):
        return s  # nothing to read: no Chinese numeral, and no O/l beside digits
    table = {**numerals, **_LOOKALIKE_DIGITS}
    out, last = [], 0
    for m in _numeral_run().finditer(s):
        token, start, end = m.group(0), m.start(), m.end()
        if (start and s[start - 1].isascii() and s[start - 1].isalpha()) or (end < len(s) and s[end].isascii() and s[end].isalpha()):
            continue
        groups = token.replace("-", " ").split(" ")
        whole = "".join(groups)
        letters = sum(c in _LOOKALIKE_DIGITS for c in whole)
        cn = sum(c in numerals for c in whole)
        if not (letters or cn) or _lone_edge_numeral(whole, numerals) or any(set(g) <= _LOOKALIKE_DIGITS.keys() for g in groups):
            continue
        phone = _PHONE.fullmatch(_read_digits(whole, table)) is not None
        if phone or (len(whole) - letters >= 5 and (letters == 0 or not whole[0].isalpha()) and letters <= len(whole) - letters):
            out.append(s[last:start] + _read_digits(token, table))
            last = end
    return "".join(out) + s[last:] if out else s


def _contact_numerals(s: str) -> str:
    """After a contact word, numerals inside an id and digit-sounding characters (巴 for 8) read as digits."""
    sounds, numerals = lexicon.sound_digits(), lexicon.numerals()
    if (numerals.keys().isdisjoint(s) and sum(map(sounds.__contains__, s)) < 5) or not lexicon.may_hold_contact(s):
        return s

    def read(m: patterns.Match) -> str:
        whole, handle = m.group(0), m.group(2)
        bare = handle.replace(" ", "").replace("-", "")
        if len(bare) < 5 or (_lone_edge_numeral(bare, numerals) and any(c.isascii() for c in bare)):
            return whole  # "微信一下", "abc123一起": a word after the handle, not a digit of it
        return whole[: len(whole) - len(handle)] + _read_digits(handle, sounds)

    return _after_contact().sub(read, s)


def _unsprinkled(s: str) -> str:
    """`s` without the marks strewn through it: a symbol or punctuation mark between a good share of
    its characters (兼✨职✨日✨结, h·t·t·p·s, a-n-y-o-n-e, 顺🈲便🈲推, 各、位、宝、妈) is there to break up
    every word a filter knows, so it is read as nothing. Ordinary use stays: a few slashes in
    "Linux/Mac", a nickname's bars, a name's middle dot, the commas and 、 of a list."""
    s = s.replace("\ufe0f", "")  # an emoji's presentation selector is no character of its own
    counts: dict[str, int] = {}
    for c in s:
        if not (c.isalnum() or c.isspace() or _cjk(c)):
            counts[c] = counts.get(c, 0) + 1
    letters = sum(1 for c in s if c.isalnum() or _cjk(c))
    for mark, n in counts.items():
        share = SENTENCE_MARK_SHARE if mark in _SENTENCE_MARKS else SPRINKLED_SHARE
        if n >= SPRINKLED_MIN and n >= share * (letters - 1):
            s = s.replace(mark, "")
    return s


def _stand_in_wechat(s: str) -> str:
    """`s` with a glyph standing for 微 before 信 (and an id after) read as 微信. Before the character
    table runs, which would drop the glyph as decoration and leave a bare 信."""
    out, i = [], 0
    while (at := s.find("信", i)) != -1:
        j = at - 1 - (at >= 2 and s[at - 1] == "\ufe0f")  # an emoji's presentation selector
        glyph = s[j] if j >= 0 else ""
        stands_in = glyph and (unicodedata.category(glyph) in _STAND_IN_CATEGORIES or "\u3100" <= glyph <= "\u312f")
        if stands_in and (j == 0 or s[j - 1].isspace() or _cjk(s[j - 1])) and _ID_AFTER.match(s, at + 1):
            out.append(s[i:j] + "微")
        else:
            out.append(s[i:at])
        out.append("信")
        i = at + 1
    return "".join(out) + s[i:]


def _sounded_channels(s: str) -> str:
    """`s` with two characters that sound like a channel's name (危辛, 旗娥; see lexicon.by_sound)
    read as the name when an id follows them: only there, so "一位新同学" stays as it is."""
    names, reading = lexicon.by_sound(), lexicon.readings()
    out, i = [], 0
    while i < len(s) - 1:
        name = names.get((reading.get(s[i], ""), reading.get(s[i + 1], "")))
        if name and _ID_AFTER.match(s, i + 2 + (s[i + 2:i + 3] == "号")):
            out.append(name)
            i += 2
            continue
        out.append(s[i])
        i += 1
    return "".join(out) + s[i:]


@lru_cache(maxsize=4096)  # one message is read by several judges (detectors, flood, handles)
def normalize(text: str) -> str:
    """The normalised view: marks strewn through the message and a glyph standing for 微 undone, then
    NFKC, lower case, invisible marks dropped, lookalikes and other digit forms read as ASCII,
    traditional → simplified, spaced-out words joined (word spaces kept), contact words' homophone and
    pinyin forms read as the word, 点/。 between domain labels read as a dot, and Chinese numerals in
    handle positions read as digits."""
    if not text:
        return ""
    s = unicodedata.normalize("NFKC", _unsprinkled(text))
    if not s.isascii():
        s = _stand_in_wechat(s) if "信" in s else s
        s = s.translate(chars.table())
        if not _traditional().isdisjoint(s):
            s = _t2s().convert(s)
    elif "^" in s or "`" in s:
        s = s.translate(chars.table())
    s = _squeeze(s.lower())
    if lexicon.may_hold_form(s):
        s = lexicon.canonical_pattern().sub(lambda m: lexicon.canonical(m.group(0)), s)
    if not s.isascii() and _ID.search(s):  # a name read by sound needs an id after it
        s = _sounded_channels(s)
    s = _domains(s)
    return _contact_numerals(_numeral_runs(s))


def compact(text: str) -> str:
    """The normalised view without whitespace: how Chinese reads once spacing tricks are undone."""
    return "".join(normalize(text).split())
