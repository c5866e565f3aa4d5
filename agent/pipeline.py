"""The path of one group message: drop what is not ours, then the ordered routes, first match wins.

The list of routes below is the whole flow of the bot in one place. Each route is a small object with
a predicate (`match`: "I decide this", where permissions live) and a handler that returns the
Decision. What the message is (question shape, glue, topic verdict, answer candidates) is worked out
once in a view (agent.view) made before the routes and read by all of them. A handler may still
return None when its check finds nothing after all (moderation runs its detectors in the handler),
and the next route decides; the last route always decides, so every message gets exactly one Decision.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Callable, Protocol

from agent import quoting
from agent.bounds import head_and_tail
from agent.channels.base import scrubbed
from agent.clock import local
from agent.events import Action, Decision, DecisionKind, Kick, Member, Message, Recall, Role, Say, Whisper
from agent.kb.tokenize import vocabulary
from agent.llm.deadline import per_message as reply_deadline
from agent.settings import GroupConfig, Settings
from agent.store import Store
from agent.view import MessageView

if TYPE_CHECKING:
    from agent.kb.store import KnowledgeBase
    from agent.gap_screen import Screen
    from agent.llm.budget import Budget
    from agent.llm.prompts import Prompts
    from agent.llm.provider import LLM

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What routes may use. Built once by agent.app; tests build it with fakes."""

    settings: Settings
    store: Store
    kb: KnowledgeBase
    prompts: Prompts
    llm: LLM | None = None  # None in no-LLM mode
    clock: Callable[[], datetime] = datetime.now
    budget: Budget | None = None  # the model's token budget (None without a model)
    screen: Screen | None = None  # which open questions are still work for an owner (set by agent.app)


@dataclass
class Context:
    """Everything a route knows about one message's surroundings."""

    group: GroupConfig
    services: Services
    recent: deque  # recent (Message, Decision) pairs of this group, oldest first
    view: MessageView | None = None  # what the message being decided is, made before the routes

    def view_of(self, message: Message) -> MessageView:
        """The message's view: the pipeline's, or a fresh one for a caller that runs a route by hand."""
        if self.view is None or self.view.message is not message:
            self.view = MessageView(message, self.group, self.recent)
        return self.view

    def sentence(self, name: str, /, **values) -> str:
        return self.services.prompts.render(name, self.group.language, **values)


class Route(Protocol):
    name: str

    def match(self, message: Message, ctx: Context) -> bool: ...

    def handle(self, message: Message, ctx: Context) -> Decision | None: ...


