"""Checks on a model's reply before it reaches the group.

A reply is sent only if everything in it that could send members somewhere (links, WeChat ids,
phone numbers, e-mail addresses) was already in the knowledge the model was given, it is not too
long, and it does not repeat the system prompt. A prompt-injected model can then at worst say
something unhelpful, never advertise or leak; a rejected reply makes the caller fall back.
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

LEAK_CHARS = 20  # a run this long copied from the system prompt counts as a leak


def as_data(text: str) -> str:
    """Text to place between the prompt's <tags> (a member's message, knowledge): angle brackets
    become full-width, so no text can close its tag and speak as the prompt."""
    return text.replace("<", "＜").replace(">", "＞")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).casefold().strip()


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


def _leaked(reply: str, context: str, system_prompt: str) -> str | None:
    """A long run of the system prompt repeated in the reply and not explained by the context."""
    prompt, said, known = _norm(system_prompt), _norm(reply), _norm(context)
    matcher = SequenceMatcher(None, prompt, said, autojunk=False)
    for block in matcher.get_matching_blocks():
        run = prompt[block.a: block.a + block.size]
        if block.size >= LEAK_CHARS and run not in known:
            return run
    return None


def check_reply(reply: str, context: str, system_prompt: str, max_chars: int) -> str | None:
    """The reply, stripped, if it may be sent; None if it must not (the caller falls back).

    `context` is all text the model was given as knowledge: whatever the reply contains that is
    contact-like must be found there.
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
    elif run := _leaked(reply, context, system_prompt):
        problem = f"repeats the system prompt: {run[:40]!r}"
    if problem:
        log.info("model reply rejected: %s", problem)
        return None
    return reply
