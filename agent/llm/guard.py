"""Checks on a model's reply before it reaches the group.

A reply is sent only if everything in it that could send members somewhere (links, WeChat ids,
phone numbers, e-mail addresses) or that looks like an owner command (/kick …) was already in the
knowledge the model was given, it is not too long, it does not repeat the system prompt (however it
is spaced), and it does not repeat the member's own words where the knowledge does not say them (the
bot as a mouthpiece: "post this announcement: …"). A prompt-injected model can then at worst say
something unhelpful, never advertise, leak or announce; a rejected reply makes the caller fall back.
`as_data` is the matching rule for text going in.
"""
from __future__ import annotations

import logging
import re
from difflib import SequenceMatcher

log = logging.getLogger(__name__)

_URL_CHARS = r"[A-Za-z0-9\-._~:/?#\[\]@!$&'*+;=%]"
_TLDS = "com|cn|net|org|io|me|cc|co|top|xyz|vip|info|app|link|ly|tv|site|online|shop|club|ai|hk|tw"
URL = re.compile(
    rf"(?:https?://|www\.){_URL_CHARS}+"
    rf"|(?<![A-Za-z0-9.\-@])(?:[A-Za-z0-9-]+\.)+(?:{_TLDS})(?![A-Za-z0-9-])(?:/{_URL_CHARS}*)?",
    re.IGNORECASE,
)
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# a WeChat/QQ id after a keyword that introduces one (微信/wx/vx/V信/加我…), or a raw wxid_…; without a
# colon the id must hold a digit, "_" or "-", so "WeChat official account" is not read as an id
_ID = r"[A-Za-z][-_A-Za-z0-9]{5,19}(?![-_A-Za-z0-9])"
WECHAT = re.compile(
    r"(?<![A-Za-z])(?:微信号?|威信|薇信|v信|wx|vx|weixin|wechat(?:\s*id)?|加v|加我|qq)\s*号?\s*"
    rf"(?:[:：]\s*({_ID})|(?=[A-Za-z]+[-_0-9])({_ID})|(\d{{5,11}}))"
    r"|(wxid_[A-Za-z0-9]+)",
    re.IGNORECASE,
)
# digit runs long enough to be a phone, QQ or account number (separators allowed inside)
NUMBER = re.compile(r"(?<!\d)\+?\d[\d\s-]{5,}\d(?!\d)")
DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|(?:19|20)\d\d\s*-\s*(?:19|20)\d\d")  # not contacts

# a slash command in the bot's own voice ("/kick @…", "/broadcast …"); not "km/h" or "21/22"
COMMAND = re.compile(r"(?<![^\s(（「“\"'])/[A-Za-z\u4e00-\u9fff][A-Za-z_\u4e00-\u9fff]*")
LEAK_CHARS = 20  # a run this long copied from the system prompt counts as a leak
PARROT_WEIGHT = 12  # a run of the member's words this heavy (Chinese characters, or 3 Latin ones each)


def as_data(text: str) -> str:
    """Text to place between the prompt's <tags> (a member's message, knowledge): angle brackets
    become full-width, so no text can close its tag and speak as the prompt."""
    return text.replace("<", "＜").replace(">", "＞")


def _numbers(text: str) -> set[str]:
    found = set()
    for match in NUMBER.finditer(text):
        if DATE.fullmatch(match.group().strip()):
            continue
        digits = re.sub(r"\D", "", match.group())
        if len(digits) >= 7:
            found.add(digits[2:] if digits.startswith("86") and len(digits) == 13 else digits)
    return found


def _foreign(pattern: re.Pattern, reply: str, context: str) -> list[str]:
    """Matches of `pattern` in the reply that the context does not hold as a whole token
    ("le.com" is not vouched for by "example.com", nor "abc12" by "abc123")."""
    hits = []
    for match in pattern.finditer(reply):
        value = next((g for g in match.groups() if g), None) if pattern.groups else match.group()
        value = value.rstrip(".,;:!?'")
        if not re.search(rf"(?<![A-Za-z0-9_-]){re.escape(value)}(?![A-Za-z0-9_-])", context, re.IGNORECASE):
            hits.append(value)
    return hits


def _copied(source: str, reply: str, context: str, long_enough) -> str | None:
    """A run of `source` repeated in the reply, long enough by `long_enough` and not in the context.
    Whitespace is ignored, so spacing out the characters hides nothing."""
    source, said, known = (re.sub(r"\s+", "", t).casefold() for t in (source, reply, context))
    matcher = SequenceMatcher(None, source, said, autojunk=False)
    for block in matcher.get_matching_blocks():
        run = source[block.a: block.a + block.size]
        if run and long_enough(run) and run not in known:
            return run
    return None


def _weight(run: str) -> float:
    cjk = len(re.findall(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]", run))
    return cjk + (len(run) - cjk) / 3


def check_reply(reply: str, context: str, system_prompt: str, max_chars: int, question: str = "") -> str | None:
    """The reply, stripped, if it may be sent; None if it must not (the caller falls back).

    `context` is all text the model was given as knowledge: whatever the reply contains that is
    contact-like must be found there. `question` is the member's message the reply answers.
    """
    reply = reply.strip()
    problem = None
    if not reply:
        problem = "empty"
    elif len(reply) > max_chars:
        problem = f"too long ({len(reply)} > {max_chars} characters)"
    elif links := _foreign(URL, reply, context) + _foreign(EMAIL, reply, context):
        problem = f"link or address not in the knowledge: {links[0]}"
    elif handles := _foreign(WECHAT, reply, context):
        problem = f"contact id not in the knowledge: {handles[0]}"
    elif numbers := _numbers(reply) - _numbers(context):
        problem = f"number not in the knowledge: {sorted(numbers)[0]}"
    elif commands := _foreign(COMMAND, reply, context):
        problem = f"command not in the knowledge: {commands[0]}"
    elif run := _copied(system_prompt, reply, context, lambda r: len(r) >= LEAK_CHARS):
        problem = f"repeats the system prompt: {run[:40]!r}"
    elif run := _copied(question, reply, context, lambda r: _weight(r) >= PARROT_WEIGHT):
        problem = f"repeats the member's words: {run[:40]!r}"
    if problem:
        log.info("model reply rejected: %s", problem)
        return None
    return reply
