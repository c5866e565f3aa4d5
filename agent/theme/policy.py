"""When a judged drift earns a nudge: on the window, not single messages, and rarely.

State (last nudge, nudges today) lives in the store so a restart does not reset the caps.
"""
from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from agent.events import DecisionKind, Message
from agent.settings import GroupConfig
from agent.store import Store


def offtopic_in_window(recent: deque, window: int) -> int:
    """Off-topic judgements among the last `window` messages before this one."""
    return sum(1 for _, d in list(recent)[-window:] if d.kind == DecisionKind.NUDGE)


def follows_drift(message: Message, group: GroupConfig, recent: deque) -> bool:
    """The previous message, moments ago, was off-topic chatter: a short reply or a passing question
    now most likely continues that talk ("是真的吗", "我也看了")."""
    if not recent:
        return False
    prev, decision = recent[-1]
    within = message.ts - prev.ts <= timedelta(minutes=group.theme_policy.reply_minutes)
    return within and decision.kind == DecisionKind.NUDGE


def should_nudge(message: Message, group: GroupConfig, recent: deque, store: Store) -> tuple[bool, str]:
    """(send?, why not). The message itself is already judged off-topic."""
    policy = group.theme_policy
    if not policy.enabled:
        return False, "disabled"
    if message.sender.is_staff:
        return False, "staff chatter"
    if offtopic_in_window(recent, policy.window - 1) + 1 < policy.min_offtopic_in_window:
        return False, "not yet a drift"
    local = message.ts.astimezone(ZoneInfo(group.timezone)) if message.ts.tzinfo else message.ts
    if policy.quiet_hours:
        start, end = policy.quiet_hours
        if (start <= local.hour or local.hour < end) if start > end else (start <= local.hour < end):
            return False, "quiet hours"
    state = store.get(f"theme:{group.id}", {})
    last = datetime.fromisoformat(state["last"]) if state.get("last") else None
    if last and message.ts - last < timedelta(minutes=policy.cooldown_minutes):
        return False, "cooldown"
    day = local.date().isoformat()
    if state.get("day") == day and state.get("count", 0) >= policy.max_per_day:
        return False, "daily cap"
    count = state.get("count", 0) + 1 if state.get("day") == day else 1
    # preview keeps the caps as if it had sent, so its log shows what the live policy would do
    store.put(f"theme:{group.id}", {"last": message.ts.isoformat(), "day": day, "count": count})
    if policy.preview:
        return False, "preview: would nudge"
    return True, ""
