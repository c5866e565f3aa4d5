"""The words a handle hides behind and the characters a digit hides behind, loaded at first use.

Contact words and their homophone forms are data (words.yaml); their pinyin spellings, and the
characters that *sound* like a digit (巴 for 8, 久 for 9), come from the usual reading of every
character (readings.txt); Chinese numerals from `unicodedata.numeric`.

readings.txt is pypinyin's table reduced to what is read here: each character's first reading without
its tone, grouped by reading. Importing pypinyin's table costs the process 55 MB; the reduced file
costs about 3. `lexicon.rebuild()` rewrites it from pypinyin (a test checks that they agree).
"""
from __future__ import annotations

import unicodedata
from functools import cache
from importlib.resources import files
from pathlib import Path

import yaml

from agent import patterns

KINDS = ("wechat", "qq", "telegram", "phone", "any")
_DIGIT_READINGS = {"ling": 0, "yi": 1, "yao": 1, "er": 2, "san": 3, "si": 4, "wu": 5, "liu": 6, "qi": 7, "ba": 8, "jiu": 9}
_COMMON_NOT_NUMERALS = set("参參")  # numeric in Unicode (a form of 三) but a common word character
SPACERS = r"[ *~|·•.\-]"  # what may separate the syllables of a pinyin word
_NO_SPACERS = str.maketrans("", "", " *~|·•")
# what may stand between a contact word and its handle: "微信号：", "qq是", "tg @", "vx 我的"
FILLER = r"(?:\s|[:=@#>*~|·•]|号码|号|是|为|我的|我|id|账号)"


@cache
def _data() -> dict:
    return yaml.safe_load((files(__package__) / "words.yaml").read_text(encoding="utf-8"))


@cache
def canonical_forms() -> dict[str, str]:
    """Every written form (homophone, pinyin without spaces) → the canonical word it stands for."""
    data = _data()
    forms: dict[str, str] = {}
    for word, variants in data["canonical"].items():
        for form in variants:
            forms[form.lower()] = word
    for word in data["pinyin"]:
        forms["".join(spell(word))] = forms.get(word, word)
    return forms


@cache
def canonical_pattern() -> patterns.Pattern:
    """One pattern for every form: Chinese forms as written (a spacer allowed between characters:
    "v 信"), pinyin forms as whole ASCII words whose syllables may be spaced apart ("wei xin", "jia-wo")."""
    data = _data()
    chinese = sorted({f.lower() for forms in data["canonical"].values() for f in forms}, key=len, reverse=True)
    spelled = []
    for word in data["pinyin"]:
        spelled.append(f"{SPACERS}*".join(patterns.escape(s) for s in spell(word)))
    spelled.sort(key=len, reverse=True)
    # a pinyin word may run straight into digits: "koukou10000"
    written = (f"{SPACERS}?".join(map(patterns.escape, form)) for form in chinese)
    return patterns.compile("|".join(written) + r"|\b(?:" + "|".join(spelled) + r")(?:\b|[0-9])")


@cache
def _cues() -> tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]:
    """First characters and whole Chinese forms, and the first pinyin syllable of each spelled word."""
    data = _data()
    chinese = tuple({f.lower() for forms in data["canonical"].values() for f in forms})
    return frozenset(f[0] for f in chinese), chinese, tuple({spell(word)[0] for word in data["pinyin"]})


def may_hold_form(s: str) -> bool:
    """False when `s` certainly holds no form of a contact word (skips the pattern on most messages)."""
    firsts, chinese, syllables = _cues()
    if not firsts.isdisjoint(s):
        joined = s.translate(_NO_SPACERS)
        if any(f in joined for f in chinese):
            return True
    return any(p in s for p in syllables)


@cache
def _contact_firsts() -> frozenset[str]:
    return frozenset(w[0] for ws in contact_words().values() for w in ws)


