"""Repeats and bursts from one sender, counted in memory per group and contact id.

A pasted ad sent four times is one ad and three floods: the first copy is judged by its content and
every near-same copy after it is flood. A long message (30+ characters: a pasted ad) repeated once
is already flooding; a short one (a re-asked question, "收到") only from the third copy, since people
do say those twice. Memory is bounded: the least recently active senders are forgotten first.
"""
from __future__ import annotations

import re
from collections import OrderedDict, deque
from datetime import timedelta

from rapidfuzz.distance import Indel

from agent import patterns
from agent.events import Kind, Message
from agent.moderation.detectors import Finding
from agent.moderation.text import fold
from agent.settings import ModerationPolicy

_CODES = patterns.compile(r"\[[^\]]{1,6}\]")  # [图片], [表情]: the client's stand-ins carry no text
_RED_PACKET = patterns.compile(r"\s*\[(红包|red packet)\]", re.I)


class FloodGuard:
    def __init__(self, window: timedelta = timedelta(minutes=10), rate: int = 10,
                 rate_window: timedelta = timedelta(minutes=1), long_text: int = 30,
                 similarity: float = 0.9, max_senders: int = 2000):
        self.window, self.rate, self.rate_window = window, rate, rate_window
        self.long_text, self.similarity, self.max_senders = long_text, similarity, max_senders
        self._seen: OrderedDict[tuple[str, str], deque] = OrderedDict()

    @classmethod
    def of(cls, policy: ModerationPolicy) -> FloodGuard:
        """A guard with a group's own window and per-minute rate."""
        return cls(window=timedelta(minutes=policy.flood_window_minutes), rate=policy.flood_rate)

    def see(self, message: Message) -> Finding | None:
        """Record the message; a Finding if it repeats recent ones or exceeds the sender's rate."""
        key = (message.group_id or "", message.sender.id)
        history = self._seen.pop(key, None) or deque(maxlen=max(self.rate, 20))
        self._seen[key] = history
        while len(self._seen) > self.max_senders:
            self._seen.popitem(last=False)
        text = _CODES.sub("", "".join(fold(message.text).split()))[:400]
        if message.kind == Kind.RED_PACKET or _RED_PACKET.match(message.text or ""):
            text = ""  # red packets carry the client's default greeting; many in a row is generosity
        recent = [(ts, t) for ts, t in history if message.ts - ts <= self.window]
        history.append((message.ts, text))
        copies = sum(1 for _, t in recent if self._same(t, text))
        needed = 1 if len(text) >= self.long_text else 2
        if text and copies >= needed:
            return Finding("flood", "repeated message", 1, 0.9, ("重复", "刷屏", "repeat", "flood", "spam"))
        if sum(1 for ts, _ in recent if message.ts - ts <= self.rate_window) + 1 > self.rate:
            return Finding("flood", "too many messages in a short time", 1, 0.8, ("刷屏", "flood", "spam"))
        return None

    def _same(self, a: str, b: str) -> bool:
        """Equal, or both long and alike by the share of characters in common order (Indel similarity,
        the ratio difflib computes, in C; the cutoff lets it stop early on clearly different texts)."""
        return a == b or (min(len(a), len(b)) >= self.long_text
                          and Indel.normalized_similarity(a, b, score_cutoff=self.similarity) >= self.similarity)
