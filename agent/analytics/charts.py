"""PNG charts of a Summary with matplotlib's Agg canvas: no display, no pyplot state, safe in a server.

Chinese labels need a CJK font on the machine, from the system's packages (Debian: fonts-noto-cjk,
which .ci/ installs). matplotlib's font list is a cache made at its first run: a font installed later is
found by its file. Without one, a zh chart is drawn with English labels rather than boxes of missing
glyphs; nothing is downloaded at run time. A panel with nothing recorded says so in words instead of
drawing an empty axis around zero.
"""
from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import fontManager, findSystemFonts
from matplotlib.ticker import FuncFormatter, MaxNLocator

from agent.analytics.funnel import Summary
from agent.analytics.labels import labels

PANELS = ("activity", "members", "questions")
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
                "Microsoft YaHei", "PingFang SC", "SimHei", "Noto Sans CJK JP", "Droid Sans Fallback")
COLORS = {"messages": "#4C78A8", "active": "#F58518", "joined": "#54A24B", "left": "#E45756",
          "answered": "#54A24B", "unknown": "#B279A2"}


CJK_FILES = ("notosanscjk", "notosanssc", "sourcehansans", "wqy-zenhei", "wqy-microhei", "droidsansfallback",
             "msyh", "simhei", "pingfang")  # file names of the families above, lower case


def _known() -> str | None:
    installed = {f.name for f in fontManager.ttflist}
    return next((name for name in CJK_FAMILIES if name in installed), None)


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first installed font family that has Chinese glyphs, or None."""
    if found := _known():
        return found
    for path in findSystemFonts():  # installed after matplotlib cached its font list
        if any(key in Path(path).name.lower() for key in CJK_FILES):
            fontManager.addfont(path)
    return _known()


def chart_language(lang: str) -> str:
    """The language the labels can be drawn in: zh only with a CJK font."""
    return lang if lang != "zh" or cjk_font() else "en"


def figure(summary: Summary, lang: str, panels: tuple[str, ...] = PANELS) -> Figure:
    words = labels(chart_language(lang))
    fig = Figure(figsize=(8, 2.9 * len(panels)), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    days = list(summary.daily)
    x = list(range(len(days)))
    step = max(1, len(days) // 10)
    for ax, panel in zip(fig.subplots(len(panels), 1, squeeze=False)[:, 0], panels):
        ax.set_title(words[panel], loc="left", fontsize=11)
        if not any(summary.total(c) for c in _COUNTERS[panel]):
            _empty(ax, words)
            continue
        _DRAW[panel](ax, summary, x, words)
        ax.set_xticks(x[::step], [d.strftime("%m-%d") for d in days[::step]], fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", alpha=0.3)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # people and messages come in whole numbers
    return fig


def _empty(ax, words) -> None:
    """A panel with nothing recorded: the words, no axis (an empty bar chart autoscales to ±0.05)."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, words["no_data"], ha="center", va="center", transform=ax.transAxes, fontsize=12, color="#777")


def _activity(ax, s: Summary, x, words) -> None:
    ax.bar(x, s.series("messages"), color=COLORS["messages"], label=words["messages"])
    ax.plot(x, list(s.active_daily.values()), color=COLORS["active"], marker="o", markersize=3, label=words["active"])
    ax.legend(loc="upper left", fontsize=8, frameon=False)


def _members(ax, s: Summary, x, words) -> None:
    ax.bar(x, s.series("members.joined"), color=COLORS["joined"], label=words["joined"])
    ax.bar(x, [-n for n in s.series("members.left")], color=COLORS["left"], label=words["left"])
    ax.axhline(0, color="#888", linewidth=0.8)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):g}"))
    ax.legend(loc="upper left", fontsize=8, frameon=False)


def _questions(ax, s: Summary, x, words) -> None:
    answered = s.series("decision.answer")
    ax.bar(x, answered, color=COLORS["answered"], label=words["answered"])
    ax.bar(x, s.series("decision.unknown"), bottom=answered, color=COLORS["unknown"], label=words["unknown"])
    ax.legend(loc="upper left", fontsize=8, frameon=False)


_DRAW = {"activity": _activity, "members": _members, "questions": _questions}
_COUNTERS = {"activity": ("messages",), "members": ("members.joined", "members.left"),
             "questions": ("decision.answer", "decision.unknown")}


def png(summary: Summary, lang: str, panels: tuple[str, ...] = PANELS) -> bytes:
    font = cjk_font()
    families = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    with matplotlib.rc_context({"font.family": families, "axes.unicode_minus": False}):
        buf = io.BytesIO()
        figure(summary, lang, panels).savefig(buf, format="png")
    return buf.getvalue()


def save(summary: Summary, lang: str, path: Path, panels: tuple[str, ...] = PANELS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png(summary, lang, panels))
    return path
