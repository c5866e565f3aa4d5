"""The command API every feature builds on: a command's spec with its handler, the parsed command and
the context a handler sees.

It sits at the bottom: features (kb, gaps, moderation, schedule, analytics) import this and nothing
of the pipeline or the routes, and declare their commands beside their handlers; agent.commands.catalog
lists them in one place. `Context` is a protocol of what handlers use, so the pipeline's context
satisfies it without features importing it, and tests may hand in their own.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from agent.events import Action, Message, Role, Say

if TYPE_CHECKING:  # types only: the command API must not load the stores, Chroma or a model client
    from agent.gap_screen import Screen
    from agent.kb.store import KnowledgeBase
    from agent.llm.budget import Budget
    from agent.llm.prompts import Prompts
    from agent.llm.provider import LLM
    from agent.settings import GroupConfig, Settings
    from agent.store import Store

OWNERS = frozenset({Role.OWNER})
STAFF = frozenset({Role.OWNER, Role.ADMIN})
EVERYONE = frozenset({Role.OWNER, Role.ADMIN, Role.MEMBER})


class Services(Protocol):
    """The shared services a handler may use (agent.pipeline.Services has them)."""

    settings: Settings
    store: Store
    kb: KnowledgeBase
    prompts: Prompts
    llm: LLM | None
    clock: Callable[[], datetime]
    budget: Budget | None
    screen: Screen | None


class Context(Protocol):
    """One message's surroundings, as handlers see them (agent.pipeline.Context is one)."""

    group: GroupConfig
    services: Services

    def sentence(self, name: str, /, **values: object) -> str: ...


Handler = Callable[["Parsed", Message, Context], list[Action]]


@dataclass(frozen=True)
class CommandSpec:
    """One command: how it is written, who may run it and what runs it, declared together."""

    name: str  # the intent, as eval, the paraphrase bank and the LLM parser name it
    slash: tuple[str, ...]  # accepted slash words, first is canonical: /kb add, /kb_add
    usage: str  # shown on bad arguments and in /help
    handler: Handler
    roles: frozenset[Role] = STAFF
    needs_target: bool = False  # an @member argument
    needs_text: bool = False  # a free-text argument
    confirm: bool = False  # side effect on people: proposed first, `handler` runs on /confirm
    asked: bool = False  # members ask for it as a question ("我错过了什么？"): read even when question-shaped

    def may_run(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Parsed:
    spec: CommandSpec
    text: str = ""  # free-text argument
    targets: tuple[str, ...] = ()  # contact ids of the members it is about (bot excluded)
    slash: bool = False
    extra: dict = field(default_factory=dict)


def say(ctx: Context, msg: Message, text: str) -> list[Action]:
    """A reply in the group that @-mentions the sender (the channel turns it private for a private chat)."""
    return [Say(ctx.group.id, text, (msg.sender.id,))]


def usage(ctx: Context, msg: Message, parsed: Parsed) -> list[Action]:
    return say(ctx, msg, ctx.sentence("cmd_usage", usage=parsed.spec.usage))
