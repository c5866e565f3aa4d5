"""One model interface over langchain chat models: any OpenAI-compatible endpoint, the local
llama.cpp server (agent.llm.local), or none.

The bot must keep working when the model does not: every failure of a call (timeout, connection,
429/5xx after the retries, an answer that is not a chat completion, no answer by the message's
deadline) reaches the caller as one `LLMUnavailable`, which means "take the no-LLM path". The call
runs on a worker thread so the caller stops waiting at the deadline whatever the endpoint does (a
hang, a trickle of bytes); a late completion is dropped. Retries (tenacity) happen only while the
deadline leaves room for another attempt. A circuit breaker stops a failing endpoint from costing
every message its deadline (agent.llm.breaker).
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from tenacity import Retrying, RetryCallState, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from agent.llm import deadline, local, redact, tokens
from agent.llm.breaker import Breaker
from agent.llm.errors import DeadlinePassed, LLMUnavailable
from agent.settings import ConfigError, LLMSettings

log = logging.getLogger(__name__)

LOCAL_MODEL = "local"  # llama_cpp.server answers with its one loaded model whatever the name
# chat format overhead per message and for priming the reply, for counts when a server reports none
_TOKENS_PER_MESSAGE = 3
_TOKENS_REPLY_PRIMING = 3
MIN_ATTEMPT_S = 0.2  # an attempt with less time than this before the deadline is not started
WORKERS = 8  # model calls in flight at once; more wait their turn (inside their own deadline)


def transient() -> tuple[type[Exception], ...]:
    """Worth another attempt: the endpoint may answer the next one (anything else will not). The openai
    package is imported here, with the client, so a bot in no-LLM mode never loads it (23 MB of RSS)."""
    import openai

    return (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError)


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


class LLM:
    """A chat model behind the two calls the routes need: free text and a closed-set label."""

    def __init__(self, chat: BaseChatModel, *, label: str, model: str, encoding: str = tokens.DEFAULT_ENCODING,
                 breaker: Breaker | None = None, legacy_max_tokens: bool = False,
                 closer: Callable[[], None] | None = None, deadline_s: float = 6.0, attempts: int = 2,
                 attempt_timeout_s: float = 8.0):
        self.chat = chat
        self.label = label  # for the start-up line and logs, e.g. "openai deepseek-chat @ https://…"
        self.model = model
        self.encoding = encoding
        self.breaker = breaker or Breaker()
        self.deadline_s = deadline_s  # from the message to the reply (llm.reply_deadline_s)
        self.attempts = attempts  # 1 + llm.max_retries
        self.attempt_timeout_s = attempt_timeout_s  # llm.timeout_s
        # llama.cpp servers read `max_tokens`; langchain sends only `max_completion_tokens`
        self._legacy_max_tokens = legacy_max_tokens
        self.usage = Usage()
        self._usage_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="llm")
        self._closer = closer  # stops the local server this instance started

    def close(self) -> None:
        """Release what the model needs on this machine (the local server); safe to call twice."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        closer, self._closer = self._closer, None
        if closer is not None:
            closer()

    def complete(self, system: str, user: str, max_tokens: int) -> Completion:
        """One chat turn, done by the message's deadline. Raises LLMUnavailable on any failure, when
        the deadline leaves no time for a call, or when the breaker is open."""
        until = deadline.until(self.deadline_s)
        if until - time.monotonic() < MIN_ATTEMPT_S:
            self._count_failure()  # the endpoint was not tried: not the breaker's business
            raise LLMUnavailable("no time left before the reply deadline")
        try:
            self.breaker.before_call()
        except LLMUnavailable:
            self._count_failure()
            raise
        params: dict = {"max_tokens": max_tokens}
        if self._legacy_max_tokens:
            params["extra_body"] = {"max_tokens": max_tokens}
        gave_up = threading.Event()
        try:
            future = self._pool.submit(self._attempt_all, [SystemMessage(system), HumanMessage(user)], params,
                                       until, gave_up)
            try:
                message = future.result(timeout=max(0.0, until - time.monotonic()))
            except FutureTimeout:
                gave_up.set()  # no further attempt; whatever still arrives is dropped
                future.cancel()
                raise DeadlinePassed(f"no answer within the reply deadline ({self.deadline_s:g} s)") from None
            text = message.content
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"no text in the model's answer: {text!r}")
        except Exception as exc:
            # Network, server and parser errors all surface from here (openai errors, JSON errors,
            # TypeError/IndexError from a body that is not a chat completion), and the deadline:
            # each one means no answer now, and the message must still take the no-LLM path.
            self.breaker.failed()
            self._count_failure()
            reason = redact.scrub(f"{type(exc).__name__}: {exc}")
            log.warning("LLM call failed (%s): %s", self.label, reason)
            raise LLMUnavailable(reason) from exc
        self.breaker.succeeded()
        return self._counted(message, system, user, text)

    def _attempt_all(self, messages: list[BaseMessage], params: dict, until: float,
                     gave_up: threading.Event) -> AIMessage:
        """The call with retries on transient errors, each attempt's timeout cut to the time left;
        no retry is started once the caller has given up or the deadline leaves no room for one."""

        def out_of_time(state: RetryCallState) -> bool:
            left = until - time.monotonic() - (state.upcoming_sleep or 0.0)
            return gave_up.is_set() or left < MIN_ATTEMPT_S

        for attempt in Retrying(stop=stop_after_attempt(self.attempts) | out_of_time,
                                wait=wait_random_exponential(multiplier=0.1, max=1.0),
                                retry=retry_if_exception_type(transient()), reraise=True):
            with attempt:
                left = max(MIN_ATTEMPT_S, until - time.monotonic())
                return self.chat.invoke(messages, timeout=min(self.attempt_timeout_s, left), **params)
        raise AssertionError("unreachable: tenacity either returns or re-raises")

    def _counted(self, message: AIMessage, system: str, user: str, text: str) -> Completion:
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
    from langchain_openai import ChatOpenAI  # here: 24 MB of RSS a bot in no-LLM mode never needs

    chat = ChatOpenAI(
        model=model,
        base_url=base_url,
        api_key=api_key,
        timeout=settings.timeout_s,
        max_retries=0,  # retries are LLM's, inside the reply deadline
    )
    redact.install()
    label = f"{provider} {model} @ {redact.safe_url(base_url) or 'https://api.openai.com/v1'}"
    log.info("LLM mode: %s%s", label, suffix)
    return LLM(chat, label=label, model=model, encoding=settings.encoding, breaker=breaker,
               legacy_max_tokens=legacy, closer=closer, deadline_s=settings.reply_deadline_s,
               attempts=1 + settings.max_retries, attempt_timeout_s=settings.timeout_s)
