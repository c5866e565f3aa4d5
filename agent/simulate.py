"""The terminal group: `steward chat` (type as a member) and `steward demo` (a scripted conversation),
both through MemoryChannel and the real pipeline, showing each message's Decision."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from agent.channels.memory import MemoryChannel
from agent.events import Decision, Kick, Say, SendImage, Whisper
from agent.settings import GroupConfig

STYLE = {"answer": "green", "unknown": "yellow", "ignore": "dim", "nudge": "cyan", "violation": "red", "command": "magenta"}


def render(console: Console, group: GroupConfig, sender_id: str, text: str, decision: Decision | None,
           note: str = "", echo: bool = True) -> None:
    if echo:  # the transcript shows the member's line; in chat they just typed it
        console.print(f"[bold]{group.name_of(sender_id)}[/bold]: {text}")
    if note:
        console.print(f"  [italic dim]# {note}[/italic dim]")
    if decision is None:
        console.print("  [dim](dropped: duplicate or not managed)[/dim]")
        return
    kind = str(decision.kind)
    facts = [f"[{STYLE.get(kind, 'white')}]{kind}[/]", f"route={decision.route}", f"{decision.elapsed_ms:.1f} ms"]
    if decision.confidence is not None:
        facts.append(f"confidence={decision.confidence:.2f}")
    if decision.violation:
        facts.append(f"rule {decision.violation.article}: {decision.violation.kind}")
    for key in ("intent", "permitted", "suppressed", "muted"):
        if decision.detail.get(key) not in (None, ""):
            facts.append(f"{key}={decision.detail[key]}")
    console.print("  [dim]└─ " + "  ".join(facts) + "[/dim]")
    for action in decision.actions:
        if isinstance(action, Say):
            at = " ".join("@" + group.name_of(m) for m in action.mentions)
            console.print(f"  [bold green]{group.bot_name}[/bold green]: {at + ' ' if at else ''}{action.text}")
        elif isinstance(action, Whisper):
            console.print(f"  [yellow]✉ to {group.name_of(action.contact_id)}[/yellow]: {action.text}")
        elif isinstance(action, Kick):
            console.print(f"  [red]✂ remove {group.name_of(action.contact_id)}[/red]")
        elif isinstance(action, SendImage):
            console.print(f"  [blue]🖼 image {action.path}[/blue]")


def demo(app, group_id: str, script: Path, console: Console | None = None) -> list[Decision | None]:
    """Play a scripted conversation at fixed daytime timestamps (quiet hours never hide the nudge)."""
    console = console or Console()
    group = app.settings.groups[group_id]
    start = datetime.now().astimezone().replace(hour=10, minute=0, second=0, microsecond=0)
    channel = MemoryChannel(app.pipeline, group, clock=start)
    console.rule(f"{group.name} · 演示 / demo")
    out = []
    for entry in yaml.safe_load(script.read_text(encoding="utf-8")):
        decision = channel.send(entry["sender"], entry["text"])
        render(console, group, entry["sender"], entry["text"], decision, entry.get("note", ""))
        out.append(decision)
    return out


def chat(app, group_id: str, console: Console | None = None) -> None:
    """Interactive: type as a member; `/as <name or id>` switches sender, `/who` lists people, `/quit`."""
    console = console or Console()
    group = app.settings.groups[group_id]
    people = [*group.owners, *group.admins, *group.members]
    channel = MemoryChannel(app.pipeline, group)
    sender = next((p.id for p in group.members), "wxid_guest")
    console.rule(f"{group.name} — {group.bot_name}")
    console.print("[dim]/as <名字或id> 切换发言人 · /who 群成员 · /join <名字> 模拟入群 · /quit 退出[/dim]")
    while True:
        try:
            text = console.input(f"[bold]{group.name_of(sender)}[/bold]> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not text:
            continue
        if text in ("/quit", "/exit"):
            break
        if text == "/who":
            for p in people:
                console.print(f"  {p.name}  [dim]{p.id} {group.role_of(p.id)}[/dim]")
            continue
        if text.startswith("/as "):
            want = text[4:].strip()
            match = next((p.id for p in people if want in (p.id, p.name)), None)
            sender = match or want  # an unknown name becomes a new member with that id
            continue
        if text.startswith("/join "):
            name = text[6:].strip()
            for action in channel.join(f"wxid_{abs(hash(name)) % 10**8}", name):
                console.print(f"  [bold green]{group.bot_name}[/bold green]: {action.text}")
            continue
        render(console, group, sender, text, channel.send(sender, text), echo=False)


def print_metrics(m: dict, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title=f"eval · {m['group']} · {m['messages']} messages · llm {m['llm']}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("answer accuracy", m["answer"]["accuracy"]), ("answer source accuracy", m["answer"]["source_accuracy"]),
        ("unknown recall", m["unknown"]["recall"]), ("invented answers", m["unknown"]["invented"]),
        ("ignore accuracy", m["ignore"]["accuracy"]),
        ("off-topic precision", m["nudge"]["precision"]), ("off-topic recall", m["nudge"]["recall"]),
        ("violation precision", m["violation"]["precision"]), ("violation recall", m["violation"]["recall"]),
        *((f"  {k} recall (n={v['n']})", v["recall"]) for k, v in m["violation"]["by_type"].items()),
        ("owners flagged", m["owner_flagged"]), ("must_not hits", m["must_not_hits"]),
        ("command intent accuracy", m["commands"]["intent_accuracy"]), ("command permission errors", m["commands"]["permission_errors"]),
        ("llm calls / tokens", f"{m['llm_calls']} / {m['llm_tokens']}"),
        ("latency p50 / p95 ms", f"{m['latency_ms']['p50']} / {m['latency_ms']['p95']}"),
    ]
    for name, value in rows:
        table.add_row(name, f"{value:.2f}" if isinstance(value, float) else str(value))
    console.print(table)
