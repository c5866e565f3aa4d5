"""Knowledge files → chunks, ready to embed.

Markdown is split at headings first (the heading path is kept as metadata and prefixed to the
embedded text, because a passage like "A：可以…" only makes sense under its question), then to the
configured size at Chinese sentence boundaries. An FAQ pair is never cut: a question separated from
its answer retrieves nothing useful. Chunk ids hash the content and position, so re-ingesting an
unchanged file yields the same ids.
"""
from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter
from agent import patterns
from agent.kb import tables

SUFFIXES = (".md", ".markdown", ".txt")
SEP = " › "
# bump when the chunking logic changes, so every file is re-chunked on the next sync
CHUNKER_VERSION = 4
_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")]
_SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "!", "?", ";", "，", ",", " ", ""]
_QUESTION = patterns.compile(
    r"^\s*(?:[-*]\s*)?(?:\*\*)?\s*(?:Q\d*|问\d*|问题|question)\s*[:：]\s*(?P<q>.+?)\s*(?:\*\*)?\s*$", re.I)
_ASKING = patterns.compile(r"[？?]\s*$")
# a list item ("1. ", "- ", "（2）") or bold text opening a line, then the rest of the line
_ITEM = patterns.compile(r"^\s*(?:[-*+]\s+|\d{1,3}[.、)）]\s*|[（(]\d{1,3}[)）]\s*)(?P<rest>.*)$")
_BOLD = patterns.compile(r"^\*\*(?P<bold>[^*]+)\*\*\s*(?P<rest>.*)$")
_ASKED_PART = patterns.compile(r"^(?P<q>[^？?]{2,60}[？?])\s*(?P<rest>.*)$")
PLAIN_QUESTION = 60  # a line this short that ends with "?" is a question heading the lines below it
_TABLE_QUESTION = {"问题", "问", "提问", "常见问题", "q", "question", "questions", "faq"}
_UNIT = patterns.compile(r"[^\n。！？；!?;]*[。！？；!?;]|[^\n。！？；!?;]+")  # a sentence, or a line's unended rest
_WORDY = patterns.compile(r"\w")
# an HTML comment alone on its line ends an entry: the who-and-when note under each fact added in chat
_NOTE_LINE = patterns.compile(r"^[ \t]*<!--[^\n]*?-->[ \t]*$", re.M)
# stands for a note line between uncommenting and splitting: printable, or the Markdown splitter drops it
_ENTRY_END = "⟦entry-end⟧"
_CLAUSE = patterns.compile(r"[^，,：:；;。！？!?、\n]+")
CLAUSE_CHARS = 4  # shorter clauses ("新规", "另外") say nothing a question would be asked about


@dataclass(frozen=True)
class Chunk:
    id: str
    scope: str
    file: str  # path relative to the scope folder, posix
    heading: str  # heading path below the document title, e.g. "报名 › 早鸟票截止到哪天？"
    question: str  # the question of an FAQ pair, else ""
    text: str  # raw text, what an answer quotes
    index: int
    content_hash: str  # of the whole file
    title: str = ""
    # an entry added in chat is also embedded as the question it answered and each of its clauses:
    # one short fact is asked about in words far from its whole sentence
    phrasings: tuple[str, ...] = ()

    @property
    def embed_text(self) -> str:
        """What gets embedded: the heading path (and question) give a terse passage its topic."""
        head = self._head(with_title=True)
        return f"{head}\n{self.text}" if head else self.text

    def _head(self, with_title: bool) -> str:
        parts = [self.title if with_title else "", self.heading]
        if self.question not in self.heading:
            parts.append(self.question)
        return SEP.join(p for p in parts if p)

    @property
    def units(self) -> list[str]:
        """Embedded texts of the chunk's lines and sentences, each under the heading path. A short
        question is nearer to the one sentence that answers it than to a whole passage, so dense
        retrieval scores a chunk by its best unit."""
        head = self._head(with_title=False)
        pieces = [_table_row(p.strip()) for p in _UNIT.findall(self.text) if _WORDY.search(p)]
        units = [f"{head}\n{p}" if head else p for p in pieces if p]
        return units + [p for p in self.phrasings if p not in units]

    def metadata(self, chunker: str) -> dict:
        return {"scope": self.scope, "file": self.file, "heading": self.heading,
                "question": self.question, "title": self.title, "index": self.index,
                "content_hash": self.content_hash, "chunker": chunker}


def _table_row(line: str) -> str:
    """A Markdown table row embeds as its cells ('每周六 6:30 集合，长距离慢跑，跑者驿站'), not as
    pipes; the separator row embeds as nothing."""
    if not line.startswith("|"):
        return line
    return "，".join(c for c in tables.cells(line) if c and not set(c) <= set(":- "))


def chunker_signature(chunk_size: int, chunk_overlap: int) -> str:
    return f"v{CHUNKER_VERSION}:{chunk_size}:{chunk_overlap}"


