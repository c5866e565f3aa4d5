"""The gap inbox in chat: /gaps lists the open questions, /answer N answers one into the knowledge
(the askers are told in the group), and /answer undo N takes that answer back.

Taking an answer back removes its entry from the knowledge, opens the question again (its askers as
the askers of a gap recorded now) and tells each
asker privately that what they were sent is withdrawn: a correction is about them, not the group.
The last UNDO_KEPT answers of a group can be taken back, by the number they were given to.
"""
from __future__ import annotations

import threading

from agent import gaps
from agent.commands.api import CommandSpec, Context, Parsed, say, usage
from agent.events import Action, Message, Say, Whisper
from agent.kb.commands import CHAT_FILE, add_from_chat, take_back

SHOWN = 10  # gaps listed by /gaps: the most asked, in number order
UNDO_KEPT = 20
_records = threading.Lock()  # the answers kept for undo are read and rewritten under it


def _answered_key(ctx: Context) -> str:
    return f"gaps:answered:{ctx.group.id}"


def list_gaps(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    open_ = gaps.open_gaps(ctx.services.store, ctx.group.id)
    screen = ctx.services.screen
    if screen is not None:  # what the knowledge answers now, or plain chatter, is no owner's work
        open_ = screen.keep(ctx.group, open_)
    if not open_:
        return say(ctx, msg, ctx.sentence("cmd_gaps_none"))
    shown = sorted(open_[:SHOWN], key=lambda g: g.id)
    lines = [ctx.sentence("cmd_gaps_line", id=g.id, question=g.question, count=len(g.askers)) for g in shown]
    return say(ctx, msg, ctx.sentence("cmd_gaps", count=len(open_), gaps="\n".join(lines)))


def answer_gap(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    """An owner's answer becomes an FAQ entry; the members who asked are told in the group."""
    number, _, answer = parsed.text.strip().lstrip("#").partition(" ")
    gap = gaps.find(ctx.services.store, ctx.group.id, int(number)) if number.isdigit() else None
    if gap is None or not answer.strip():
        return usage(ctx, msg, parsed)
    answer = answer.strip()
    entry = add_from_chat(ctx, msg, answer, question=gap.question)
    gaps.close(ctx.services.store, gap, answer)
    store, key = ctx.services.store, _answered_key(ctx)
    record = {"n": gap.id, "question": gap.question, "askers": list(gap.askers), "addressed": gap.addressed,
              "entry": entry}
    with _records:
        store.put(key, [*(store.get(key) or []), record][-UNDO_KEPT:])
    told = Say(ctx.group.id, ctx.sentence("gap_answered", question=gap.question, answer=answer), gap.askers)
    return [told, *say(ctx, msg, ctx.sentence("cmd_gap_closed", id=gap.id, count=len(gap.askers)))]


def undo_answer(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    """`/answer undo N`: the entry leaves the knowledge, the question is open again, the askers hear
    privately that the answer they were sent is withdrawn."""
    number = parsed.text.strip().lstrip("#")
    if not number.isdigit():
        return usage(ctx, msg, parsed)
    store, key = ctx.services.store, _answered_key(ctx)
    with _records:
        kept = store.get(key) or []
        record = next((r for r in reversed(kept) if r["n"] == int(number)), None)
        if record is not None:
            store.put(key, [r for r in kept if r is not record])
    if record is None:
        return say(ctx, msg, ctx.sentence("cmd_answer_undo_none", id=number))
    # not found: removed with /kb remove already, or edited by hand (the owner is asked to look)
    missing = take_back(ctx, record["entry"]) is None
    for asker in record["askers"]:  # open again, asked as before (it gets a number afresh)
        store.add_gap(ctx.group.id, asker, msg.id, record["question"], record["addressed"], msg.ts)
    correction = ctx.sentence("answer_corrected", question=record["question"])
    told = [Whisper(asker, correction) for asker in record["askers"]]
    reply = ctx.sentence("cmd_answer_undone", id=number, count=len(record["askers"]))
    if missing:
        reply += "\n" + ctx.sentence("cmd_answer_undo_not_in_file", file=CHAT_FILE)
    return told + say(ctx, msg, reply)


COMMANDS = (
    CommandSpec("gaps", ("gaps", "待补充"), "/gaps", list_gaps),
    CommandSpec("answer_gap", ("answer", "回答"), "/answer <编号> <答案>", answer_gap, needs_text=True),
    CommandSpec("answer_undo", ("answer undo", "unanswer", "撤回回答"), "/answer undo <编号>（撤回回答）", undo_answer,
                needs_text=True),
)
