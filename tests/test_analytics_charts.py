"""Charts an owner reads: the group's language (the CJK font found even when matplotlib's font cache
predates it), and words instead of an empty axis when nothing was recorded."""
from __future__ import annotations

from datetime import timedelta

import pytest
from matplotlib.font_manager import findSystemFonts

from agent.analytics import charts
from agent.analytics.funnel import summary
from agent.analytics.labels import labels
from agent.store import Store
from test_analytics_funnel import START, feed, group, month, pipeline_for

CJK_ON_MACHINE = any(key in p.lower() for p in findSystemFonts() for key in charts.CJK_FILES)


def texts(fig) -> list[str]:
    return [text for ax in fig.axes for text in (ax.get_title(loc="left"), *(t.get_text() for t in ax.texts))]


@pytest.mark.skipif(not CJK_ON_MACHINE, reason="no CJK font installed (Debian: fonts-noto-cjk, .ci/install_chromium.sh)")
def test_an_installed_cjk_font_is_found_and_zh_charts_speak_chinese():
    charts.cjk_font.cache_clear()
    assert charts.cjk_font() in charts.CJK_FAMILIES
    assert charts.chart_language("zh") == "zh"
    s = summary(Store(":memory:"), group(), START, START + timedelta(days=6))
    assert labels("zh")["activity"] in texts(charts.figure(s, "zh"))


def test_nothing_recorded_says_so_instead_of_an_axis_around_zero():
    s = summary(Store(":memory:"), group(), START, START + timedelta(days=6))
    for lang in ("zh", "en"):
        fig = charts.figure(s, lang)
        words = labels(charts.chart_language(lang))
        assert len(fig.axes) == len(charts.PANELS)
        assert all(not ax.axison for ax in fig.axes)  # no ticks from -0.045 to 0.045
        assert texts(fig).count(words["no_data"]) == len(charts.PANELS)
    assert charts.png(s, "zh").startswith(b"\x89PNG")


def test_a_panel_with_data_draws_from_zero_and_an_empty_one_beside_it_says_so():
    store = Store(":memory:")
    g = group()
    pipeline, route = pipeline_for(store, g)
    feed(pipeline, route, [e for e in month() if e.what == "message"])  # talk, but nobody joins or leaves
    s = summary(store, g, START, START + timedelta(days=6))
    fig = charts.figure(s, "en")
    activity, members, questions = fig.axes
    assert activity.axison and activity.get_ylim()[0] == 0 and activity.get_ylim()[1] >= 1
    assert not members.axison and labels("en")["no_data"] in [t.get_text() for t in members.texts]
    assert questions.axison
