"""`steward sim`: the terminal group chat through the real WeChat client. python-wechaty talks gRPC to
the loopback puppet service on 127.0.0.1, which plays the group; the user types as its members."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from rich.console import Console

from agent.testing.puppet import LoopbackPuppet
from agent.events import Decision, Kind, Message

console = Console()


HELP = ("/as <名字或id> 切换发言人 · /who 群成员 · /dm <文字> 私聊机器人 · /join <名字> 入群 · /leave <名字> 退群 · "
        "/image <文件> 发图片 · /link <url> [标题] 发链接卡片 · /drop 断开事件流(看重连) · /quit 退出")


class Simulator:
    """Drives the loopback service as the typing member and reports what came back through WeChat."""

    def __init__(self, lb: LoopbackPuppet, channel, group, wait_s: float = 10.0):
        self.lb, self.channel, self.group = lb, channel, group
        self.decisions: dict[str, Decision | None] = {}
        self.people = [*group.owners, *group.admins, *group.members]
        self.sender = next((p.id for p in group.members), "wxid_guest")
        self.wait_s = wait_s

    def observe(self, message: Message, decision: Decision | None) -> None:
        self.decisions[message.id] = decision

    def name(self, contact_id: str) -> str:
        c = self.lb.contacts.get(contact_id)
        return c.name if c else self.group.name_of(contact_id)

    async def handle(self, line: str) -> list[str] | None:
        """One line typed by the user → lines to print. None means quit."""
        line = line.strip()
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if not line:
            return []
        if word in ("/quit", "/exit"):
            return None
        if word == "/help":
            return [HELP]
        if word == "/who":
            return [f"  {p.name}  {p.id} {self.group.role_of(p.id)}" for p in self.people]
        if word == "/as" and rest:
            self.sender = next((p.id for p in self.people if rest in (p.id, p.name)), rest)
            self.lb.add_contact(self.sender, rest)
            room = self.lb.rooms[self.lb.room_of(self.group)]
            if self.sender not in room.member_ids:
                room.member_ids.append(self.sender)
            return [f"  (now speaking as {self.name(self.sender)})"]
        if word in ("/join", "/leave") and rest:
            contact_id = next((p.id for p in self.people if rest in (p.id, p.name)), f"wxid_{rest}")
            before = len(self.lb.sent)
            (self.lb.join if word == "/join" else self.lb.leave)(self.group, contact_id, *([rest] if word == "/join" else []))
            with contextlib.suppress(asyncio.TimeoutError):  # a leave sends nothing: then this just times out
                await self.lb.wait_for(lambda: len(self.lb.sent) > before, 2.0 if word == "/leave" else self.wait_s)
            return self._sent_since(before)
        if word == "/drop":
            started, connects = time.monotonic(), self.lb.connects
            self.lb.drop_stream()
            await self.lb.wait_for(lambda: self.lb.connects > connects, 60)
            await self.channel.wait_logged_in()
            return [f"  (event stream dropped; the client reconnected in {time.monotonic() - started:.2f} s)"]
        if word == "/dm":
            return await self._inject(lambda: self.lb.whisper(self.sender, rest))
        if word == "/image" and rest:
            path = Path(rest).expanduser()
            if not path.is_file():
                return [f"  no such file: {path}"]
            return await self._inject(lambda: self.lb.say(self.group, self.sender, kind=Kind.IMAGE,
                                                          data=path.read_bytes(), filename=path.name))
        if word == "/link" and rest:
            url, _, title = rest.partition(" ")
            return await self._inject(lambda: self.lb.say(self.group, self.sender, kind=Kind.LINK, url=url,
                                                          title=title or url))
        mentions = ("bot",) if line.startswith(f"@{self.group.bot_name}") else ()
        text = line[len(self.group.bot_name) + 1:].lstrip() if mentions else line
        return await self._inject(lambda: self.lb.say(self.group, self.sender, text, mentions=mentions))

    async def _inject(self, send) -> list[str]:
        before = len(self.lb.sent)
        message_id = send()
        try:
            await self.lb.wait_for(lambda: message_id in self.decisions, self.wait_s)
        except asyncio.TimeoutError:
            return ["  (no decision: the channel dropped it — not a managed room, or not from an owner)"]
        await self.channel.runner.drain(self.wait_s)
        decision = self.decisions[message_id]
        lines = [_summary(decision)]
        return lines + self._sent_since(before)

    def _sent_since(self, before: int) -> list[str]:
        out = []
        bot = self.group.bot_name
        for s in self.lb.sent[before:]:
            if s.kind == "text" and s.room_id:
                out.append(f"  {bot}: {s.text}" + (f"   [dim](@ {', '.join(s.mentions)})[/dim]" if s.mentions else ""))
            elif s.kind == "text":
                out.append(f"  ✉ {bot} → {self.name(s.to_id or '')}: {s.text}")
            elif s.kind == "kick":
                out.append(f"  ✂ {bot} removed {self.name(s.to_id or '')} from the group")
            elif s.kind == "file":
                out.append(f"  🖼 {bot} sent {s.file_name} ({len(s.file_bytes)} bytes)")
        return out


def _summary(decision: Decision | None) -> str:
    if decision is None:
        return "  [dim](dropped by the pipeline: a duplicate id or not a managed group)[/dim]"
    facts = [str(decision.kind), f"route={decision.route}", f"{decision.elapsed_ms:.1f} ms"]
    if decision.confidence is not None:
        facts.append(f"confidence={decision.confidence:.2f}")
    if decision.violation:
        facts.append(f"rule {decision.violation.article}: {decision.violation.kind}")
    return "  [dim]└─ " + "  ".join(facts) + "[/dim]"


async def simulate(built, gid: str) -> None:
    """`steward sim`: the loopback service plays the group; the user types as a member."""
    from agent.testing.rig import on_loopback

    logging.getLogger("steward").setLevel(logging.WARNING)
    group = built.settings.groups[gid]
    if not group.room_id:  # in memory only: the simulated room is the group's room from the start
        group.room_id = f"room-{gid}"
    lb = LoopbackPuppet([group], bot_name=group.bot_name)
    sim_ = None

    def observe(message, decision):
        if sim_ is not None:
            sim_.observe(message, decision)

    started = time.monotonic()
    async with on_loopback(built.settings, built.pipeline, puppet=lb, observer=observe) as (_, channel):
        sim_ = Simulator(lb, channel, group)
        console.rule(f"{group.name} — {group.bot_name} · via python-wechaty ↔ puppet service {lb.endpoint}")
        console.print(f"[dim]logged in after {time.monotonic() - started:.2f} s. {HELP}[/dim]")
        while True:
            try:
                line = await asyncio.to_thread(console.input, f"[bold]{sim_.name(sim_.sender)}[/bold]> ")
            except (EOFError, KeyboardInterrupt):
                break
            out = await sim_.handle(line)
            if out is None:
                break
            for text in out:
                console.print(text)
