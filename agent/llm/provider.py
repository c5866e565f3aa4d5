"""One model interface over langchain chat models: any OpenAI-compatible endpoint, the local
llama.cpp server (agent.llm.local), or none.

The bot must keep working when the model does not: every failure of a call (timeout, connection,
429/5xx after the client's own retries, an answer that is not a chat completion) reaches the caller
as one `LLMUnavailable`, which means "take the no-LLM path". A circuit breaker stops a dead endpoint
from costing every message a full timeout.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI

from agent.llm import local, tokens
from agent.settings import ConfigError, LLMSettings

log = logging.getLogger(__name__)

LOCAL_MODEL = "local"  # llama_cpp.server answers with its one loaded model whatever the name
# chat format overhead per message and for priming the reply, for counts when a server reports none
_TOKENS_PER_MESSAGE = 3
_TOKENS_REPLY_PRIMING = 3


class LLMUnavailable(Exception):
    """The model could not give a usable answer now; the caller falls back to the no-LLM path."""


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int
    model: str


@dataclass
class Usage:
    """Running totals of one LLM instance, for `/stats` and budgets."""

    calls: int = 0  # calls that returned a usable answer
    failures: int = 0  # calls that ended in LLMUnavailable, including those the breaker refused
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Breaker:
    """Opens after `threshold` consecutive failures; after `cooldown_s` lets one trial call through
    (half-open): its success closes the breaker, its failure opens it for another cool-down."""

    def __init__(self, threshold: int = 3, cooldown_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False  # a half-open trial call is in flight

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            if self._trial or self._clock() - self._opened_at >= self.cooldown_s:
                return "half-open"
            return "open"

    def before_call(self) -> None:
        """Raise LLMUnavailable at once while open; admit a single trial once the cool-down is over."""
        with self._lock:
            if self._opened_at is None:
                return
            if self._trial or self._clock() - self._opened_at < self.cooldown_s:
                raise LLMUnavailable("circuit open: the model endpoint failed repeatedly, cooling down")
            self._trial = True

    def succeeded(self) -> None:
        with self._lock:
            self._failures, self._opened_at, self._trial = 0, None, False

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial or self._failures >= self.threshold:
                self._opened_at, self._trial = self._clock(), False


class LLM:
    """A chat model behind the two calls the routes need: free text and a closed-set label."""

    def __init__(self, chat: BaseChatModel, *, label: str, model: str, encoding: str = tokens.DEFAULT_ENCODING,
                 breaker: Breaker | None = None, legacy_max_tokens: bool = False,
                 closer: Callable[[], None] | None = None):
        self.chat = chat
        self.label = label  # for the start-up line and logs, e.g. "openai deepseek-chat @ https://…"
        self.model = model
        self.encoding = encoding
        self.breaker = breaker or Breaker()
        # llama.cpp servers read `max_tokens`; langchain sends only `max_completion_tokens`
        self._legacy_max_tokens = legacy_max_tokens
        self.usage = Usage()
        self._usage_lock = threading.Lock()
        self._closer = closer  # stops the local server this instance started

    def close(self) -> None:
        """Release what the model needs on this machine (the local server); safe to call twice."""
        closer, self._closer = self._closer, None
        if closer is not None:
            closer()

    def complete(self, system: str, user: str, max_tokens: int) -> Completion:
        """One chat turn. Raises LLMUnavailable on any failure or when the breaker is open."""
        try:
            self.breaker.before_call()
        except LLMUnavailable:
            self._count_failure()
            raise
        params: dict = {"max_tokens": max_tokens}
        if self._legacy_max_tokens:
            params["extra_body"] = {"max_tokens": max_tokens}
        try:
            message = self.chat.invoke([SystemMessage(system), HumanMessage(user)], **params)
            text = message.content
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"no text in the model's answer: {text!r}")
        except Exception as exc:
            # Network, server and parser errors all surface from here (openai errors, JSON errors,
            # TypeError/IndexError from a body that is not a chat completion): each one means no
            # answer now, and the message must still take the no-LLM path.
            self.breaker.failed()
            self._count_failure()
            log.warning("LLM call failed (%s): %s: %s", self.label, type(exc).__name__, exc)
            raise LLMUnavailable(f"{type(exc).__name__}: {exc}") from exc
        self.breaker.succeeded()
        usage = message.usage_metadata
        if usage:
            prompt_tokens, completion_tokens = usage["input_tokens"], usage["output_tokens"]
        else:
            prompt_tokens = (tokens.count(system, self.encoding) + tokens.count(user, self.encoding)
                             + 2 * _TOKENS_PER_MESSAGE + _TOKENS_REPLY_PRIMING)
            completion_tokens = tokens.count(text, self.encoding)
        with self._usage_lock:
            self.usage.calls += 1
            self.usage.prompt_tokens += prompt_tokens
            self.usage.completion_tokens += completion_tokens
        model = message.response_metadata.get("model_name") or self.model
        return Completion(text.strip(), prompt_tokens, completion_tokens, model)

    def classify(self, system: str, user: str, labels: list[str]) -> str | None:
        """The one label of `labels` the model answers with, or None when it answers anything else.

        The caller's prompt lists the labels; a model output outside the set never becomes a label,
        so it cannot steer what the routes do. Raises LLMUnavailable like `complete`.
        """
        room = max(tokens.count(label, self.encoding) for label in labels) + 8
        answer = self.complete(system, user, max_tokens=room).text
        cleaned = answer.strip().strip("\"'“”‘’「」『』【】[]()（）.。!！:：,，").strip()
        by_key = {label.casefold(): label for label in labels}
        return by_key.get(cleaned.casefold())

    def _count_failure(self) -> None:
        with self._usage_lock:
            self.usage.failures += 1


def _auto(settings: LLMSettings, env: Mapping[str, str], data_dir: Path | None) -> tuple[str, str]:
    """auto's choice and its reason: the endpoint whose key is set, else the installed local model, else none."""
    if env.get(settings.api_key_env):
        return "openai", f"{settings.api_key_env} is set"
    why_not = local.missing(data_dir, env)
    if why_not is None:
        return "local", f"{settings.api_key_env} is not set; the local model is installed"
    return "none", f"{settings.api_key_env} is not set and {why_not}"


