"""`steward cases` (the audit of case files), `steward rules test FOLDER` (a dry run of the rules),
`steward moderate` (verdicts on loose texts) and `steward train moderation` (rebuild the classifier).

`register(app)` mounts them on the main typer app. Only `train moderation` writes anything (the model
file); `cases` reads the store, `rules test` reads the owners' feedback examples from it and, like
`moderate`, judges in memory.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from agent.cli_support import settings_or_exit

if TYPE_CHECKING:  # loaded by the commands: `steward --help` stays fast
    from agent.settings import GroupConfig, Settings

rules_app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None, help="Try the group rules before they go live.")
train_app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None, help="Rebuild the shipped learned models.")
console = Console()
err = Console(stderr=True)
ConfigOpt = typer.Option(Path("config"), "--config", help="Folder holding settings.yaml and groups/.")


def _name(settings: Settings, group_id: str, contact_id: str | None) -> str:
    group = settings.groups.get(group_id)
    return (group.name_of(contact_id) if group else contact_id) if contact_id else ""


def cases(
    group: str | None = typer.Option(None, "--group", "-g", help="Only this group's cases."),
    open_only: bool = typer.Option(False, "--open", help="Only cases waiting for an owner."),
    closed_only: bool = typer.Option(False, "--closed", help="Only decided cases."),
    config: Path = ConfigOpt,
) -> None:
    """List case files: who, what, which article, and how and by whom each was decided."""
    from agent.moderation.cases import name_key
    from agent.probation import report as probation
    from agent.store import Store

    if open_only and closed_only:
        err.print("[red]--open and --closed exclude each other[/red] (give neither for all cases)")
        raise typer.Exit(2)
    settings = settings_or_exit(config)
    if not settings.has_state:
        console.print(f"No cases yet: {settings.db_path} does not exist.")
        return
    store = Store(settings.store_url)
    try:
        rows = store.cases(group, "open" if open_only else "closed" if closed_only else None)
        names = {r["id"]: store.get(name_key(r["id"])) for r in rows}
        on_probation, vouched = probation.case_ids(store), [] if open_only else probation.vouches(store, group)
    finally:
        store.close()
    for v in vouched:  # an owner's /trust is a decision too: a newcomer left probation on their word
        gid = v["group_id"]
        console.print(f"{_shown(settings, gid, v['ts'])} {gid}: {_name(settings, gid, v['by'])} vouched for"
                      f" {_name(settings, gid, v['member_id'])} ({v['member_id']}): probation ended")
    if not rows:
        console.print("No cases.")
        return
    table = Table("#", "group", "member", "kind", "article", "opened", "status", "decision", "by", "decided")
    for r in rows:
        member = names[r["id"]] or _name(settings, r["group_id"], r["member_id"])
        table.add_row(str(r["id"]), r["group_id"], f"{member} ({r['member_id']})",
                      r["kind"] + (" (probation)" if r["id"] in on_probation else ""), str(r["article"] or "-"),
                      _shown(settings, r["group_id"], r["ts"]), r["status"],
                      r["decision"] or f"(suggested {r['suggested']})", _name(settings, r["group_id"], r["decided_by"]),
                      _shown(settings, r["group_id"], r["decided_ts"]))
    console.print(table)


def _shown(settings, group_id: str, ts) -> str:
    """A stored instant on its group's clock (UTC for a group no longer configured)."""
    from agent.clock import local

    group = settings.groups.get(group_id)
    return "" if ts is None else (local(ts, group.timezone) if group else ts).strftime("%Y-%m-%d %H:%M")


