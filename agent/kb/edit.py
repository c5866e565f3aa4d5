"""Editing a scope's knowledge files from chat: the entries owners add (`/kb add`, `/answer`).

The file is the record: an entry written here survives any rebuild of the index, and the index is
brought in line with the file by a sync (KnowledgeBase.add_entry does both).
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath

from agent.quoting import MASK, inline


def entry_path(folder: Path, file: str) -> Path:
    """The curated file `file` (".md" added when it names no text file) inside `folder`; a name
    that would leave the folder is refused."""
    rel = PurePosixPath(file if file.endswith((".md", ".txt")) else f"{file}.md")
    if rel.is_absolute() or ".." in rel.parts:
        raise ValueError(f"refusing knowledge file {file!r}: needs a relative name inside the folder")
    return Path(folder) / rel


def append_entry(folder: Path, file: str, text: str, *, question: str | None = None) -> Path:
    """Append an entry (an FAQ pair when `question` is given) to a curated Markdown file, blank-line
    separated from what is there. `text` is the owner's and written as is; `question` is what a
    member asked, so it is inlined (agent.quoting): it can fill the pair's question line and nothing else."""
    if not text.strip():
        raise ValueError(f"refusing entry for {file!r}: needs some text")
    path = entry_path(folder, file)
    path.parent.mkdir(parents=True, exist_ok=True)
    asked = inline(question or "")  # a member's words: one line, no structure of its own
    entry = f"**Q：{asked}**\nA：{text.strip()}" if asked.replace(MASK, "").strip() else text.strip()
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    glue = "" if not existing or existing.endswith("\n\n") else ("\n" if existing.endswith("\n") else "\n\n")
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"{glue}{entry}\n")
    return path