def _start_local(settings: LLMSettings, env: Mapping[str, str], data_dir: Path | None) -> local.LocalServer:
    why_not = local.missing(data_dir, env)
    if why_not is not None:
        raise ConfigError(f"llm.provider local: {why_not}; {local.INSTALL_HINT}")
    logs = Path(data_dir) / "logs" / "llama-server.log" if data_dir is not None else None
    try:
        return local.LocalServer(local.model_path(data_dir, env), log_path=logs).start()
    except local.LocalServerError as exc:
        raise ConfigError(f"llm.provider local: {exc}") from exc


def make_llm(settings: LLMSettings, env: Mapping[str, str] = os.environ, breaker: Breaker | None = None,
             data_dir: Path | None = None) -> LLM | None:
    """The configured model, or None for the no-LLM mode. Logs the active mode once.

    auto: an OpenAI-compatible endpoint when its key variable is set, else the local model when it is
    installed, else none. local: a llama.cpp server already running at base_url when one is set;
    without base_url, one the bot starts on a free loopback port and `LLM.close()` stops.
    `data_dir` is where the install script put the model (<data_dir>/models/).
    """
    provider, why = settings.provider, ""
    if provider == "auto":
        provider, why = _auto(settings, env, data_dir)
    suffix = f" (auto: {why})" if why else ""
    if provider == "none":
        log.info("LLM mode: none (answers come from the knowledge files without a model)%s", suffix)
        return None
    closer = None
    if provider == "openai":
        api_key = env.get(settings.api_key_env)
        if not api_key:
            raise ConfigError(
                f"llm.provider is openai but the environment variable {settings.api_key_env} "
                f"(llm.api_key_env) is not set: export it, or set llm.provider to none"
            )
        if not settings.model:
            raise ConfigError("llm.model: required for provider openai (e.g. gpt-4o-mini, deepseek-chat)")
        base_url, model, legacy = settings.base_url, settings.model, False
    elif settings.base_url and not why:  # local, served by someone else at base_url
        api_key = env.get(settings.api_key_env) or "no-key"
        base_url, model, legacy = settings.base_url, settings.model or LOCAL_MODEL, True
    else:  # local, started here (auto ignores base_url and model: they belong to the endpoint)
        server = _start_local(settings, env, data_dir)
        api_key, base_url, legacy, closer = "no-key", server.base_url, True, server.stop
        model = (settings.model if not why else None) or server.model.name
    chat = ChatOpenAI(
        model=model,
        base_url=base_url,
        api_key=api_key,
        timeout=settings.timeout_s,
        max_retries=settings.max_retries,  # the openai client's own backoff on 429/5xx/timeouts
    )
    label = f"{provider} {model} @ {base_url or 'https://api.openai.com/v1'}"
    log.info("LLM mode: %s%s", label, suffix)
    return LLM(chat, label=label, model=model, encoding=settings.encoding, breaker=breaker,
               legacy_max_tokens=legacy, closer=closer)