@rules_app.command("test")
def rules_test(
    folder: Path = typer.Argument(..., exists=True, file_okay=False, help="Recorded messages in the eval format."),
    group: str | None = typer.Option(None, "--group", "-g",
                                     help="Apply this configured group's rules (default: FOLDER/group.yaml)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of the listing."),
    examples: Path | None = typer.Option(
        None, "--feedback", exists=True, dir_okay=False,
        help="Owners' examples to try instead of the group's own: JSONL, {text, kind, label: dismiss|confirm} a line."),
    no_feedback: bool = typer.Option(False, "--no-feedback", help="Judge without the owners' examples."),
    config: Path = ConfigOpt,
) -> None:
    """Replay FOLDER/messages.jsonl through the rules and print what would be flagged, by article.
    Nothing is sent, stored or kicked. Where the messages are labelled, precision and recall too.
    With owners' examples (the group's own from the store, or --feedback), also what they changed:
    each example with the messages it moved, before and after."""
    from agent.eval import load_group
    from agent.replay import by_article, read_rows, replay, score

    settings = settings_or_exit(config)
    if group is not None and group not in settings.groups:
        err.print(f"[red]No group {group!r} in {settings.groups_dir}[/red] (have: {', '.join(settings.groups) or 'none'})")
        raise typer.Exit(2)
    rules_of = settings.groups[group] if group else load_group(folder)
    rows = read_rows(folder)
    replayed = plain = replay(rows, rules_of, settings.prompts_dir)
    taught = None if no_feedback else _taught(settings, rules_of, examples)
    if taught is not None:
        replayed = replay(rows, rules_of, settings.prompts_dir, store=taught)
    flagged = by_article(replayed)
    report = {"group": rules_of.id, "messages": len(replayed), "flagged": sum(map(len, flagged.values())),
              "by_article": [_article(rules_of, n, flagged[n]) for n in sorted(flagged, key=lambda n: n or 0)]}
    labelled = any("expect" in r.row for r in replayed)
    if labelled:
        report["score"] = score(replayed, rules_of)
    if taught is not None:
        report["feedback"] = _changes(rules_of, plain, replayed, taught)
        if labelled:
            report["feedback"]["score_without"] = score(plain, rules_of)
        taught.close()
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
        return
    _print(report)


def _taught(settings: Settings, group: GroupConfig, path: Path | None):
    """An in-memory store holding the owners' examples to judge with (a file's, or a copy of the
    group's own bank), or None when there are none."""
    from datetime import datetime, timezone

    from agent.moderation import feedback
    from agent.store import Store

    store = Store(":memory:")
    if path is not None:
        labels = {"dismiss": feedback.DISMISSED, "confirm": feedback.CONFIRMED}
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                feedback.add(store, group, row["kind"], labels[row["label"]], row["text"], "file", f"{path.name}:{n}",
                             datetime.now(timezone.utc))
    elif settings.has_state:
        live = Store(settings.store_url)
        try:
            feedback.copy(live, store, group.id)
        finally:
            live.close()
    if not feedback.examples(store, group.id):
        store.close()
        return None
    return store


def _changes(group: GroupConfig, plain: list, taught: list, store) -> dict:
    """Per owners' example, the replayed messages it judged differently (before → after); a change
    no example explains is the ladder's knock-on (an earlier strike withdrawn or added)."""
    from agent.eval import to_message
    from agent.mentions import MentionParser
    from agent.moderation import feedback

    mentions = MentionParser(group)
    moved: dict[int, list] = {}
    knock_on = []
    for seq, (before, after) in enumerate(zip(plain, taught)):
        was, now_is = _state(before), _state(after)
        if was == now_is:
            continue
        at = to_message(before.row, group, mentions, seq).ts  # examples expire as of the message's time
        move = feedback.explain(store, group, before.row["text"], at)
        change = {"id": before.row["id"], "sender": before.row["sender"], "before": was, "after": now_is,
                  "text": before.row["text"]}
        if move is None:
            knock_on.append(change)
            continue
        moved.setdefault(move.example.id, []).append({**change, "similarity": move.similarity, "shift": move.shift})
    labels = {feedback.DISMISSED: "dismissed", feedback.CONFIRMED: "confirmed"}
    return {
        "examples": [{"id": e["id"], "kind": e["kind"], "label": labels[e["label"]], "by": e["decided_by"],
                      "source": e["source"], "time": e["ts"].isoformat(), "text": e["text"], "changed": moved.get(e["id"], [])}
                     for e in feedback.examples(store, group.id)],
        "changed": sum(map(len, moved.values())), "knock_on": knock_on,
    }


def _state(replayed) -> str:
    """How a replayed message was judged: "pass", or kind/step and confidence."""
    d = replayed.decision
    if not replayed.flagged:
        return "pass"
    return f"{replayed.flagged}/{_would(d)} {d.confidence:.2f}"


def _article(group: GroupConfig, number: int | None, flagged: list) -> dict:
    rule = group.rules[number - 1] if number else None
    return {
        "article": number, "rule": rule.text if rule else None, "mode": rule.mode if rule else None,
        "messages": [{"id": r.row["id"], "sender": r.row["sender"], "kind": r.flagged,
                      "reason": r.decision.violation.reason, "would": _would(r.decision), "text": r.row["text"]}
                     for r in flagged],
    }


def _would(decision) -> str:
    """What going live would do with the message: shadow (log only), quiet (a repeat in one burst)
    or the ladder's step."""
    detail = decision.detail
    if detail.get("shadow"):
        return "shadow"
    return "quiet" if detail.get("quiet") else detail.get("step", "")