class Pipeline:
    """Dispatches messages through `routes` in order. One instance serves every managed group."""

    def __init__(self, services: Services, routes: list[Route], window: int = 12, observers: list | None = None):
        self.services = services
        self.routes = routes
        # observers (analytics) see every decision, join and leave; optional methods
        # decided(message, decision), joined(group_id, member, ts), left(group_id, member, ts),
        # recalled(group_id, message_id), deciding(message, decision) (inside the decision's transaction)
        self.observers = observers or []
        self._recent: dict[str, deque] = {}
        self._window = window
        self._deciding: set[str] = set()  # message ids being decided now, by any dispatch thread
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Drop the recent-message windows (a fresh sandbox starts with no chat behind it)."""
        self._recent.clear()

    def warm(self) -> None:
        """Let routes load what they load lazily, so the first member message is as fast as the rest."""
        for route in self.routes:
            warm = getattr(route, "warm", None)
            if warm is not None:
                warm()

    def group_of(self, message: Message) -> GroupConfig | None:
        return self.services.settings.groups.get(message.group_id or "")

    def resolve_private(self, message: Message) -> Message | Decision:
        """A private chat names no group. An owner of several groups starts with "#<group id or name>";
        otherwise the one group the sender runs is meant. Without either, they are asked which."""
        groups = self.services.settings.groups
        text = message.text.strip()
        if text.startswith("#"):
            for gid, g in groups.items():
                for label in (gid, g.name):
                    if label and text[1:].startswith(label):
                        rest = text[1 + len(label):].strip()
                        return replace(message, group_id=gid, text=rest, private=True, to_bot=True)
        if message.group_id in groups:
            return replace(message, private=True, to_bot=True)
        staffed = [gid for gid, g in groups.items() if g.role_of(message.sender.id) != Role.MEMBER]
        if len(staffed) == 1:
            return replace(message, group_id=staffed[0], private=True, to_bot=True)
        lang = next(iter(groups.values())).language if groups else "zh"
        listing = "\n".join(f"#{gid} {g.name}" for gid, g in groups.items()
                            if gid in staffed or not staffed)
        text = self.services.prompts.render("private_which_group", lang, groups=listing)
        return Decision(DecisionKind.IGNORE, message.id, route="private", actions=[Whisper(message.sender.id, text)])

    def with_role(self, message: Message, group: GroupConfig) -> Message:
        """Stamp the sender's role from config by contact id. A channel may have marked a room's
        real owner already (OWNER from WeChat); nothing in the text can raise a role."""
        role = group.role_of(message.sender.id)
        if message.sender.role == Role.OWNER and role == Role.MEMBER:
            role = Role.OWNER
        if role == message.sender.role:
            return message
        sender = Member(message.sender.id, message.sender.name, role)
        return replace(message, sender=sender)

    def dispatch(self, message: Message) -> Decision | None:
        """Decide one message. None means dropped before routing (unmanaged group, own or seen id)."""
        started = time.perf_counter()
        if message.sender.role == Role.BOT:
            return None
        if message.private or message.group_id is None:
            resolved = self.resolve_private(message)
            if isinstance(resolved, Decision):
                return resolved
            message = resolved
        group = self.group_of(message)
        if group is None:
            return None
        if isinstance(message, Recall):
            self.recalled(group.id, message.recalled)
            return None
        if not self._claim(message.id):
            log.info("dropped duplicate message %s", message.id)
            return None
        try:
            message = self.with_role(self._bounded(_encodable(on_clock(message, group))), group)
            recent = self._recent.setdefault(group.id, deque(maxlen=self._window))
            store = self.services.store
            with store.deciding(), self._vocabulary(group.id):  # its strikes and gaps wait for the transaction below
                view = MessageView(message, group, recent)
                ctx = Context(group=group, services=self.services, recent=recent, view=view)
                decision = self._decide(message, ctx)
                self._notify("deciding", message, decision)  # what it writes (its outbox rows) lands below
                # seen, decided and recorded in one transaction: a crash before it leaves a redelivery to decide
                if not store.decided(message.id, message.ts, decision.kind.value):
                    log.info("dropped message %s: another delivery of it was decided first", message.id)
                    return None
        finally:
            with self._lock:
                self._deciding.discard(message.id)
        decision.elapsed_ms = (time.perf_counter() - started) * 1000
        recent.append((message, decision))
        self._notify("decided", message, decision)
        return decision

    def _vocabulary(self, group_id: str):
        """Cut this group's text with its own knowledge's words (agent.kb.tokenize), never another's."""
        kb = self.services.kb
        return kb.vocabulary(group_id) if kb is not None else vocabulary(frozenset())

    def _claim(self, message_id: str) -> bool:
        """Whether this delivery is the one to decide: the id was not decided before and no other
        delivery of it is being decided right now (a reconnect can redeliver mid-decision)."""
        with self._lock:
            if message_id in self._deciding or self.services.store.seen(message_id):
                return False
            self._deciding.add(message_id)
            return True

    def _bounded(self, message: Message) -> Message:
        """A message longer than `judge_chars` is judged on its head and tail, so a 100 KB paste costs
        every check what a screenful does, and what is put at either end is still read."""
        limit = self.services.settings.judge_chars
        text, quote = message.text, message.quote
        if len(text) <= limit and (quote is None or len(quote) <= limit):
            return message
        return replace(message, text=head_and_tail(text, limit),
                       quote=None if quote is None else head_and_tail(quote, limit))

    def _decide(self, message: Message, ctx: Context) -> Decision:
        """Route the message; then a muted group hears nothing but commands, and a private chat's
        replies go back privately."""
        with reply_deadline(self.services.settings.llm.reply_deadline_s):  # every model call of this message
            decision = self._route(message, ctx)
        if decision.route != "commands" and self.muted(ctx.group.id, message.ts):
            decision.actions = [a for a in decision.actions if not isinstance(a, Say)]
            decision.detail["muted"] = True
        if message.private:
            decision.actions = [self._privately(a, message) for a in decision.actions]
        return decision

    @staticmethod
    def _privately(action: Action, message: Message) -> Action:
        """In a private chat, a reply to the sender goes back privately; posts to the group stay."""
        if isinstance(action, Say) and message.sender.id in action.mentions:
            return Whisper(message.sender.id, action.text)
        return action

    def _notify(self, event: str, *args) -> list[Action]:
        """Tell the observers; the actions any returns (a blocklisted member joining) are carried out."""
        actions: list[Action] = []
        for observer in self.observers:
            handler = getattr(observer, event, None)
            if handler is None:
                continue
            try:
                got = handler(*args)
            except Exception:  # a statistics bug must not cost a member their answer
                log.exception("observer %s failed on %s", type(observer).__name__, event)
                continue
            if isinstance(got, list):
                actions += got
        return actions

    def muted(self, group_id: str, now: datetime) -> bool:
        """An owner asked the bot to be quiet (/mute): it still judges and records, but says nothing
        in the group except to commands."""
        until = self.services.store.get(f"mute:{group_id}")
        return bool(until) and now < datetime.fromisoformat(until)

    def on_join(self, group_id: str, member: Member, ts: datetime) -> list[Action]:
        """A member joined: tell the observers and welcome them with the group's rules
        (prompts/<lang>/welcome.txt). The name is the member's own text: a name that advertises is
        welcomed as the neutral form, and not @-mentioned (the channel would write the name out)."""
        group = self.services.settings.groups.get(group_id)
        if group is None:
            return []
        told = self._notify("joined", group.id, member, ts)
        if any(isinstance(a, Kick) for a in told):  # removed on sight (agent.blocklist): no welcome
            return told
        rules = "\n".join(f"{i}. {r.text}" for i, r in enumerate(group.rules, 1))
        neutral = self.services.prompts.render("name_fallback", group.language)
        text = self.services.prompts.render(
            "welcome", group.language, name=quoting.display_name(member.name, neutral), group=group.name or group.id,
            bot=group.bot_name, theme=group.theme, rules=rules)
        if group.probation.agree:  # agent.probation: until they reply, /newcomers lists them
            text += "\n" + self.services.prompts.render("probation_agree", group.language)
        return [Say(group.id, text, (member.id,) if quoting.contact_free(member.name or "") else ()), *told]

    def recalled(self, group_id: str, message_id: str) -> None:
        """A sender took a message back: the observers forget its words (the transcript hides it)."""
        if group_id in self.services.settings.groups and message_id:
            self._notify("recalled", group_id, message_id)

    def on_leave(self, group_id: str, member: Member, ts: datetime) -> None:
        if group_id in self.services.settings.groups:
            self._notify("left", group_id, member, ts)

    def _route(self, message: Message, ctx: Context) -> Decision:
        for route in self.routes:
            try:
                if not route.match(message, ctx):
                    continue
                decision = route.handle(message, ctx)
            except Exception:  # one route's bug must never take the listener down
                log.exception("route %s failed on message %s", route.name, message.id)
                continue
            if decision is not None:
                return decision
        return Decision(DecisionKind.IGNORE, message.id, route="ignore")


def _encodable(message: Message) -> Message:
    """The message with lone surrogates replaced, if a channel let any through: they cannot be
    written to SQLite, a log or a model request, and would fail the decision's writes."""
    fields = (message.id, message.text, message.sender.id, message.sender.name, message.quote or "", message.url or "")
    try:
        for value in fields:
            value.encode("utf-8")
    except UnicodeEncodeError:
        return scrubbed(message)
    return message


def on_clock(message: Message, group: GroupConfig) -> Message:
    """The message stamped on its group's clock (agent.clock): every time read from it downstream,
    shown or stored, is the group's wall time whatever the server's zone."""
    return replace(message, ts=local(message.ts, group.timezone))
