"""The weekly digest's lines on members' reports and the blocklist in the group (none in a quiet week)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from agent.clock import zone
from agent.state import blocklist, reports


def lines(store, prompts, group, week: date) -> str:
    """"\\n…" lines for the week starting `week` (the group's local days), or ""."""
    tz = zone(group.timezone)
    start = datetime.combine(week, time(), tz)
    end = start + timedelta(days=7)
    out = []
    filed = reports.week(store, group.id, start, end)
    if filed["messages"]:
        out.append(prompts.render("digest_reports", group.language, messages=filed["messages"],
                                  reports=filed["reports"], kick=filed.get("kick", 0), warn=filed.get("warn", 0),
                                  dismiss=filed.get("dismiss", 0), open=filed["open"]))
    listed = blocklist.week(store, group.id, start, end)
    if listed["added"] or listed["cases"]:
        shown = ("added", "cases", "kick", "dismiss", "open")
        out.append(prompts.render("digest_blocklist", group.language, **{k: listed[k] for k in shown}))
    return "".join("\n" + line for line in out)
