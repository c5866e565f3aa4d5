"""What each single character reads as, as one `str.translate` table built at first use.

After NFKC, evasions that work one character at a time are left: lookalike letters from other scripts
(Cyrillic а, Greek ο), digits from other sets (❶, ➀, Arabic-Indic ٣), invisible marks (zero-width
joiners, bidi controls, variation selectors, combining overlays such as w̶) and decoration (emoji,
stars, hearts) pushed between the characters of a word. A few pictographs name a contact channel
(✈ Telegram, 🐧 QQ, 📞 phone) and are read as that word. Lookalikes come from the Unicode confusables
table shipped by confusable-homoglyphs; digits and categories from `unicodedata`.
"""
from __future__ import annotations

import unicodedata
from functools import cache

from confusable_homoglyphs.utils import load

# Scripts a Chinese group writes in: their characters are never read as lookalike Latin.
_OWN_SCRIPTS = ("CJK", "IDEOGRAPHIC", "KANGXI", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO", "FULLWIDTH", "HALFWIDTH")
_INVISIBLE = {"Cf", "Mn", "Me", "Cs"}  # format controls, combining and enclosing marks, lone surrogates
_DECORATION = {"So", "Sk", "Co"}  # emoji and other symbols, modifier symbols, private use
_TARGETS = set("abcdefghijklmnopqrstuvwxyz0123456789+")
_PLANES = 0x20000  # the BMP and the supplementary plane holding emoji and math letters
# letters of scripts no one chats in, which IM spam strews as decoration to dodge exact-match filters
_DEAD_SCRIPTS = (range(0x16A0, 0x1700), range(0x1680, 0x16A0))  # Runic, Ogham
# pictographs that stand for a contact channel ("✈️@abc" is a Telegram id, "🐧123456" a QQ number):
# read as the word, not dropped as decoration
_CHANNEL_EMOJI = {"✈": " 飞机 ", "🛩": " 飞机 ", "🐧": " 企鹅 ", "☎": " 电话 ", "📞": " 电话 ", "📱": " 手机 "}


def _own_script(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(_OWN_SCRIPTS)


def _lookalikes() -> dict[int, str]:
    """Each non-ASCII character that the confusables table says looks like one ASCII letter, digit
    or plus sign, mapped to it (lower case: the view is case-folded)."""
    out: dict[int, str] = {}
    for char, entries in load("confusables.json").items():
        if len(char) != 1 or char.isascii() or _own_script(char) or unicodedata.category(char)[0] == "P":
            continue
        looks = sorted({e["c"].strip("\u200e").lower() for e in entries} & _TARGETS)
        if looks:
            letters = [c for c in looks if c.isalpha()]
            out[ord(char)] = (letters or looks)[0]
    # the table is applied after NFKC, which turns some lookalikes into another character (ϲ → ς)
    for cp, ascii_char in list(out.items()):
        folded = unicodedata.normalize("NFKC", chr(cp))
        if len(folded) == 1 and not folded.isascii():
            out.setdefault(ord(folded), ascii_char)
    return out


@cache
def table() -> dict[int, str | None]:
    """The translation table: invisible → removed, decoration → space, other digits → ASCII digits,
    lookalikes → their ASCII skeleton. Text is NFKC-normalised before it is applied."""
    out: dict[int, str | None] = {}
    for cp in range(0x80, _PLANES):
        ch = chr(cp)
        category = unicodedata.category(ch)
        if category in _INVISIBLE:
            out[cp] = None
        elif category in _DECORATION:
            out[cp] = " "
        elif (digit := unicodedata.digit(ch, None)) is not None:
            out[cp] = str(digit)
    for cp, ascii_char in _lookalikes().items():
        if unicodedata.digit(chr(cp), None) is None:  # a digit of another script stays that digit
            out[cp] = ascii_char
    out.update({cp: " " for block in _DEAD_SCRIPTS for cp in block})
    out[ord("^")] = out[ord("`")] = " "  # ASCII modifier symbols used as spacers
    out.update({ord(emoji): word for emoji, word in _CHANNEL_EMOJI.items()})
    return out
