"""Knowledge commands in chat: /kb search, /kb add, and the undo side, /kb list and /kb remove.

What owners add from chat goes to one curated file of the group (CHAT_FILE), each entry followed by
a note of who added it and when (an HTML comment: chunking drops it, so no reply ever quotes it).
/kb list numbers those entries in the order written; /kb remove N takes one out of the file and the
index.
"""
from __future__ import annotations

from pathlib import Path

from agent import quoting
from agent.commands.api import CommandSpec, Context, Parsed, say, usage
from agent.events import Action, Message
from agent.kb import edit

CHAT_FILE = "added-in-chat.md"  # the curated file that entries added from chat go to
LISTED_CHARS = 60  # of each entry in /kb list


def folder(ctx: Context) -> Path:
    return ctx.services.settings.kb.knowledge_dir / ctx.group.id


def add_from_chat(ctx: Context, msg: Message, text: str, question: str | None = None) -> str:
    """Append to the group's chat file, noting who added it and when, and re-index it (the search
    index is rebuilt in the background). Returns the entry as written, to take it back by."""
    note = ctx.sentence("kb_entry_note", who=ctx.group.name_of(msg.sender.id), when=msg.ts.strftime("%Y-%m-%d %H:%M"))
    body = f"{text}\n{note}"
    ctx.services.kb.add_entry(ctx.group.id, CHAT_FILE, body, question=question, folder=folder(ctx))
    return edit.format_entry(body, question)


def take_back(ctx: Context, which: int | str) -> edit.Entry | None:
    """Remove an entry of the chat file (by number or as written) and re-index the group's folder."""
    gone = edit.remove_entry(folder(ctx), CHAT_FILE, which)
    if gone is not None:
        ctx.services.kb.sync({ctx.group.id: folder(ctx)}, background=True)
    return gone


def kb_search(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    hits = ctx.services.kb.search(parsed.text, [ctx.group.id, "shared"], k=3)
    if not hits:
        return say(ctx, msg, ctx.sentence("cmd_kb_none", query=parsed.text))
    lines = [f"{i}. {h.file} › {h.heading}：{h.text[:60]}…" for i, h in enumerate(hits, 1)]
    return say(ctx, msg, ctx.sentence("cmd_kb_hits", query=parsed.text, hits="\n".join(lines)))


def kb_add(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    add_from_chat(ctx, msg, parsed.text)
    return say(ctx, msg, ctx.sentence("cmd_kb_added", text=parsed.text))


def _shown(entry: edit.Entry) -> str:
    return quoting.inline(entry.text.replace("\n", " "))[:LISTED_CHARS]


def kb_list(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    found = edit.entries(folder(ctx), CHAT_FILE)
    if not found:
        return say(ctx, msg, ctx.sentence("cmd_kb_list_none"))
    lines = [ctx.sentence("cmd_kb_list_line", n=n, text=_shown(e), note=e.note.strip("<!-> "))
             for n, e in enumerate(found, 1)]
    return say(ctx, msg, ctx.sentence("cmd_kb_list", count=len(found), entries="\n".join(lines)))


def kb_remove(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    number = parsed.text.strip().lstrip("#")
    gone = take_back(ctx, int(number)) if number.isdigit() else None
    if gone is None:
        return usage(ctx, msg, parsed)
    return say(ctx, msg, ctx.sentence("cmd_kb_removed", n=int(number), text=_shown(gone)))


COMMANDS = (
    CommandSpec("kb_search", ("kb search", "kb_search", "查知识库"), "/kb search <关键词>", kb_search, needs_text=True),
    CommandSpec("kb_add", ("kb add", "kb_add", "加知识"), "/kb add <内容>", kb_add, needs_text=True),
    CommandSpec("kb_list", ("kb list", "kb_list", "知识列表"), "/kb list", kb_list),
    CommandSpec("kb_remove", ("kb remove", "kb_remove", "删知识"), "/kb remove <编号>", kb_remove, needs_text=True),
)
