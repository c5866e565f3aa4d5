"""Charts, the operator's HTML report and `steward stats|report`: the page is self-contained, carries
the three charts, and a real headless Chromium draws them."""
from __future__ import annotations

import base64
import io
import os
import re
import subprocess
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
import typer
import yaml
from PIL import Image
from typer.testing import CliRunner

from agent.analytics import charts, report
from agent.analytics.cli import register
from agent.analytics.funnel import summary
from agent.store import Store
from test_analytics_funnel import DAYS, START, feed, group, month, pipeline_for

CHROMIUM = Path("/usr/bin/chromium")
UNTIL = START + timedelta(days=DAYS - 1)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[Path, Store]:
    store = Store(":memory:")
    g = group()
    pipeline, route = pipeline_for(store, g)
    feed(pipeline, route, month())
    store.add_gap(g.id, "wxid_f1", "q1", "集合地点<在哪>？", False, datetime(2025, 3, 5, tzinfo=timezone.utc))
    out = tmp_path_factory.mktemp("report")
    return report.write(store, g, out, UNTIL, days=DAYS, generated=datetime(2025, 4, 1, 12, 0)), store


class Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[dict] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))
        self.scripts += tag == "script"


def parsed(html: str) -> Images:
    p = Images()
    p.feed(html)
    return p


def test_charts_are_pngs_with_a_panel_each():
    store = Store(":memory:")
    g = group()
    pipeline, route = pipeline_for(store, g)
    feed(pipeline, route, month())
    s = summary(store, g, START, UNTIL)
    one, three = (Image.open(io.BytesIO(charts.png(s, "zh", p))) for p in (("activity",), charts.PANELS))
    assert one.format == three.format == "PNG"
    assert three.width == one.width and three.height > 2.5 * one.height


def test_without_a_cjk_font_a_zh_chart_uses_english_labels(monkeypatch):
    monkeypatch.setattr(charts, "cjk_font", lambda: None)
    assert charts.chart_language("zh") == "en" and charts.chart_language("en") == "en"
    s = summary(Store(":memory:"), group(), START, START + timedelta(days=6))
    assert charts.png(s, "zh").startswith(b"\x89PNG")


def test_the_report_is_self_contained_with_three_charts(page):
    path, store = page
    html = path.read_text(encoding="utf-8")
    p = parsed(html)
    assert [img["id"] for img in p.images] == ["chart-activity", "chart-members", "chart-questions"]
    for img in p.images:
        data = img["src"].removeprefix("data:image/png;base64,")
        assert Image.open(io.BytesIO(base64.b64decode(data))).size[0] > 400
    assert p.scripts == 0 and not re.search(r"(src|href)=\"(https?:|//)", html)
    assert path.name == f"report-g-{UNTIL}.html"


def test_the_report_holds_the_figures_and_escapes_text(page):
    path, store = page
    html = path.read_text(encoding="utf-8")
    s = summary(store, group(), START, UNTIL)
    assert f'<td>消息数</td><td class="n">{s.messages}</td>' in html
    assert f'<td>回答率</td><td class="n">{s.answer_rate:.0%}</td>' in html
    assert f'<td>{s.cohorts[0].week}</td><td class="n">{s.cohorts[0].members}</td>' in html
    # a member's question arrives quoted (agent.quoting: no markup characters), and is escaped besides;
    # text reads from the left, figures line up on the right
    assert '<td>集合地点‹在哪›？</td>' in html and "<在哪>" not in html
    assert "text-align:left" in html and ".n{text-align:right" in html
    assert s.name(s.top[0][0]) in html


PROBE = """<script>window.addEventListener("load", () => {
  for (const img of document.images) img.setAttribute("data-natural", img.naturalWidth + "x" + img.naturalHeight);
  document.body.setAttribute("data-probed", "yes");
});</script></body>"""


def chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
             f"--user-data-dir={tmp / 'profile'}", "--virtual-time-budget=5000"]
    return subprocess.run([str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HOME": str(tmp)})


@pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (Debian's chromium; .ci/install_chromium.sh)")
def test_headless_chromium_renders_the_charts(page, tmp_path):
    path, _ = page
    probe = tmp_path / "probe.html"  # the page itself carries no script; the probe adds one
    probe.write_text(path.read_text(encoding="utf-8").replace("</body>", PROBE), encoding="utf-8")
    dom = chromium(tmp_path, "--dump-dom", probe.as_uri()).stdout
    assert 'data-probed="yes"' in dom
    sizes = re.findall(r'id="chart-(\w+)"[^>]*data-natural="(\d+)x(\d+)"|data-natural="(\d+)x(\d+)"[^>]*id="chart-(\w+)"', dom)
    assert len(sizes) == 3 and all(int(w or w2) > 400 and int(h or h2) > 100 for _, w, h, w2, h2, _ in sizes)

    shot = tmp_path / "shot.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1000,1400", path.as_uri())
    with Image.open(shot) as im:
        colors = im.convert("RGB").getcolors(maxcolors=1 << 20)
    bar_blue = sum(n for n, rgb in colors if rgb == (0x4C, 0x78, 0xA8))
    assert len(colors) > 50 and bar_blue > 2000  # text, and the activity chart's bars drawn on screen


# ---- steward stats / steward report -------------------------------------------------------------


@pytest.fixture
def config(tmp_path, fed_month) -> Path:
    """A config folder whose state database holds the generated month for group g."""
    (tmp_path / "config" / "groups").mkdir(parents=True)
    (tmp_path / "config" / "settings.yaml").write_text(yaml.safe_dump({"data_dir": "data"}), encoding="utf-8")
    g = group()
    (tmp_path / "config" / "groups" / "g.yaml").write_text(
        yaml.safe_dump(g.model_dump(mode="json", include={"id", "name", "theme", "timezone", "owners"})), encoding="utf-8")
    shift = (datetime.now(timezone.utc).date() - UNTIL).days  # the month, moved so it ends today
    fed_month(tmp_path / "data" / "steward.db", shift)
    return tmp_path / "config"


def cli() -> typer.Typer:
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    return app


def test_steward_stats_prints_the_funnel(config):
    result = CliRunner().invoke(cli(), ["stats", "--config", str(config), "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "群g" in result.output and "留存" in result.output and "发言最多" in result.output


def test_steward_report_writes_the_page(config, tmp_path):
    result = CliRunner().invoke(cli(), ["report", "--group", "g", "--out", str(tmp_path / "out"), "--config", str(config)])
    assert result.exit_code == 0, result.output
    written = list((tmp_path / "out").glob("report-g-*.html"))
    assert len(written) == 1 and len(parsed(written[0].read_text(encoding="utf-8")).images) == 3


def test_unknown_group_and_missing_database_are_clear_errors(config, tmp_path):
    result = CliRunner().invoke(cli(), ["stats", "--group", "nope", "--config", str(config)])
    assert result.exit_code == 2 and "No group 'nope'" in result.output
    (config.parent / "data" / "steward.db").unlink()
    result = CliRunner().invoke(cli(), ["stats", "--config", str(config)])
    assert result.exit_code == 1 and "No state database" in result.output