class NotText(ValueError):
    """The file's bytes are not text in any encoding an editor saves (an image, an archive, a PDF)."""


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_CONTROL_SHARE = 0.01  # more control characters than this and it is not prose in any encoding


def decode(data: bytes) -> str:
    """A knowledge file's text as the operator's editor saved it. A byte-order mark decides; then
    UTF-8; then GB18030 (a superset of GBK, what Chinese Windows editors save), preferred to a guess
    because a short GBK line is often mistaken for Korean; then charset-normalizer (UTF-16 without a
    mark, Big5, others). Raises NotText when nothing yields readable text."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _readable(data.decode(encoding))
            except UnicodeDecodeError:
                raise NotText(f"starts with a {encoding} byte-order mark but is not {encoding} text") from None
    if b"\x00" not in data:  # NUL bytes: UTF-16 without a mark, or binary; never UTF-8 or GBK prose
        for encoding in ("utf-8", "gb18030"):
            try:
                return _readable(data.decode(encoding))
            except (UnicodeDecodeError, NotText):
                continue
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise NotText("not text in any encoding (binary?)")
    return _readable(str(best))


def _readable(text: str) -> str:
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v")
    if controls > _CONTROL_SHARE * max(len(text), 1):
        raise NotText("mostly control characters (binary?)")
    return text


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def knowledge_files(folder: Path) -> dict[str, Path]:
    """Knowledge files under `folder`, keyed by their posix path relative to it. Hidden names and names
    starting with "_" are skipped: the latter are the operator's notes (`steward init` writes _README.md)."""
    if not folder.is_dir():
        return {}
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and path.suffix.lower() in SUFFIXES and not any(
            p.startswith((".", "_")) for p in rel.parts
        ):
            found[rel.as_posix()] = path
    return found


def _blocks(body: str) -> list[tuple[str, str, bool]]:
    """Split a section body into (question, text, entry) blocks: each FAQ pair runs from its question
    to the next question and stays whole; prose before the first question is ("", text). A note line
    ends an entry (`entry` true): the block before it is a passage of its own.

    FAQ shapes: labelled lines (`Q：…` / `**问：…**` / `Question: …`, kept in the text as written),
    and, with the question kept only as metadata so a quote gives the answer: a bold question
    (`**能带朋友吗？** 可以…`), a list item that asks (`1. 能带朋友吗？` and its answer below or after
    it), a short line ending in a question mark, a bold line of its own titling the lines below it
    (a topic instead of a question), and a table whose rows are question and answer."""
    blocks: list[tuple[str, list[str]]] = [("", [])]
    entries: set[int] = set()  # positions of the blocks a note line closed
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == _ENTRY_END:
            entries.add(len(blocks) - 1)
            blocks.append(("", []))
            i += 1
            continue
        if line.lstrip().startswith("|"):
            table = []
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                table.append(lines[i])
                i += 1
            pairs = _table_pairs(table)
            if pairs:
                blocks.extend((q, [a]) for q, a in pairs)
                blocks.append(("", []))
            else:
                blocks[-1][1].extend(table)
            continue
        labelled = _QUESTION.match(line)
        if labelled:
            blocks.append((labelled.group("q").strip("*").strip(), [line]))
        elif (asked := _asked(line)) is not None:
            blocks.append((asked[0], [asked[1]] if asked[1] else []))
        else:
            blocks[-1][1].append(line)
        i += 1
    return [(q, text, n in entries) for n, (q, lines) in enumerate(blocks) if (text := "\n".join(lines).strip())]


def _asked(line: str) -> tuple[str, str] | None:
    """(question, answer on the same line) when `line` opens an FAQ pair in an unlabelled shape."""
    item = _ITEM.match(line)
    rest = (item.group("rest") if item else line).strip()
    bold = _BOLD.match(rest)
    if bold and _ASKING.search(bold.group("bold")):
        return bold.group("bold").strip(), bold.group("rest").strip()
    if bold and not item and not bold.group("rest") and len(bold.group("bold")) <= PLAIN_QUESTION:
        # a bold line of its own titles the lines below it, as a heading would ("**Offsite storage**")
        return bold.group("bold").strip().rstrip(":：").strip(), ""
    if item:
        found = _ASKED_PART.match(rest.replace("**", ""))
        return (found.group("q"), found.group("rest")) if found else None
    plain = rest.replace("**", "").strip()
    return (plain, "") if len(plain) <= PLAIN_QUESTION and _ASKING.search(plain) else None


def _table_pairs(rows: list[str]) -> list[tuple[str, str]]:
    """A Markdown table of questions and answers as (question, answer) pairs, or [] for any other
    table. It is one when its first column is headed as the questions, or most of its rows ask."""
    cells = [c for c in map(tables.cells, rows) if c]
    if len(cells) < 2 or min(len(c) for c in cells) < 2:
        return []
    head, body = cells[0], cells[1:]
    asking = sum(bool(_ASKING.search(r[0])) for r in body)
    if head[0].strip("*").lower() not in _TABLE_QUESTION and asking * 2 < len(body):
        return []
    return [(r[0].strip("*"), "；".join(c.replace("<br>", "\n") for c in r[1:] if c)) for r in body if r[0]]


