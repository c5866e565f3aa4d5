"""`steward run` (the bot on WeChat through a puppet service) and `steward sim` (the terminal group chat,
but through the real python-wechaty client and the loopback puppet service).

Mounted by agent/cli.py with `register(app)`; the app itself comes from `agent.app.build`.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console

from agent.channels.binding import BindError, RoomBook
from agent.channels.puppet_loopback import LoopbackPuppet
from agent.events import Decision, Kind, Message

console = Console()
err = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("sim")(sim)
    app.command("rooms")(rooms)


def run(
    config: Path = typer.Option(Path("config"), "--config", help="Config folder."),
    workers: int = typer.Option(4, "--workers", min=1, help="Messages decided at once (across groups)."),
):
    """Run the bot in WeChat: connect to the puppet service in WECHATY_PUPPET_SERVICE_ENDPOINT (host:port,
    token in WECHATY_PUPPET_SERVICE_TOKEN) and manage the groups in config. Ctrl-C stops after the
    messages in hand are answered."""
    from agent.app import build
    from agent.channels.wechaty import ChannelConfigError, WechatyChannel
    from agent.cli import settings_or_exit

    logging.getLogger("steward").setLevel(logging.INFO)  # login, logout, errors, joins, in plain words
    settings = settings_or_exit(config)
    if not settings.groups:
        err.print(f"[red]No groups in {settings.groups_dir}[/red]: add one (see config/groups/demo.yaml).")
        raise typer.Exit(2)
    built = build(settings)
    try:
        channel = WechatyChannel(settings, built.pipeline, workers=workers)
    except ChannelConfigError as exc:
        err.print(f"[red]Cannot connect to WeChat[/red]: {exc}")
        built.close()
        raise typer.Exit(2) from None
    built.sync_knowledge(progress=True)
    console.print(f"Connecting to the puppet service at [bold]{channel.endpoint}[/bold] "
                  f"(LLM: {built.llm_name}). Managing {len(settings.groups)} group(s):")
    book = RoomBook(settings.groups, built.store)
    for g in settings.groups.values():
        room = book.room_of(g.id)
        where = (f"room {room}" if room else f"[yellow]not bound[/yellow]: an owner says /bind in the room “{g.topic}”"
                 if g.topic else "[red]no room_id or topic[/red]")
        console.print(f"  • {g.name or g.id} [dim]({g.id})[/dim] — {where}; {len(g.owners)} owner(s), {len(g.rules)} rule(s)")
    console.print("Other rooms are ignored. Ctrl-C to stop.")
    try:
        asyncio.run(_serve(channel, built))
    finally:
        built.close()


def rooms(
    config: Path = typer.Option(Path("config"), "--config", help="Config folder."),
    bind: str | None = typer.Option(None, "--bind", metavar="ROOM_ID",
                                    help="Make this WeChat room the group's room (the id from this listing)."),
    group: str | None = typer.Option(None, "--group", "-g", help="The group to bind (needed when the room "
                                     "was not seen with exactly one group's topic)."),
):
    """Each group's WeChat room: bound (in config, by an owner's /bind, or here) or not yet, and the rooms
    `steward run` has seen with the group's topic. A room is never taken by its topic alone."""
    from agent.cli import settings_or_exit
    from agent.store import Store

    settings = settings_or_exit(config)
    store = Store(settings.db_path)
    try:
        book = RoomBook(settings.groups, store)
        if bind:
            gid = group or book.group_seeing(bind)
            if gid is None:
                err.print(f"Room {bind} was not seen with exactly one group's topic: name the group with --group.")
                raise typer.Exit(2)
            try:
                book.bind(gid, bind, by="steward rooms")
            except BindError as exc:
                err.print(f"Cannot bind: {exc}")
                raise typer.Exit(2) from None
            console.print(f"Group {gid} is bound to room {bind}. A running bot serves it from that room's next "
                          "message; other rooms with its topic are ignored.")
        _print_rooms(settings, book)
    finally:
        store.close()


def _print_rooms(settings, book: RoomBook) -> None:
    for g in settings.groups.values():
        room, record = book.room_of(g.id), book.binding(g.id)
        how = "in its config file" if g.room_id else f"by {record['by']} at {record['at']}" if record else ""
        state = f"room {room} (bound {how})" if room else "[yellow]no room bound[/yellow]"
        console.print(f"{g.id}  “{g.topic or ''}”  {state}")
        for rid, seen in book.seen(g.id).items():
            console.print(f"    same topic, not served: room {rid}, WeChat owner {seen.get('owner_id') or '?'}, "
                          f"{seen.get('members', 0)} members, first seen {seen.get('at', '?')}")


TICK_S = 30.0  # how often scheduled posts and digests are looked at


async def _serve(channel, built) -> None:
    """The channel, plus the bot's own clock (scheduled posts, digests) and the knowledge watcher."""
    from agent.channels.runner import stop_on_signals
    from agent.kb.watch import watch_knowledge

    stop = asyncio.Event()
    undo = stop_on_signals(stop)
    background = [
        asyncio.create_task(_clock(channel.runner, built, stop)),
        asyncio.create_task(watch_knowledge(built.kb, built.settings.kb.knowledge_dir, built.sources, stop)),
    ]
    try:
        await channel.run(stop)
    finally:
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
        undo()


async def _clock(runner, built, stop: asyncio.Event) -> None:
    while not stop.is_set():
        runner.clock(lambda: built.tick(datetime.now().astimezone()))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), TICK_S)


def sim(
    group: str = typer.Option("demo", "--group", "-g", help="Group id from config/groups."),
    config: Path = typer.Option(Path("config"), "--config"),
):
    """The terminal group chat through the real WeChat client: python-wechaty talks gRPC to a puppet
    service on 127.0.0.1 that plays the group. Type as a member; /help lists the commands."""
    from agent.cli import _app_for

    built, gid = _app_for(config, group, ephemeral=True)  # strikes and gaps of a simulation are not real
    try:
        asyncio.run(_simulate(built, gid))
    finally:
        built.close()


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


async def _simulate(built, gid: str) -> None:
    from agent.channels.rig import on_loopback

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