def _print(report: dict) -> None:
    console.print(f"[bold]{report['group']}[/]: {report['flagged']} of {report['messages']} messages would be flagged")
    for a in report["by_article"]:
        head = f"article {a['article']} ({a['mode']}): {a['rule']}" if a["article"] else "no article covers these"
        console.print(f"\n[bold]{head}[/] — {len(a['messages'])}")
        for m in a["messages"]:
            text = " ".join(m["text"].split())[:60]
            console.print(f"  {m['id']}  {m['sender']}  {m['kind']}/{m['would']}  {m['reason']}  │ {text}",
                          markup=False, highlight=False)
    if "score" in report:
        s = report["score"]
        kinds = ", ".join(f"{k} {v['recall']:.2f} (n={v['n']})" for k, v in s["by_kind"].items())
        console.print(f"\nlabelled: precision {s['precision']:.3f}, recall {s['recall']:.3f}; recall by kind: {kinds}; "
                      f"owners flagged {s['owner_flagged']}")
    if "feedback" in report:
        _print_feedback(report["feedback"])


def _print_feedback(fb: dict) -> None:
    console.print(f"\n[bold]owners' feedback[/]: {len(fb['examples'])} examples; {fb['changed']} messages judged "
                  f"differently because of them, {len(fb['knock_on'])} more on the ladder's knock-on")
    for e in fb["examples"]:
        text = " ".join(e["text"].split())[:60]
        console.print(f"  #{e['id']} {e['label']} {e['kind']} by {e['by']} ({e['source']}): {len(e['changed'])} changed │ {text}",
                      markup=False, highlight=False)
        for m in e["changed"]:
            said = " ".join(m["text"].split())[:50]
            console.print(f"      {m['id']}  {m['before']} → {m['after']}  (similarity {m['similarity']:.2f}, "
                          f"{m['shift']:+.2f})  │ {said}", markup=False, highlight=False)
    for m in fb["knock_on"]:
        console.print(f"  ladder: {m['id']}  {m['before']} → {m['after']}", markup=False, highlight=False)
    if "score_without" in fb:
        s = fb["score_without"]
        console.print(f"without the examples: precision {s['precision']:.3f}, recall {s['recall']:.3f}")


def moderate(
    file: Path | None = typer.Option(None, "--file", "-f", exists=True, dir_okay=False,
                                     help="Read texts from this file (one per line, or JSONL with a text field)."),
    group: str | None = typer.Option(None, "--group", "-g", help="Judge under this group's rules (default: the first)."),
    one_sender: bool = typer.Option(False, "--one-sender", help="All lines from one member, a minute apart (flood shows)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line: kind, score, article."),
    config: Path = ConfigOpt,
) -> None:
    """Judge each text (stdin or --file) as a plain member's message, with the pipeline's detectors (no LLM)."""
    import sys

    from agent.moderate import verdicts

    settings = settings_or_exit(config)
    if not settings.groups or (group is not None and group not in settings.groups):
        err.print(f"[red]No group {group!r} in {settings.groups_dir}[/red] (have: {', '.join(settings.groups) or 'none'})")
        raise typer.Exit(2)
    rules_of = settings.groups[group or next(iter(settings.groups))]
    lines = (file.read_text(encoding="utf-8") if file else sys.stdin.read()).splitlines()
    texts = [_text_of(line) for line in lines if line.strip()]
    for text, verdict in zip(texts, verdicts(texts, rules_of, one_sender)):
        if as_json:
            print(json.dumps(verdict, ensure_ascii=False))
        else:
            print(f"{verdict['kind'] or '-'}\t{verdict['score']:.2f}\t{verdict['article'] or '-'}\t{' '.join(text.split())[:60]}")


def _text_of(line: str) -> str:
    """A JSONL line's `text` field, else the line itself."""
    if line.lstrip().startswith("{"):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            return line
        if isinstance(row, dict) and isinstance(row.get("text"), str):
            return row["text"]
    return line


@train_app.command("moderation")
def train_moderation(
    datasets: Path = typer.Option(Path("../shared/datasets/train"), "--datasets", exists=True, file_okay=False,
                                  help="The public training sets (shared/datasets/train)."),
    out: Path | None = typer.Option(None, "--out", help="Where to write the model (default: the shipped file)."),
) -> None:
    """Refit the moderation classifier with its fixed seed and print the held-out report as JSON."""
    from agent.moderation import classifier, train

    print(json.dumps(train.build(datasets, out or classifier.MODEL_PATH), ensure_ascii=False, indent=1))


def register(app: typer.Typer) -> None:
    """Mount `cases`, `rules test`, `moderate` and `train moderation` on the steward app."""
    app.command("cases")(cases)
    app.command("moderate")(moderate)
    app.add_typer(rules_app, name="rules")
    app.add_typer(train_app, name="train")
