"""What bench/bench_scale.py counts after a run, and how it prints it: the sends the puppets received
(what WeChat got) against the outbox rows the workers confirmed."""
from __future__ import annotations

from collections import Counter

from agent.state import outbox
from agent.state.store import Store
from agent.testing.puppet import LoopbackPuppet


def where(action) -> tuple[str, str]:
    """(room or contact id, text) of an action; the puppet records mentions before the text."""
    group = getattr(action, "group_id", None)
    return (f"room-{group}" if group else action.contact_id), action.text


def tally(store: Store, puppets: list[LoopbackPuppet], posts: dict, in_flight: set) -> dict:
    """Sends compared between the puppets (what WeChat got) and the outbox (what the bot confirmed): a
    send the outbox never confirmed whose twin it did is a double; if it was one of the killed worker's
    unconfirmed rows, it is the resend of a send the kill interrupted between the puppet and the mark."""
    rows = outbox.rows(store)
    confirmed = {(r["account"], r["message_id"]) for r in rows if r["status"] == "sent" and r["message_id"]}
    kinds = {(r["account"], r["message_id"]): r["key"].split(":")[0] for r in rows}
    extra: Counter = Counter()
    doubles: list[str] = []
    for lb in puppets:
        sent = [m for mid, m in lb.messages.items() if mid.startswith("sent")]
        twins = Counter((m.room_id or m.to_id, m.text) for m in sent if (lb.bot_id, m.id) in confirmed)
        for m in sent:
            key = (m.room_id or m.to_id, m.text)
            if (lb.bot_id, m.id) not in confirmed:
                interrupted = any(a == lb.bot_id and to == key[0] and m.text.endswith(text) for a, to, text in in_flight)
                kind = "untracked" if not twins[key] else "resent" if interrupted else "doubled"
                extra[kind] += 1
                if kind == "doubled":
                    times = sorted(x.ts % 100_000 for x in sent if (x.room_id or x.to_id, x.text) == key)
                    doubles.append(f"{lb.bot_id} {key[0]} {m.text[:40]!r}, copies at … {times} ms")
    copies = Counter(s.text for lb in puppets for s in lb.texts() if s.text in posts)
    return {"sends_confirmed": Counter(kinds[k] for k in confirmed),
            "sends_doubled": extra["doubled"], "doubles": doubles, "sends_resent": extra["resent"], "sends_untracked": extra["untracked"],
            "sends_lost": sum(1 for r in rows if r["status"] != "sent"),
            "posts": len(posts), "posts_doubled": sum(1 for p in posts if copies[p] > 1),
            "posts_lost": sum(1 for p in posts if copies[p] == 0),
            "post_rows": Counter(r["account"] for r in rows if r["key"].startswith("post:"))}


def show(r: dict) -> None:
    print(f"  {r['workers']} worker(s) on {r['cores']} cores: {r['messages_per_s_before_kill']} messages/s before "
          f"the kill, {r['messages_per_s']} overall ({r['decided']}/{r['messages']} decided in {r['seconds']} s; "
          f"start-up {r['start_s']} s, kill → back on the account {r.get('restart_s')} s)")
    print(f"    in flight in the killed worker: {dict(r['in_flight_at_kill'])}; sends confirmed by the outbox "
          f"{dict(r['sends_confirmed'])}")
    print(f"    double sends {r['sends_doubled']} (must be 0), resent after the kill {r['sends_resent']}, lost sends {r['sends_lost']}, sends outside the "
          f"outbox (owners' notes) {r['sends_untracked']}; posts {r['posts']}: doubled {r['posts_doubled']}, lost {r['posts_lost']} "
          f"(must be 0); posts by account {dict(r['post_rows'])}")
    for line in r["doubles"]:
        print(f"      doubled: {line}")
    if r["send_retries"]:
        print(f"    sends retried after a failure (a slow puppet answer may make a double): {r['send_retries']}")
    print(f"    CPU seconds from the first message to the kill: {r['cpu_s_before_kill']}; second deliveries "
          f"dropped as seen before deciding {r['dropped_as_seen']}, decided in full and then dropped by the seen "
          f"row's key {r['decided_twice']}")
    if r.get("profile"):
        print("    where one worker's time goes (stack samples during the replay):")
        print("      " + r["profile"].strip().replace("\n", "\n      "))
