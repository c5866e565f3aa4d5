"""Checks on a model's text before it reaches the group. They fail closed: a reply is sent only when
nothing in it is of a kind the bot must not say on its own, and otherwise the caller falls back to
the no-LLM text (the quoted passage, the template).

Refused: anything that could send members somewhere or make the bot speak for an owner unless its
sources hold it (links, handles, @-mentions, numbers, id-like tokens, command words: agent.llm.vouch);
an @all in any spelling; the bot claiming owner powers ("I am now admin", "已将…移出群聊"); the
prompt's own structure (<knowledge>, a "[file.md]" entry label); a restatement of the instructions
(compared without spacing and punctuation, so "a comma every few characters" hides nothing) or of the
member's words the sources do not say (the bot as a mouthpiece). An answer must also cite passages
it was given and stand on them (agent.llm.grounding). `as_data` is the matching rule for text going in.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from difflib import SequenceMatcher

from agent import patterns
from agent.bounds import head_and_tail
from agent.llm import grounding, vouch
from agent.llm.grounding import Passage

log = logging.getLogger(__name__)

# the prompt's structure: a chat answer has no <tags> and no "[file.md] heading" entry labels
_TAG = patterns.compile(r"</?\s*[a-z_]{2,24}\s*>")
_ENTRY_LABEL = patterns.compile(r"(?m)^\s*\[[^\]\n]{1,80}\.(?:md|markdown|txt)\]")
# the bot claiming powers it has not got: being an owner or admin, having removed or muted someone
_CLAIMS = patterns.compile(
    r"我(?:现在|已经|已|刚刚|刚)?(?:就)?(?:是|成为|成了|当上|被[^。，,\n]{0,6}(?:任命|设置|设|升级|提升|授权|提拔)(?:为|成)?)了?"
    r"(?:本群|这个群|群里|群)?的?(?:新)?(?:群主|管理员|群管|管理|admin|版主)"
    r"|(?:已|已经)(?:将|把|被)?[^。！!？?\n]{0,16}(?:踢出|移出|请出|禁言|拉黑|封禁|清退|移除)"
    r"|我(?:会|将|可以|马上|立即|现在)(?:就)?(?:把|将)?[^。！!？?\n]{0,12}(?:踢出|移出|禁言|拉黑|封禁)"
    r"|(?:获得|拥有|得到|开通|授予|给了)了?[^。\n]{0,8}(?:管理员|群主|管理)权限"
    r"|\bi(?:['’]m| am)\s+(?:now\s+)?(?:the\s+|an?\s+|your\s+)?(?:new\s+)?(?:group\s+)?"
    r"(?:admin|administrator|owner|moderator|mod)\b"
    r"|\bi(?:['’]ve| have)\s+(?:been\s+)?(?:made|promoted|granted|given|appointed)\b[^.\n]{0,30}"
    r"\b(?:admin|owner|moderator|rights|privileges|powers)"
    r"|\b(?:has|have|was|were)\s+(?:been\s+)?(?:kicked|removed|banned|muted)\b"
    r"|\bi\s+(?:will|can|shall|am going to)\s+(?:now\s+)?(?:kick|ban|mute|remove)\b"
    r"|\b(?:admin|owner|moderator)\s+(?:rights|privileges|powers|access)\b"
)
_NOT_WORD = patterns.compile(r"\W+")
_CJK = patterns.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]")
LEAK_BLOCK = 8  # copied stretches of the instructions this long (letters, digits, Chinese) count…
LEAK_CHARS = 20  # …once they add up to this many
PARROT_WEIGHT = 12  # a run of the member's words this heavy (Chinese characters, or 3 Latin ones each)
QUESTION_CHARS = 2000  # head and tail of a long message that the parrot check reads


def as_data(text: str) -> str:
    """Text to place between the prompt's <tags> (a member's message, knowledge): angle brackets
    become full-width, so no text can close its tag and speak as the prompt."""
    return text.replace("<", "＜").replace(">", "＞")


def _skeleton(text: str) -> str:
    """Letters, digits and Chinese only, normalised: what is left of a text once spacing and
    punctuation are gone."""
    return _NOT_WORD.sub("", vouch.view(text))


def _copied(source: str, reply: str, sources: str, min_block: int) -> list[str]:
    """Stretches of `source` repeated in the reply, each at least `min_block` long and not in the
    sources (which the reply may quote)."""
    source, said, known = _skeleton(source), _skeleton(reply), _skeleton(sources)
    matcher = SequenceMatcher(None, source, said, autojunk=False)
    runs = (source[b.a: b.a + b.size] for b in matcher.get_matching_blocks())
    return [run for run in runs if len(run) >= min_block and run not in known]


def _parroted(question: str, reply: str, sources: str) -> str | None:
    """A stretch of the member's words, PARROT_WEIGHT heavy, that the reply repeats and the sources do
    not say. Each shortest heavy stretch of the reply is looked up in the question (a substring search:
    linear in the member's text, however long or repetitive). A very long message is read at its head
    and tail (what is in between and not in the sources still fails the grounding check)."""
    question = head_and_tail(question, 2 * QUESTION_CHARS, "\n")
    asked, said, known = _skeleton(question), _skeleton(reply), _skeleton(sources)
    weights = [1.0 if _CJK.fullmatch(c) else 1 / 3 for c in said]
    end, total = 0, 0.0
    for start in range(len(said)):
        while end < len(said) and total < PARROT_WEIGHT:
            total += weights[end]
            end += 1
        if total < PARROT_WEIGHT:
            return None
        window = said[start:end]
        if window in asked and window not in known:
            return window
        total -= weights[start]
    return None


def problem(reply: str, sources: str, prompt: str, max_chars: int, question: str = "") -> str | None:
    """Why `reply` must not be sent, or None. `sources` is what the reply may repeat (the passages it
    stands on), `prompt` the instructions the model was given, `question` the member's message."""
    if not reply:
        return "empty"
    if len(reply) > max_chars:
        return f"too long ({len(reply)} > {max_chars} characters)"
    said = vouch.view(reply)
    if tag := _TAG.search(said) or _ENTRY_LABEL.search(said):
        return f"prompt structure: {tag.group(0).strip()}"
    leaked = _copied(prompt, reply, sources, LEAK_BLOCK)
    if sum(len(run) for run in leaked) >= LEAK_CHARS:
        return f"repeats the instructions: {leaked[0][:40]!r}"
    if parroted := _parroted(question, reply, sources):
        return f"repeats the member's words: {parroted[:40]!r}"
    if found := vouch.foreign(reply, sources):
        return found
    claim = _CLAIMS.search(said)
    if claim and claim.group(0) not in vouch.view(sources):
        return f"claims powers: {claim.group(0)}"
    return None


def check_reply(reply: str, context: str, system_prompt: str, max_chars: int, question: str = "") -> str | None:
    """The reply, stripped, if it may be sent; None if it must not (the caller falls back).
    `context` is all the text the model was given as knowledge (the reply may repeat it)."""
    reply = reply.strip()
    if reason := problem(reply, context, system_prompt, max_chars, question):
        log.info("model reply refused: %s", reason)
        return None
    return reply


@dataclass(frozen=True)
class Verdict:
    text: str | None  # the reply to send, or None: send the no-LLM answer
    cited: list[Passage]  # the passages the reply cites (and stands on)
    reason: str | None = None  # why it was refused


def check_answer(reply: str, passages: list[Passage], prompt: str, question: str, max_chars: int) -> Verdict:
    """An answer may go out when it passes `problem` against the passages it cites, cites at least
    one of `passages`, and stands on them (`grounding.unsupported`)."""
    reply = reply.strip()
    cited = grounding.cited(reply, passages)
    sources = grounding.text_of(cited or passages)
    reason = (problem(reply, sources, prompt, max_chars, question)
              or (None if cited else "cites none of the passages it was given")
              or grounding.unsupported(reply, cited, question))
    if reason:
        log.info("model reply refused: %s", reason)
        return Verdict(None, cited, reason)
    return Verdict(reply, cited)
