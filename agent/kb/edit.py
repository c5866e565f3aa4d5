"""Editing a scope's knowledge files from chat: the entries owners add (`/kb add`, `/answer`), listed
and removed again.

The file is the record: an entry written here survives any rebuild of the index, and the index is
brought in line with the file by a sync (KnowledgeBase.add_entry does both; a caller that removes
an entry syncs the scope). An entry added from chat ends with its provenance note, an HTML comment
line (prompts/<lang>/kb_entry_note.txt): that line is what marks where one entry ends, so the
chat file is the bot's to write and hand edits elsewhere are left alone.
"""
from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from agent import patterns
from agent.quoting import MASK, inline

_NOTE = patterns.compile(r"^\s*<!--.*-->\s*$")
_lock = threading.Lock()  # one read-modify-write of a chat file at a time (messages run on several threads)


@dataclass(frozen=True)
class Entry:
    """One entry of a chat file: what was written (`block`, its note included) and what it says."""

    block: str
    text: str  # the block without its note
    note: str


def entry_path(folder: Path, file: str) -> Path:
    """The curated file `file` (".md" added when it names no text file) inside `folder`; a name
    that would leave the folder is refused."""
    rel = PurePosixPath(file if file.endswith((".md", ".txt")) else f"{file}.md")
    if rel.is_absolute() or ".." in rel.parts:
        raise ValueError(f"refusing knowledge file {file!r}: needs a relative name inside the folder")
    return Path(folder) / rel


def format_entry(text: str, question: str | None = None) -> str:
    """The entry as written: an FAQ pair when `question` is given. `text` is the owner's and kept as
    is; `question` is what a member asked, so it is inlined (agent.quoting): it can fill the pair's
    question line and nothing else."""
    asked = inline(question or "")  # a member's words: one line, no structure of its own
    return f"**Q：{asked}**\nA：{text.strip()}" if asked.replace(MASK, "").strip() else text.strip()


def append_entry(folder: Path, file: str, text: str, *, question: str | None = None) -> Path:
    """Append `format_entry(text, question)` to a curated Markdown file, blank-line separated from
    what is there."""
    if not text.strip():
        raise ValueError(f"refusing entry for {file!r}: needs some text")
    path = entry_path(folder, file)
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = format_entry(text, question)
    with _lock:
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
        glue = "" if not existing or existing.endswith("\n\n") else ("\n" if existing.endswith("\n") else "\n\n")
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"{glue}{entry}\n")
    return path


def entries(folder: Path, file: str) -> list[Entry]:
    """The entries of a chat file, in the order written: each runs up to and including a note line."""
    path = entry_path(folder, file)
    return _split(path.read_text(encoding="utf-8"))[0] if path.exists() else []


def remove_entry(folder: Path, file: str, which: int | str) -> Entry | None:
    """Remove one entry, by its position in `entries` (1-based) or by its exact block, and rewrite the
    file in one step (a reader never sees half a file); None when there is no such entry."""
    path = entry_path(folder, file)
    with _lock:
        if not path.exists():
            return None
        found, rest = _split(path.read_text(encoding="utf-8"))
        if isinstance(which, int):
            gone = found[which - 1] if 1 <= which <= len(found) else None
        else:
            gone = next((e for e in reversed(found) if e.block == which.strip()), None)
        if gone is None:
            return None
        kept = [e.block for e in found if e is not gone] + ([rest] if rest else [])
        _replace(path, "\n\n".join(kept) + "\n" if kept else "")
    return gone


def _split(text: str) -> tuple[list[Entry], str]:
    """(the noted entries, any text after the last note)."""
    out, lines = [], []
    for line in text.splitlines():
        if _NOTE.match(line) and "\n".join(lines).strip():
            body = "\n".join(lines).strip()
            out.append(Entry(f"{body}\n{line.strip()}", body, line.strip()))
            lines = []
        else:
            lines.append(line)
    return out, "\n".join(lines).strip()


def _replace(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
