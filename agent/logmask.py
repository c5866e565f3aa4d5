"""Secrets never reach a log line, whoever writes it.

python-wechaty logs the puppet token ("there are two tokens from options[adopted]<…>") through its
own handlers, which do not propagate, so a filter on our loggers or on the root would miss it. The
mask is applied where every record is made (the logging record factory): any logger, any handler,
exception text included, a secret reads as "***".
"""
from __future__ import annotations

import logging
import os
from typing import Mapping

MASK = "***"
SECRET_SUFFIXES = ("TOKEN", "KEY", "SECRET", "PASSWORD")
MIN_ENV_SECRET = 6  # shorter values of such variables are placeholders, and masking them would garble lines

_secrets: set[str] = set()
_installed = False


def protect(*values: str | None) -> None:
    """Mask these values in every log record from now on."""
    _secrets.update(v for v in values if v)
    install()


def protect_environment(env: Mapping[str, str] = os.environ) -> None:
    """Mask the values of environment variables named like secrets (…_TOKEN, …_API_KEY, …_SECRET)."""
    protect(*(value for name, value in env.items()
              if name.upper().endswith(SECRET_SUFFIXES) and len(value) >= MIN_ENV_SECRET))


def mask(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):  # longest first: one secret may contain another
        text = text.replace(secret, MASK)
    return text


def install() -> None:
    """Wrap the record factory once (idempotent)."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def masked_record(*args, **kwargs) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if not _secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: the handler reports it, with nothing of ours in it
            return record
        if (clean := mask(message)) != message:
            record.msg, record.args = clean, None
        if record.exc_info:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(masked_record)
    _installed = True
