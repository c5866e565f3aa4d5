"""The WeChat side of `steward`: `login` (the QR code in the terminal), `rooms` (which room is which
group; the rooms and members the account sees), `run` (the bot), and practice: `chat` (a terminal group
chat), `sim` (the same through the real python-wechaty client and the loopback puppet service) and
`demo` (a scripted conversation). Practice works on run's data folder, or a throwaway copy with
--sandbox (demo: always); agent/channels/practice.py.

Mounted by agent/cli.py with `register(app)`. Only typer, rich and agent.events are imported here; the
client, the app and the config models load inside the command that needs them, so `--help` is instant.
"""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from agent.cli_support import CONFIG_HELP, settings_or_exit

if TYPE_CHECKING:
    from agent.app import App
    from agent.channels.binding import RoomBook
    from agent.settings import Settings

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
EXIT_NOT_CONNECTED = 3  # the puppet service could not be reached (config errors are 2)


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("rooms")(rooms)
    app.command("run")(run)
    app.command("sim")(sim)
    app.command("chat")(chat)
    app.command("demo")(demo)


def login(
    config: Path = typer.Option(Path("config"), "--config", help=CONFIG_HELP),
    timeout: float = typer.Option(300, "--timeout", min=1, help="Seconds to wait for the scan."),
):
    """Log the bot's WeChat account in: show the puppet service's QR code here and wait for the scan
    (WECHATY_PUPPET_SERVICE_ENDPOINT and _TOKEN, from the environment or config/.env)."""
    import asyncio

    from agent.channels.account import Account, NotConnected, connection

    settings = _settings(config)
    try:
        endpoint, token = connection()
        contact_id, name = asyncio.run(_login(Account(endpoint, token, settings.data_dir / "wechaty"), timeout))
    except NotConnected as exc:
        _not_connected(exc)
    except TimeoutError as exc:
        err.print(f"[red]Not logged in[/red]: {exc}. Run `steward login` again for a fresh code.")
        raise typer.Exit(1) from None
    console.print(f"Logged in as [bold]{escape(name or '?')}[/bold] ({contact_id}). Next: `steward rooms --live` "
                  "lists the rooms and members this account sees, with their ids.")


async def _login(account, timeout: float) -> tuple[str, str]:
    shown: set[str] = set()

    def on_scan(status: int, qrcode: str) -> None:
        if status == 2 and qrcode and qrcode not in shown:  # 2: waiting for a scan (a new code each time)
            shown.add(qrcode)
            console.print("Scan this code with the bot's WeChat (Me › Scan), then confirm on the phone:")
            print_qr(qrcode)
        elif status == 3:
            console.print("Scanned: confirm the login on the phone.")

    async with account:
        contact_id = await account.logged_in(on_scan, timeout)
        return contact_id, await account.name_of(contact_id)


def print_qr(payload: str, out=None) -> None:
    """The QR code as terminal text (light modules drawn, for a dark terminal), and its payload for
    terminals that cannot show it."""
    import qrcode

    out = out or sys.stdout
    qr = qrcode.QRCode(border=2)
    qr.add_data(payload)
    qr.print_ascii(out=out, invert=True)
    out.write(f"(or open {payload} on another device to show the code)\n")
    out.flush()


def _settings(config: Path) -> Settings:

    return settings_or_exit(config)  # reads config/.env too, and masks its secrets in the logs


def _not_connected(exc: Exception):
    err.print(f"[red]Cannot reach WeChat[/red]: {escape(str(exc))}")
    raise typer.Exit(EXIT_NOT_CONNECTED) from None


def run(
    config: Path = typer.Option(Path("config"), "--config", help=CONFIG_HELP),
    workers: int = typer.Option(4, "--workers", min=1, help="Messages decided at once (across groups)."),
    health_port: int | None = typer.Option(None, "--health-port", min=1, max=65535,
                                           help="Serve a JSON health check on http://127.0.0.1:PORT/health."),
):
    """Run the bot in WeChat: connect to the puppet service in WECHATY_PUPPET_SERVICE_ENDPOINT (host:port,
    token in WECHATY_PUPPET_SERVICE_TOKEN) and manage the groups in config. A first connection that fails
    exits (code 3) with what to check; after a login, a dropped connection is retried. Ctrl-C stops after
    the messages in hand are answered."""
    import asyncio
    import logging

    from agent.app import build
    from agent.channels.account import NotConnected
    from agent.channels.binding import RoomBook
    from agent.channels.serve import serve
    from agent.channels.wechaty import ChannelConfigError, WechatyChannel

    logging.getLogger("steward").setLevel(logging.INFO)  # login, logout, errors, joins, in plain words
    settings = _settings(config)
    if not settings.groups:
        err.print(f"[red]No groups in {settings.groups_dir}[/red]: `steward init` writes one.")
        raise typer.Exit(2)
    built = build(settings)
    try:
        channel = WechatyChannel(settings, built.pipeline, workers=workers, on_scan=_scan_printer())
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
    health = None
    if health_port is not None:
        from agent.channels.health import HealthServer

        try:
            health = HealthServer(health_port, channel.health).start()
        except OSError as exc:
            err.print(f"[red]Cannot serve the health check on 127.0.0.1:{health_port}[/red]: {exc.strerror or exc}")
            built.close()
            raise typer.Exit(2) from None
        console.print(f"Health check: http://127.0.0.1:{health_port}/health")
    try:
        asyncio.run(serve(channel, built))
    except NotConnected as exc:
        _not_connected(exc)
    finally:
        if health is not None:
            health.close()
        built.close()


