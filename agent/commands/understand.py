"""Natural phrasings the paraphrase banks did not read, read by the model when one is configured.

Only for owners' and admins' messages addressed to the bot that are not questions (questions are the
answer route's) and that no pattern recognised: members can run little beyond /help, /rules and /why,
which the banks read, so their chatter never costs a model call. The model returns one intent from
the closed list of specs and the free-text argument; it only proposes: the command route still checks
who may run it, by contact id.
"""
from __future__ import annotations

import json
import logging
import re

from agent import patterns
from agent.answering.questions import shape
from agent.commands.api import Parsed
from agent.commands.catalog import BY_NAME, SPECS
from agent.events import Message
from agent.llm.guard import as_data
from agent.llm.errors import LLMUnavailable

log = logging.getLogger(__name__)
_JSON = patterns.compile(r"\{.*\}", re.S)
_MENTION = patterns.compile(r"@\S+\s?")


def worth_asking(message: Message) -> bool:
    """Staff instructing the bot in words the banks did not read (never a question, never chatter)."""
    return (message.sender.is_staff and message.to_bot and not shape(message.text).is_question
            and len(_MENTION.sub("", message.text).strip()) >= 4)


def understand(message: Message, llm, sentence) -> tuple[Parsed | None, int]:
    """(the proposed command or None, tokens used). `sentence` renders prompts in the group's language."""
    intents = "\n".join(f"- {s.name}: {s.usage}" for s in SPECS if s.name != "confirm")
    system = sentence("command_system", intents=intents)
    user = sentence("command_user", message=as_data(_MENTION.sub(" ", message.text).strip()))
    try:
        done = llm.complete(system, user, 120)
    except LLMUnavailable as exc:
        log.info("command not read by the model (%s)", exc)
        return None, 0
    used = done.prompt_tokens + done.completion_tokens
    found = _JSON.search(done.text)
    try:
        data = json.loads(found.group(0)) if found else {}
    except json.JSONDecodeError:
        data = {}
    spec = BY_NAME.get(str(data.get("intent", "")))
    if spec is None or spec.name == "confirm":
        return None, used
    text = str(data.get("text") or "").strip()
    return Parsed(spec, text, tuple(message.mentions), extra={"phrase": message.text, "by_model": True}), used
