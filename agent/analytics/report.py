"""`steward report`: one self-contained HTML page per group for operators: the charts as embedded PNGs,
the figures, retention cohorts, top and silent members, and the open questions. No scripts, no
external files: it opens from a mail attachment or a USB stick just the same.
"""
from __future__ import annotations

import base64
from datetime import date, datetime
from html import escape
from pathlib import Path

from agent import clock, gaps, patterns
from agent.analytics import charts, wording
from agent.analytics.days import last_days
from agent.analytics.funnel import Summary, summary
from agent.analytics.labels import kind_name, labels
from agent.settings import GroupConfig
from agent.store import Store

STYLE = """
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;max-width:900px;margin:2em auto;
padding:0 1em;color:#222}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.3em .7em;text-align:left}
.n{text-align:right;font-variant-numeric:tabular-nums}img{max-width:100%;height:auto}.note{color:#777;font-size:.9em}
"""
_FIGURE = patterns.compile(r"[+-]?[\d.,]+%?|—")  # a count or a share: right-aligned; text reads from the left


def _figure(value: object) -> bool:
    return bool(_FIGURE.fullmatch(str(value)))


def _cell(tag: str, value: object, figure: bool) -> str:
    align = ' class="n"' if figure else ""
    return f"<{tag}{align}>{escape(str(value))}</{tag}>"


def _table(head: list[str], rows: list[list[object]]) -> str:
    """Figures right-aligned, text (questions, names, labels) left-aligned; a heading as its column."""
    first = rows[0] if rows else []
    cells = "".join(_cell("th", h, i < len(first) and _figure(first[i])) for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(_cell("td", c, _figure(c)) for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def _img(s: Summary, lang: str, panel: str, alt: str) -> str:
    data = base64.b64encode(charts.png(s, lang, (panel,))).decode("ascii")
    return f'<img id="chart-{panel}" alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _members(s: Summary, ids: list[str], lang: str) -> str:
    return escape(wording.listing([s.name(m) for m in ids], lang))


def html(s: Summary, group: GroupConfig, inbox: list[gaps.Gap], generated: datetime) -> str:
    lang = group.language
    w = labels(lang)
    rate = "—" if s.answer_rate is None else f"{s.answer_rate:.0%}"
    overview = [
        [w["messages"], s.messages], [w["active"], s.active], [w["joined"], s.total("members.joined")],
        [w["left"], s.total("members.left")], [w["asked"], s.asked], [w["answered"], s.answered],
        [w["unknown"], s.unknown], [w["answer_rate"], rate], [w["offtopic"], s.offtopic], [w["nudges"], s.nudges],
        [w["commands"], s.total("decision.command")],
        *[[f'{w["violations"]}: {kind_name(kind, lang)}', n] for kind, n in s.violations.items()],
        *[[f'{w["cases"]}: {outcome}', n] for outcome, n in s.cases.items()],
        [w["llm_calls"], s.total("llm.calls")], [w["llm_tokens"], s.total("llm.tokens")],
    ]
    weeks = max((len(c.retained) for c in s.cohorts), default=0)
    cohorts = [[c.week.isoformat(), c.members, *c.retained, *[""] * (weeks - len(c.retained))] for c in s.cohorts]
    title = f'{w["report"]} · {group.name or group.id}'
    parts = [
        f"<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1><p class=\"note\">{escape(w['period'])}: {s.since} – {s.until} · "
        f"{generated:%Y-%m-%d %H:%M}</p>",
        *[_img(s, lang, p, w[p]) for p in charts.PANELS],  # each chart carries its own title
        f"<h2>{escape(w['figures'])}</h2>{_table([w['figure'], w['value']], overview)}",
        f"<h2>{escape(w['weekly_active'])}</h2>"
        + _table([w["week"], w["active"]], [[d.isoformat(), n] for d, n in s.active_weekly.items()]),
        f"<h2>{escape(w['cohorts'])}</h2><p class=\"note\">{escape(w['retention_note'])}</p>"
        + _table([w["week"], w["cohort_size"], *[f"+{n}" for n in range(weeks)]], cohorts),
        f"<h2>{escape(w['top'])}</h2>" + _table([w["member"], w["messages"]], [[s.name(m), n] for m, n in s.top]),
        f"<h2>{escape(w['silent_never'])}</h2><p>{_members(s, s.silent_never, lang)}</p>",
        f"<h2>{escape(w['silent_quiet'])}</h2><p>{_members(s, s.silent_quiet, lang)}</p>",
        f"<h2>{escape(w['gaps'])}</h2>"
        + _table(["#", w["asked"], w["askers"]], [[g.id, g.question, len(g.askers)] for g in inbox]),
        "</body></html>",
    ]
    return "\n".join(parts)


def write(store: Store, group: GroupConfig, out_dir: Path, today: date, days: int = 30,
          generated: datetime | None = None, screen=None) -> Path:
    """Write report-<group>-<today>.html into out_dir for the `days` ending `today`; returns its path.
    `screen` (agent.gap_screen.Screen) leaves out of the open questions what the knowledge answers now."""
    since, until = last_days(days, today)
    s = summary(store, group, since, until)
    inbox = gaps.open_gaps(store, group.id)
    if screen is not None:
        inbox = screen.keep(group, inbox)
    page = html(s, group, inbox, generated or clock.now(group.timezone))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"report-{group.id}-{today.isoformat()}.html"
    path.write_text(page, encoding="utf-8")
    return path