def _scan_printer():
    """For `run`: an account that needs a scan shows its code here, as `steward login` does."""
    shown: set[str] = set()

    def on_scan(status: int, qrcode: str) -> None:
        if status == 2 and qrcode and qrcode not in shown:
            shown.add(qrcode)
            console.print("The account needs a login: scan this code with the bot's WeChat.")
            print_qr(qrcode)

    return on_scan


def rooms(
    config: Path = typer.Option(Path("config"), "--config", help=CONFIG_HELP),
    live: bool = typer.Option(False, "--live", help="Ask the puppet service for every room the logged-in "
                              "account is in (needs `steward login` first)."),
    members: bool = typer.Option(False, "--members", help="With --live: list each room's members and their ids."),
    bind: str | None = typer.Option(None, "--bind", metavar="ROOM_ID",
                                    help="Make this WeChat room the group's room (the id from this listing)."),
    group: str | None = typer.Option(None, "--group", "-g", help="The group to bind (needed when the room "
                                     "was not seen with exactly one group's topic)."),
    write: bool = typer.Option(False, "--write", help="With --bind or --owner: write room_id and owners into "
                               "the group's config file (comments kept) instead of the bot's database."),
    owners: list[str] = typer.Option([], "--owner", metavar="ID[:NAME]",
                                     help="With --group --write: add this contact id as an owner. Repeat for more."),
):
    """Each group's WeChat room: bound (in config, by an owner's /bind, or here) or not yet, and the rooms
    `steward run` has seen with the group's topic. A room is never taken by its topic alone. With --live,
    the rooms and members the logged-in account sees, with the ids that config files need."""
    from agent.channels.binding import BindError, RoomBook
    from agent.store import Store

    settings = _settings(config)
    listing = _live_rooms(settings, members or bool(owners)) if live else []  # members: the owners' names
    if owners and not (write and group):
        err.print("--owner needs --group and --write: owners are written into the group's config file.")
        raise typer.Exit(2)
    store = Store(settings.store_url)
    try:
        book = RoomBook(settings.groups, store)
        gid = group or (book.group_seeing(bind) if bind else None) or _topic_match(settings, listing, bind)
        if (bind or owners) and gid is None:
            err.print(f"Room {bind} was not seen with exactly one group's topic: name the group with --group.")
            raise typer.Exit(2)
        if write and (bind or owners):
            _write_config(settings, gid, bind, owners, listing)
            settings = _settings(config)  # as written
            book = RoomBook(settings.groups, store)
        elif bind:
            try:
                book.bind(gid, bind, by="steward rooms")
            except BindError as exc:
                err.print(f"Cannot bind: {exc}")
                raise typer.Exit(2) from None
            console.print(f"Group {gid} is bound to room {bind}. A running bot serves it from that room's next "
                          "message; other rooms with its topic are ignored.")
        _print_rooms(settings, book)
        _print_live(settings, book, listing, members)
    finally:
        store.close()


def _live_rooms(settings: Settings, members: bool) -> list:
    import asyncio

    from agent.channels.account import Account, NotConnected, connection

    async def fetch() -> list:
        async with Account(*connection(), settings.data_dir / "wechaty") as account:
            try:
                await account.logged_in(timeout=15)
            except TimeoutError:
                raise NotConnected("the account is not logged in: run `steward login` first") from None
            return await account.rooms(members=members)

    try:
        return asyncio.run(fetch())
    except NotConnected as exc:
        _not_connected(exc)


def _topic_match(settings: Settings, listing: list, room_id: str | None) -> str | None:
    room = next((r for r in listing if r.room_id == room_id), None)
    return next((g.id for g in settings.groups.values() if room and g.topic and g.topic == room.topic), None)


def _write_config(settings: Settings, gid: str, room_id: str | None, owners: list[str], listing: list) -> None:
    from agent.onboard.edit import set_room_and_owners
    from agent.onboard.init import InitError, parse_owner
    from agent.settings import ConfigError, group_files, load_group

    names = {cid: name for r in listing for cid, name in r.members}
    try:
        people = [(cid, name or names.get(cid, "")) for cid, name in map(parse_owner, owners)]
    except InitError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None
    path = next((p for p in group_files(settings.groups_dir) if load_group(p).id == gid), None)
    if path is None:
        err.print(f"No config file for group {gid} in {settings.groups_dir}.")
        raise typer.Exit(2)
    try:
        changed = set_room_and_owners(path, room_id, people)
    except ConfigError as exc:
        err.print(f"Not written, the file would not load: {exc}")
        raise typer.Exit(2) from None
    console.print(f"{path}: " + ("; ".join(changed) if changed else "already up to date") +
                  ". A running bot reads it at its next start.")