def _sections(text: str, markdown: bool) -> list[tuple[str, list[str], str]]:
    """(document title, heading path below it, body) per section. A single H1 is the document's
    title, not a topic of its own, so it is kept apart from the heading path."""
    if not markdown:
        return [("", [], text.strip())]
    docs = MarkdownHeaderTextSplitter(_HEADERS, strip_headers=True).split_text(text)
    single_title = len({d.metadata["h1"] for d in docs if "h1" in d.metadata}) == 1
    out = []
    for doc in docs:
        keys = [key for _, key in _HEADERS if key in doc.metadata]
        title = doc.metadata.get("h1", "") if single_title else ""
        path = [doc.metadata[k] for k in keys if not (title and k == "h1")]
        body = "\n".join(line.rstrip() for line in doc.page_content.splitlines()).strip()
        out.append((title, path, body))
    return out


def uncommented(text: str) -> str:
    """Markdown without its HTML comments: invisible to a reader, so not knowledge to quote (the
    who-and-when note under an entry added in chat was answered to members as part of the entry).
    A comment alone on its line leaves an entry end behind."""
    text = _NOTE_LINE.sub(_ENTRY_END, text)
    out, at = [], 0
    while (start := text.find("<!--", at)) >= 0 and (end := text.find("-->", start + 4)) >= 0:
        out.append(text[at:start])
        at = end + 3
    return "".join(out) + text[at:]


def chunk_text(scope: str, file: str, text: str, chunk_size: int, chunk_overlap: int,
               content_hash: str = "") -> list[Chunk]:
    """Chunks of one file's text; `file` decides Markdown (by suffix) and goes into the metadata."""
    content_hash = content_hash or file_hash(text.encode("utf-8"))
    markdown = not file.lower().endswith(".txt")
    text = uncommented(text) if markdown else text
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=min(chunk_overlap, chunk_size // 2),
        separators=_SEPARATORS, keep_separator="end", strip_whitespace=True,
    )
    chunks: list[Chunk] = []
    for title, path, body in _sections(text, markdown):
        heading = SEP.join(path)
        # a "### question?" heading makes its whole section one FAQ pair
        asked = path[-1] if path and _ASKING.search(path[-1]) else ""
        blocks = [(asked, body.replace(_ENTRY_END, ""), False)] if asked else _blocks(body)
        for question, block, entry in blocks:
            for piece in [block] if question else splitter.split_text(block):
                index = len(chunks)
                key = "\x00".join([scope, file, heading, str(index), piece])
                cid = hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]
                chunks.append(Chunk(cid, scope, file, heading, question, piece, index, content_hash, title,
                                    phrasings(question, piece) if entry else ()))
    return chunks


def phrasings(question: str, text: str) -> tuple[str, ...]:
    """What an entry is likely asked as, without a model: the question it answered (when known) and
    each of its clauses (the fact's first clause is usually its topic). The pair's labelled
    question line is not a clause of the answer."""
    body = "\n".join(line for line in text.splitlines() if not _QUESTION.match(line)) if question else text
    clauses = [c.strip(" *") for c in _CLAUSE.findall(body.replace("**", ""))]
    clauses = [c for c in clauses if len(c) >= CLAUSE_CHARS and _WORDY.search(c)]
    return tuple(dict.fromkeys([question, *clauses] if question else clauses))


_TERM_SOURCES = [
    patterns.compile(r"^#{1,6}\s+(.+)$", re.M),  # headings
    patterns.compile(r"\*\*(.+?)\*\*"),  # bold
    patterns.compile(r"[“「『《\"](.+?)[”」』》\"]"),  # quoted terms and titles
    patterns.compile(r"^\s*(?:[-*+]|\d+[.、])\s*([^：:\n]{2,8})[：:]", re.M),  # labels: "- 发票：…"
]
_ASCII = patterns.compile(r"[A-Za-z][A-Za-z0-9+#]+")
_PIECE = patterns.compile(r"\w+")
_NUMBERING = patterns.compile(r"^(?:[一二三四五六七八九十]+|\d+|[A-Za-z])$")


def domain_terms(text: str, headings: list[str] | tuple[str, ...] = (), max_len: int = 6) -> set[str]:
    """Words the knowledge itself marks as terms (headings, bold, quotes, list labels, ASCII names),
    for jieba.

    Only short pieces are kept: a whole heading sentence as one jieba word would hide its parts."""
    marked = [found for pattern in _TERM_SOURCES for found in pattern.findall(text)]
    terms = set(_ASCII.findall(text))
    for piece in (p for found in [*marked, *headings] for p in _PIECE.findall(found)):
        if 2 <= len(piece) <= max_len and not _NUMBERING.match(piece) and not piece.isdigit():
            terms.add(piece)
    return terms
