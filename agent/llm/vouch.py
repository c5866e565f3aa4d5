"""What a model's reply may say only if its sources say it: links, contact handles, @-mentions,
numbers (phones, amounts, dates, times), id-like tokens and command words.

Everything is read from the moderation's normalised view (agent.textnorm), the same for the reply and
for the passages, so a disguise in the reply (full-width letters, `evilrun。com`, `V：`, digits in
Chinese or split by dots and slashes) is undone before it is compared. Links and handles are found by
the moderation's own extractors (urlextract over every TLD it knows; moderation.contacts), plus what
a reply needs on top: app schemes (`weixin://`), bare IPs with a port, e-mail addresses, a handle after
a one-letter or platform word (`V：`, `Telegram @`). `foreign(reply, sources)` names the first such
thing the sources do not hold.
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import cn2an

from agent import patterns
from agent.moderation import contacts
from agent.moderation.links import find_links
from agent.moderation.text import fold

# a dot between two ASCII letters or digits written another way: 。 · ・ 点 (dot) [.]
_DOT = patterns.compile(r"([a-z0-9])\s*(?:[。·・•]|点|\(dot\)|\[dot\]|\[\.\]|\(\.\))\s*([a-z0-9])")
_SCHEME = patterns.compile(r"[^\s:/]{1,20}://[\x21-\x7e]*")  # any scheme: weixin:// reads 微信:// in the view
# a domain glued to Chinese ("访问abc.com了解"), which urlextract does not split off; kept when
# urlextract, given it alone, agrees it is a link (a TLD it knows)
_GLUED = patterns.compile(r"[a-z0-9][a-z0-9\-]*(?:\.[a-z0-9\-]+)*\.[a-z]{2,24}(?:/[\x21-\x7e]*)?")
_IP = patterns.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?::\d{1,5})?")
_EMAIL = patterns.compile(r"[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}")
# a handle after a word that introduces one; for the short or common words only with ":", "=" or "@"
_ID = r"([a-z0-9][a-z0-9_.\-]{2,30})"
_STRONG = (r"微信号?|威信|薇信|徽信|维信|v信|vx|wx|weixin|wechat|qq号?|扣扣|企鹅号?|telegram|tg|电报|飞机号?"
           r"|whatsapp|skype|discord|instagram|twitter|推特|抖音号?|快手号?|小红书号?|公众号|加我|联系我|私信我")
_WEAK = r"v|薇|微|威|wei|line|ins|id|账号|号主"
_HANDLE = patterns.compile(
    rf"(?:^|[^a-z])(?:{_STRONG})\s*(?:号|id|账号)?\s*([:=@是为]?)\s*@?\s*{_ID}"
    rf"|(?:^|[^a-z])(?:{_WEAK})\s*([:=@])\s*@?\s*{_ID}"
)
_WXID = patterns.compile(r"wxid_[a-z0-9_]+")
_MENTION = patterns.compile(r"@\s*([^\s@,，。:：;；!！?？、()（）]+)")
EVERYONE = ("所有人", "全体成员", "全体", "all", "everyone", "here", "channel")
# letters mixed with digits or "_": what account names look like; "10km"-style amounts are numbers
_TOKEN = patterns.compile(r"[a-z0-9_\-]{5,}")
_AMOUNT_UNIT = patterns.compile(r"\d+[a-z]{1,3}")
_COMMAND = patterns.compile(r"(?:^|[\s(（「“\"'：:，,。;；!！?？])/([a-z\u4e00-\u9fff][a-z_\u4e00-\u9fff]*)")
# numbers: Chinese numerals, list markers, digit runs with separators inside (138.1234/5678)
_CN_NUMERAL = patterns.compile(
    r"([零〇一二两三四五六七八九十百千万幺]+)(元|块|角|毛|点|时|号|日|月|年|岁|分钟|小时|公里)?")
_CN_DIGITS = dict(zip("零〇一二两三四五六七八九幺", "001223456781"))
_LIST_MARKER = patterns.compile(r"(?m)^\s*\d{1,2}[.、)）]\s*(\D)")
_RUN = patterns.compile(r"\+?\d+(?:[\s\-./·_]{1,2}\d+)*")
_DIGITS = patterns.compile(r"\d+")
_DATE = patterns.compile(r"(?:19|20)\d\d[\-./]\d{1,2}[\-./]\d{1,2}|(?:19|20)\d\d\s*[\-/]\s*(?:19|20)\d\d")
CONTACT_DIGITS = 7  # a run of this many digits is a phone, QQ or account number: matched whole


@lru_cache(maxsize=256)  # one reply's checks read the same passages several times
def view(text: str) -> str:
    """The text as every check reads it: the moderation's normalised view (agent.textnorm), dots
    written another way between letters made ASCII dots."""
    out = fold(text)
    for _ in range(3):  # "a。b。c": each pass joins every other dot
        joined = _DOT.sub(r"\1.\2", out)
        if joined == out:
            break
        out = joined
    return out


def _arabic(match: patterns.Match) -> str:
    numeral, unit = match.group(1), match.group(2) or ""
    if len(numeral) < 2 and not unit:
        return match.group(0)  # 一起, 第一: a word, not a number
    if all(c in _CN_DIGITS for c in numeral):
        return "".join(_CN_DIGITS[c] for c in numeral) + unit  # 一三八… digit by digit
    try:
        return f"{int(cn2an.cn2an(numeral, 'smart'))}{unit}"
    except (ValueError, TypeError):  # 千万, 万一: not a number (cn2an raises ValueError)
        return match.group(0)


def numbers(v: str) -> tuple[set[str], set[str], set[str]]:
    """(contact numbers, other numbers, the digit groups inside contact numbers) of a view, Chinese
    numerals read as digits. A contact number is its digits joined across separators (138.1234/5678
    is 13812345678); other numbers are each digit run, as a value (06 is 6)."""
    v = _LIST_MARKER.sub(r"\1", _CN_NUMERAL.sub(_arabic, v))
    whole, parts, inside = set(), set(), set()
    for match in _RUN.finditer(v):
        run = match.group(0)
        groups = [g.lstrip("0") or "0" for g in _DIGITS.findall(run)]
        joined = "".join(_DIGITS.findall(run))
        if len(joined) >= CONTACT_DIGITS and not _DATE.fullmatch(run.strip()):
            whole.add(joined[2:] if joined.startswith("86") and len(joined) == 13 else joined)
            inside.update(groups)
        else:
            parts.update(groups)
    return whole, parts, inside


def _bare(url: str) -> str:
    url = url.split("://", 1)[1] if "://" in url and url.split("://", 1)[0] in ("http", "https") else url
    return url.rstrip("/.,;:!?()'\"")


def links(v: str) -> Iterator[str]:
    for link in find_links(v):
        yield _bare(link.url)
    for match in _GLUED.finditer(v):
        if find_links(match.group(0)):
            yield _bare(match.group(0))
    for pattern in (_SCHEME, _IP, _EMAIL):
        for match in pattern.finditer(v):
            yield _bare(match.group(0))


def handles(v: str) -> Iterator[str]:
    yield from contacts.handles(v)
    yield from _WXID.findall(v)
    for match in _HANDLE.finditer(v):
        strong_sep, strong_id, weak_id = match.group(1), match.group(2), match.group(4)
        if strong_id and (strong_sep or not strong_id.isalpha()) and "wxid_" not in match.group(0):
            yield strong_id.rstrip(".-")  # without ":" an all-letter word is no handle ("wechat group")
        elif weak_id:
            yield weak_id.rstrip(".-")


def mentions(v: str) -> Iterator[str]:
    for match in _MENTION.finditer(v):
        yield "@" + match.group(1)


def id_tokens(v: str) -> Iterator[str]:
    for match in _TOKEN.finditer(v):
        token = match.group(0).strip("-_")
        mixed = any(c.isalpha() for c in token) and (any(c.isdigit() for c in token) or "_" in token)
        if len(token) >= 5 and mixed and not _AMOUNT_UNIT.fullmatch(token):
            yield token


def commands(v: str) -> Iterator[str]:
    for match in _COMMAND.finditer(v):
        yield "/" + match.group(1)


def held(value: str, source: str) -> bool:
    """`value` occurs in `source` as a whole token: not inside a longer name ("le.com" is not held by
    "example.com", nor "abc12" by "abc123", nor "evil.com" by "evil.com.cn")."""
    start = source.find(value)
    while start >= 0:
        end = start + len(value)
        before = source[start - 1] if start else " "
        after = source[end:end + 2]
        after_scheme = source[max(0, start - 3):start] == "://"
        inside = before.isascii() and (before.isalnum() or before in "_-.@/") and not after_scheme
        longer = bool(after) and after[0].isascii() and (
            after[0].isalnum() or after[0] in "_-" or (after[0] == "." and after[1:2].isalnum()))
        if not inside and not longer:
            return True
        start = source.find(value, start + 1)
    return False


def everyone(v: str) -> str | None:
    """An @all in any spelling (@所有人, @ all, @everyone): never the bot's to send."""
    for mention in mentions(v):
        if mention[1:] in EVERYONE or mention[1:].startswith(("所有人", "全体")):
            return mention
    return None


def foreign(reply: str, sources: str) -> str | None:
    """The first link, handle, mention, number, id-like token or command word of `reply` that
    `sources` do not hold, as "kind: value"; None when the reply says nothing of the kind on its own."""
    said, known = view(reply), view(sources)
    if (mention := everyone(said)) is not None:
        return f"@all: {mention}"
    known_handles = set(handles(known))  # a phone the sources write 138-1234-5678 comes back whole
    for kind, found in (("link", links), ("handle", handles), ("mention", mentions), ("id", id_tokens),
                        ("command", commands)):
        for value in found(said):
            if value and value not in known_handles and not held(value, known):
                return f"{kind}: {value}"
    whole, parts, _ = numbers(said)
    known_whole, known_parts, known_inside = numbers(known)
    if missing := sorted(whole - known_whole):
        return f"contact number: {missing[0]}"
    if missing := sorted(parts - known_parts - known_inside, key=len, reverse=True):
        return f"number: {missing[0]}"
    return None
