"""URLs as they may appear in logs: no user:password, no query string, no fragment.

An operator may put credentials into `llm.base_url` (`https://user:pass@host/v1?api-key=…`); the bot's
own lines and the HTTP clients' lines (httpx logs every request at INFO) must not carry them into
log files.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit, urlunsplit

from agent import patterns

_URL = patterns.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>]+")
# loggers that write request URLs: the HTTP client under openai (httpx, or httpx2 for openai 3) and
# openai's own debug lines
NOISY_LOGGERS = ("httpx", "httpx2", "openai._base_client", "openai")


def safe_url(url: str | None) -> str:
    """scheme://host[:port]/path of `url`; anything unparseable is replaced whole."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:
        return "<url>"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def scrub(text: str) -> str:
    """`text` with every URL in it made safe."""
    return _URL.sub(lambda m: safe_url(m.group(0)), text)


class ScrubURLs(logging.Filter):
    """Rewrites a record's message with its URLs made safe (formats the message early to do so)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "://" in message:
            record.msg, record.args = scrub(message), None
        return True


_FILTER = ScrubURLs()


def install() -> None:
    """Scrub the URLs in the lines of the loggers that write request URLs (idempotent)."""
    for name in NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