def _print_rooms(settings: Settings, book: RoomBook) -> None:
    for g in settings.groups.values():
        room, record = book.room_of(g.id), book.binding(g.id)
        how = "in its config file" if g.room_id else f"by {record['by']} at {record['at']}" if record else ""
        state = f"room {room} (bound {how})" if room else "[yellow]no room bound[/yellow]"
        console.print(f"{g.id}  “{escape(g.topic or '')}”  {state}")
        for rid, seen in book.seen(g.id).items():
            console.print(f"    same topic, not served: room {rid}, WeChat owner {seen.get('owner_id') or '?'}, "
                          f"{seen.get('members', 0)} members, first seen {seen.get('at', '?')}")


def _print_live(settings: Settings, book: RoomBook, listing: list, members: bool) -> None:
    if not listing:
        return
    console.print(f"\nRooms this account is in ({len(listing)}):")
    for r in listing:
        bound = book.group_of(r.room_id)
        candidate = next((g.id for g in settings.groups.values() if g.topic and g.topic == r.topic), None)
        role = (f"group {bound}" if bound else f"[yellow]topic of group {candidate}, not bound[/yellow]"
                if candidate else "[dim]not a configured group[/dim]")
        owner = dict(r.members).get(r.owner_id, "")
        console.print(f"  {r.room_id}  “{escape(r.topic)}”  WeChat owner {r.owner_id} {escape(owner)}  — {role}")
        if members:
            for cid, name in r.members:
                console.print(f"      {cid}  {escape(name)}")
    console.print("Bind one with `steward rooms --bind ROOM_ID --group GROUP --write` (add `--owner ID` to "
                  "make members owners).")


GROUP_HELP = "Group id from config/groups."
SANDBOX_HELP = ("Practise on a throwaway copy of the state, the index and the knowledge: nothing you do is kept "
                "(default: the bot's own data, as `steward run` uses it).")


@contextlib.contextmanager
def _practice(config: Path, group: str, sandbox: bool, *, fresh_state: bool = False) -> Iterator[tuple[App, str]]:
    """The app on run's data folder, or on a sandbox copy, with its knowledge synced; closed after."""
    from agent.app import build
    from agent.channels.practice import practice_settings

    settings = _settings(config)
    if group not in settings.groups:
        err.print(f"[red]No group {group!r} in {settings.groups_dir}[/red] "
                  f"(have: {', '.join(settings.groups) or 'none'})")
        raise typer.Exit(2)
    with practice_settings(settings, sandbox, fresh_state=fresh_state) as where:
        built = build(where)
        try:
            built.sync_knowledge(progress=True)
            if sandbox:
                console.print("[dim]Sandbox: a copy of the bot's data; nothing of this session is kept.[/dim]")
            else:
                console.print(f"[dim]Practising on the bot's data in {where.data_dir}: cases, gaps and knowledge "
                              "added here are real (`steward cases`, `stats`, `report` show them). "
                              "--sandbox practises on a copy.[/dim]")
            yield built, group
        finally:
            built.close()


def chat(
    group: str = typer.Option("demo", "--group", "-g", help=GROUP_HELP),
    config: Path = typer.Option(Path("config"), "--config", help=CONFIG_HELP),
    sandbox: bool = typer.Option(False, "--sandbox", help=SANDBOX_HELP),
):
    """A terminal group chat: type as a member and see the bot's decisions and replies."""
    from agent.simulate import chat as talk

    with _practice(config, group, sandbox) as (built, gid):
        talk(built, gid)


def demo(
    group: str = typer.Option("demo", "--group", "-g", help=GROUP_HELP),
    script: Path = typer.Option(Path("config/demo_script.yaml"), "--script", help="The scripted conversation."),
    config: Path = typer.Option(Path("config"), "--config", help=CONFIG_HELP),
):
    """Play a scripted group conversation through the pipeline and print the transcript. Always in a
    sandbox, from a clean state: the script's strikes and gaps are not the group's."""
    from agent.simulate import demo as play

    with _practice(config, group, sandbox=True, fresh_state=True) as (built, gid):
        play(built, gid, script)


def sim(
    group: str = typer.Option("demo", "--group", "-g", help=GROUP_HELP),
    config: Path = typer.Option(Path("config"), "--config", help=CONFIG_HELP),
    sandbox: bool = typer.Option(False, "--sandbox", help=SANDBOX_HELP),
):
    """The terminal group chat through the real WeChat client: python-wechaty talks gRPC to a puppet
    service on 127.0.0.1 that plays the group. Type as a member; /help lists the commands."""

    import asyncio

    from agent.channels.simulator import simulate

    with _practice(config, group, sandbox) as (built, gid):
        asyncio.run(simulate(built, gid))
