"""Make python-wechaty 0.10.7 importable on Python 3.11 without side effects in the working directory.

Import this module, never `wechaty` directly: `prepare()` must run before the first wechaty import.
Only the PuppetOptions fix is still needed here because pyee<12 and urllib3<2 are pinned in
pyproject.toml (python-wechaty #385, #422); the pins are checked so a resolver change fails loudly
instead of as an obscure AttributeError deep inside the client.
"""
from __future__ import annotations

import os
from pathlib import Path

_done = False


class WechatyUnavailable(RuntimeError):
    """The wechaty client cannot be imported in this environment; the message says what to install."""


def prepare(cache_dir: Path | str | None = None) -> None:
    """Apply the shims once. `cache_dir` replaces the client's `./.wechaty` (it writes a job store there)."""
    global _done
    if _done:
        return
    if cache_dir is not None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("CACHE_DIR", str(cache_dir))
    # The client's own loggers print every event at INFO to stderr; ours say what matters plainly.
    os.environ.setdefault("WECHATY_LOG", "warn")
    try:
        import pyee
        import urllib3.util
        from wechaty_puppet.schemas.puppet import PuppetOptions
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise WechatyUnavailable(f"the WeChat channel needs the wechaty packages: {exc}") from exc
    if not hasattr(pyee, "AsyncIOEventEmitter"):
        raise WechatyUnavailable("wechaty 0.10.7 needs pyee<12 (pyee 12 removed AsyncIOEventEmitter)")
    if not hasattr(urllib3.util, "get_host"):
        raise WechatyUnavailable("wechaty 0.10.7 needs urllib3<2 (urllib3 2 removed util.get_host)")
    # Python 3.11 rejects a dataclass default whose class is unhashable; WechatyOptions uses
    # `puppet_options: PuppetOptions = PuppetOptions()`. Identity hashing is what 3.10 allowed.
    if PuppetOptions.__hash__ is None:
        PuppetOptions.__hash__ = object.__hash__
    import logging

    # PuppetService warns on every connect that it uses the endpoint rather than the token: expected here.
    logging.getLogger("PuppetService").addFilter(lambda r: not r.getMessage().startswith("there are endpoint<"))
    # Two messages of one room loading its payload at once both set it: harmless, but warned about.
    logging.getLogger("Accessory").addFilter(lambda r: "set payload more than once" not in r.getMessage())
    _done = True
