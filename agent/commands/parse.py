"""Text → (command spec, arguments), by slash syntax or natural phrasing addressed to the bot.

Slash forms are exact. Natural phrasing is read by resemblance to the intent banks (agent.commands.bank)
and its arguments by agent.commands.slots. Who may run it is decided elsewhere (permissions by contact
id); this module only reads the text, so a member's wording can never change what they are allowed to do.
"""
from __future__ import annotations

from agent import patterns
from agent.answering.questions import shape
from agent.commands import bank, slots
from agent.commands.api import CommandSpec, Parsed
from agent.commands.catalog import BY_NAME, SPECS
from agent.events import Message
from agent.settings import GroupConfig

_MENTION = patterns.compile(r"@\S+\s?")
_POLITE = patterns.compile(r"^(请|麻烦|帮我|帮忙|你)+")
_LEAD = patterns.compile(r"[：:\n]")  # what a command says before its payload ("记进知识库：…")
# the argument each natural intent takes from the slots; schedule and mute intents read the whole phrase
_TEXT_FROM_REST = frozenset({"kb_add", "kb_search", "broadcast", "warn"})
_TEXT_FROM_NUMBER = frozenset({"approve_draft", "reject_draft"})
# how far a member's question must resemble a catch-up request more than talk to be read as one: a
# question is the answer route's first, and one that merely mentions the group or what to put in the
# reply must stay a question. Clear requests ("我错过了什么") clear it by 0.3 and more.
ASKED_MARGIN = 0.15


def _slash(body: str) -> tuple[CommandSpec, str] | None:
    """'/kb add 内容' → (kb_add, '内容'); the longest matching slash word wins."""
    word = body[1:].strip()
    best = None
    for spec in SPECS:
        for s in spec.slash:
            if word.lower() == s or word.lower().startswith(s + " ") or word.startswith(s + "\n"):
                if best is None or len(s) > len(best[1]):
                    best = (spec, s)
    if best is None:
        return None
    return best[0], word[len(best[1]):].strip()


def parse(message: Message, group: GroupConfig | None = None) -> Parsed | None:
    """A command, or None when the text is not command-shaped for this message.

    Slash commands are commands from anyone. Natural phrasing counts only when the bot is addressed
    (@bot or a private chat), or when staff ask the bot directly ("帮我…") without @-mentioning a person.
    """
    text = message.text.strip()
    targets = tuple(message.mentions)
    body = _MENTION.sub(" ", text).strip()
    if body.startswith(("/", "／")):
        hit = _slash("/" + body[1:])
        if hit is None:
            return Parsed(BY_NAME["help"], slash=True, extra={"unknown": body.split()[0]})
        spec, arg = hit
        return Parsed(spec, arg, targets, slash=True)
    polite_staff = message.sender.is_staff and not message.mentions and _POLITE.match(body)
    if not (message.to_bot or polite_staff):
        return None
    if not message.sender.is_staff and shape(_LEAD.split(body, maxsplit=1)[0]).is_question:
        # a member asking the bot something gets an answer, never a refusal of a command; only a
        # command members ask for in question form (a catch-up) is read from a question
        parsed = natural(message, group, ASKED_MARGIN)
        return parsed if parsed is not None and parsed.spec.asked and parsed.spec.may_run(message.sender.role) else None
    return natural(message, group)


def reading(message: Message, group: GroupConfig | None) -> tuple[bank.Reading, slots.Slots]:
    """The bank's reading of an addressed message: the best intent whose arguments are there."""
    phrase = message.text.strip()
    if group is not None and group.bot_name:
        phrase = phrase.replace("@" + group.bot_name, " ").strip()
    found = slots.read(phrase, group, tuple(message.mentions))
    read = bank.bank().read(found.text)
    if BY_NAME[read.intent].needs_target and not found.targets:
        return read.best(lambda intent: False), found  # "踢出去" with nobody named is talk, not a command
    return read.best(lambda intent: _fits(intent, found)), found


def _fits(intent: str, found: slots.Slots) -> bool:
    """Arguments decide between look-alikes: a post needs a time (not a span), a draft's yes or no its
    wording."""
    if BY_NAME[intent].needs_target and not found.targets:
        return False
    if intent == "schedule_add":
        return found.timed and not found.lasting  # "先静音三个钟头" names how long, not when to post
    if intent in ("approve_draft", "reject_draft"):
        return (intent == "reject_draft") == found.refuses
    return True


def natural(message: Message, group: GroupConfig | None, margin: float | None = None) -> Parsed | None:
    """An addressed message read as a command when it resembles one intent's paraphrases enough
    (and beats talk by at least `margin`, where the caller asks for more than the fitted margin)."""
    read, found = reading(message, group)
    threshold, fitted_margin = bank.fitted()
    if read.intent == bank.NONE or not read.is_command(threshold, max(fitted_margin, margin or fitted_margin)):
        return None
    intent = read.intent
    if intent in _TEXT_FROM_REST:
        arg = found.rest
    elif intent in _TEXT_FROM_NUMBER:
        arg = str(found.number) if found.number is not None else ""
    else:
        arg = ""
    phrase = _POLITE.sub("", _MENTION.sub(" ", message.text.strip()).strip()).strip()
    return Parsed(BY_NAME[intent], arg, found.targets, extra={"phrase": phrase})