def may_hold_contact(s: str) -> bool:
    """False when no contact word can be in `s` (an ASCII word may be spaced out: its first letter)."""
    if _contact_firsts().isdisjoint(s):
        return False
    return any((w[0] in s) if w.isascii() else (w in s) for ws in contact_words().values() for w in ws)


def canonical(form: str) -> str:
    """The canonical word for a matched form (spacers between its characters or syllables ignored)."""
    if form[-1].isdigit():
        return canonical(form[:-1]) + form[-1]
    return canonical_forms()["".join(c for c in form.lower() if c.isalnum())]


@cache
def contact_words() -> dict[str, tuple[str, ...]]:
    """Kind of handle → the words after which one follows, longest first."""
    kinds = _data()["kinds"]
    return {k: tuple(sorted((w.lower() for w in kinds[k]), key=len, reverse=True)) for k in KINDS}


def contact_source(kind: str | None = None) -> str:
    """Pattern source for the contact words of one kind (or all); ASCII words only at a word start,
    so "v" is found in "加v" and "+v" but not inside "dev", and their letters may be spaced ("v x")."""
    words = contact_words()[kind] if kind else sorted({w for ws in contact_words().values() for w in ws}, key=len, reverse=True)
    return "|".join(r"\b" + f"{SPACERS}?".join(map(patterns.escape, w)) if w.isascii() else patterns.escape(w) for w in words)


@cache
def numerals() -> dict[str, str]:
    """Chinese numeral characters (一, 〇, 幺, 壹, ...) → the ASCII digit they are read as."""
    out = {}
    for cp in range(0x3000, 0xA000):
        ch = chr(cp)
        value = unicodedata.numeric(ch, None)
        if value is not None and value in range(10) and unicodedata.digit(ch, None) is None and ch not in _COMMON_NOT_NUMERALS:
            out[ch] = str(int(value))
    return out


READINGS = Path(__file__).with_name("readings.txt")


@cache
def readings() -> dict[str, str]:
    """Each common Chinese character → its usual reading without tone (薇, 威, 微 → "wei"): the view
    in which a homophone written to dodge a word list reads the same as the word."""
    out = {}
    for line in READINGS.read_text(encoding="utf-8").splitlines():
        reading, _, chars = line.partition("\t")
        out.update(dict.fromkeys(chars, reading))
    return out


@cache
def by_sound() -> dict[tuple[str, str], str]:
    """The syllables of each channel name that any same-sounding spelling stands for → the name."""
    return {tuple(spell(word)): word for word in _data()["by_sound"]}


def spell(word: str) -> list[str]:
    """The syllables of a Chinese word, one usual reading per character ("微信" → ["wei", "xin"])."""
    table = readings()
    return [table.get(c, c) for c in word]


@cache
def sound_digits() -> dict[str, str]:
    """Common Chinese characters whose usual reading is a digit's (巴 ba → 8, 久 jiu → 9), numerals included."""
    out = dict(numerals())
    for ch, reading in readings().items():
        if "\u4e00" <= ch <= "\u9fff" and reading in _DIGIT_READINGS:
            out.setdefault(ch, str(_DIGIT_READINGS[reading]))
    return out


def derived_readings() -> str:
    """readings.txt as pypinyin's table gives it today: for each CJK character its first reading with
    the tone marks dropped, the letters-only ones, grouped by reading in code-point order."""
    from pypinyin.pinyin_dict import pinyin_dict  # only to rebuild or check the file: 55 MB

    by_reading: dict[str, list[str]] = {}
    for cp in sorted(pinyin_dict):
        if 0x3400 <= cp <= 0x9FFF:
            reading = unicodedata.normalize("NFD", pinyin_dict[cp].split(",")[0]).encode("ascii", "ignore").decode()
            if reading.isalpha():
                by_reading.setdefault(reading, []).append(chr(cp))
    return "".join(f"{r}\t{''.join(cs)}\n" for r, cs in sorted(by_reading.items()))


def rebuild() -> Path:
    """Rewrite readings.txt from the installed pypinyin."""
    READINGS.write_text(derived_readings(), encoding="utf-8")
    return READINGS
