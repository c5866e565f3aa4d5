"""Reaching WeChat: `steward login` (a QR code that decodes to the service's code), `steward rooms --live`
and `--write`, config/.env, the token kept out of every log line, a first connection that fails
exiting with what to check, and the health check, all through the real python-wechaty client
against the loopback puppet service."""
from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
import threading
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image
from typer.testing import CliRunner

from agent import logmask
from agent.channels.account import NotConnected
from agent.channels.health import HealthServer
from agent.testing.puppet import LoopbackPuppet, free_port
from agent.testing.rig import on_loopback
from agent.channels.wechaty import Backoff, WechatyChannel
from agent.cli import app
from agent.events import Decision, DecisionKind, Say
from agent.pipeline import Pipeline, Services
from agent.settings import GroupConfig, PacingSettings, Person, Settings, load_group
from agent.store import Store

pytestmark = pytest.mark.e2e  # python-wechaty over gRPC to the loopback puppet service

REPO = Path(__file__).resolve().parents[1]
TOKEN = "puppet_tok_7f3a91c2e5"
OWNER, MEMBER = "wxid_ming", "wxid_fang"
runner = CliRunner()


# ---- a loopback service in its own thread, for commands that run their own event loop -------------
class Service:
    def __init__(self, lb: LoopbackPuppet):
        self.lb = lb
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.endpoint = self.call(lb.start())

    def call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def soon(self, fn) -> None:
        self.loop.call_soon_threadsafe(fn)

    def close(self) -> None:
        self.call(self.lb.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def world(logged_in: bool) -> LoopbackPuppet:
    lb = LoopbackPuppet(bot_name="光影助手", token=TOKEN, logged_in=logged_in)
    lb.add_contact(OWNER, "阿明")
    lb.add_contact(MEMBER, "小芳")
    lb.add_room("r-photo@chatroom", "光影社", OWNER, [MEMBER])
    lb.add_room("r-family@chatroom", "家人群", MEMBER, [])
    return lb


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A fresh project with one group made by `steward init`; the puppet variables only in config/.env."""
    config = tmp_path / "config"
    (config / "groups").mkdir(parents=True)
    shutil.copy(REPO / "config" / "settings.yaml", config / "settings.yaml")
    (tmp_path / "knowledge").mkdir()
    result = runner.invoke(app, ["init", "--config", str(config), "--yes", "--id", "photo", "--name", "光影社",
                                 "--theme", "摄影", "--owner", OWNER])
    assert result.exit_code == 0, result.output
    for name in ("WECHATY_PUPPET_SERVICE_ENDPOINT", "WECHATY_PUPPET_SERVICE_TOKEN"):
        monkeypatch.delenv(name, raising=False)  # restored after the test, whatever .env loading sets
    return config


def write_env(config: Path, endpoint: str) -> None:
    (config / ".env").write_text(f"WECHATY_PUPPET_SERVICE_ENDPOINT={endpoint}\n"
                                 f"WECHATY_PUPPET_SERVICE_TOKEN={TOKEN}\n", encoding="utf-8")


def decode_terminal_qr(output: str) -> str:
    """Read back the code `print_qr` drew: each character is two modules (top, bottom), drawn = light."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Scan this code")) + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("(or open"))
    light = {"█": (1, 1), "▀": (1, 0), "▄": (0, 1), "\xa0": (0, 0), " ": (0, 0)}
    rows = []
    for line in lines[start:end]:
        pairs = [light[ch] for ch in line]
        rows += [[p[0] for p in pairs], [p[1] for p in pairs]]
    pixels = np.array(rows, dtype=np.uint8) * 255
    image = Image.fromarray(pixels).resize((pixels.shape[1] * 8, pixels.shape[0] * 8), Image.NEAREST)
    found = zxingcpp.read_barcodes(image)
    assert found, "no QR code in the output"
    return found[0].text


def test_login_shows_the_services_qr_code_and_waits_for_the_scan(project):
    service = Service(world(logged_in=False))
    try:
        write_env(project, service.endpoint)

        def scan_when_shown() -> None:  # the owner scans once the client has been shown the code
            if service.lb.scan_shown.wait(20):
                service.soon(service.lb.confirm_scan)

        threading.Thread(target=scan_when_shown, daemon=True).start()
        result = runner.invoke(app, ["login", "--config", str(project), "--timeout", "20"])
    finally:
        service.close()
    assert result.exit_code == 0, result.output
    assert decode_terminal_qr(result.output) == service.lb.qrcode
    assert "Logged in as 光影助手 (bot)" in result.output


def test_login_that_nobody_scans_times_out(project):
    service = Service(world(logged_in=False))
    try:
        write_env(project, service.endpoint)
        result = runner.invoke(app, ["login", "--config", str(project), "--timeout", "2"])
    finally:
        service.close()
    assert result.exit_code == 1 and "Not logged in" in result.output


def test_a_dead_endpoint_exits_at_once_with_what_to_check(project):
    write_env(project, f"127.0.0.1:{free_port()}")  # nothing listens there
    result = runner.invoke(app, ["login", "--config", str(project)])
    assert result.exit_code == 3, result.output  # it ended, with the not-connected code: no retry loop
    for hint in ("WECHATY_PUPPET_SERVICE_ENDPOINT", "WECHATY_PUPPET_SERVICE_TOKEN", "gateway is running"):
        assert hint in result.output
    assert TOKEN not in result.output


def test_rooms_live_lists_rooms_and_members_and_writes_the_config(project):
    service = Service(world(logged_in=True))
    try:
        write_env(project, service.endpoint)
        listed = runner.invoke(app, ["rooms", "--config", str(project), "--live", "--members"])
        assert listed.exit_code == 0, listed.output
        assert re.search(r"r-photo@chatroom\s+“光影社”.*topic of group photo, not bound", listed.output)
        assert re.search(r"r-family@chatroom\s+“家人群”.*not a configured group", listed.output)
        assert re.search(rf"{MEMBER}\s+小芳", listed.output) and re.search(rf"{OWNER}\s+阿明", listed.output)

        written = runner.invoke(app, ["rooms", "--config", str(project), "--live", "--bind", "r-photo@chatroom",
                                      "--write", "--group", "photo", "--owner", MEMBER])
        assert written.exit_code == 0, written.output
    finally:
        service.close()
    path = project / "groups" / "photo.yaml"
    group = load_group(path)
    assert group.room_id == "r-photo@chatroom"
    assert [(o.id, o.name) for o in group.owners] == [(OWNER, ""), (MEMBER, "小芳")]  # name from the room
    text = path.read_text(encoding="utf-8")
    assert "# Scheduled posts" in text and "#schedules:" in text  # the file's comments are kept
    assert "room r-photo@chatroom (bound in its config file)" in written.output


# ---- the channel itself ------------------------------------------------------------------------------
class Echo:
    """A route answering every room message, so a connection carries traffic both ways."""

    name = "echo"

    def match(self, message, ctx):
        return True

    def handle(self, m, ctx) -> Decision:
        return Decision(DecisionKind.ANSWER, m.id, "answer", actions=[Say(m.group_id, f"收到 {m.text}")])


def channel_parts(tmp_path: Path) -> tuple[Settings, Pipeline]:
    group = GroupConfig(id="photo", name="光影社", room_id="r-photo@chatroom", theme="摄影",
                        owners=[Person(id=OWNER, name="阿明")])
    settings = Settings(data_dir=tmp_path, groups={"photo": group},
                        pacing=PacingSettings(group_gap_s=0, account_gap_s=0))
    return settings, Pipeline(Services(settings=settings, store=Store(), kb=None, prompts=None), [Echo()])


async def test_the_token_is_in_no_log_line_of_a_real_connection(tmp_path, monkeypatch, capfd):
    # a token in the environment that differs from the one given to the channel: the client logs both
    other = "env_tok_0c41d9b27a"
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_TOKEN", other)
    logmask.protect_environment()  # what every command does once config/.env is read
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    keep = Keep(level=logging.DEBUG)
    # python-wechaty's logger does not propagate and writes to the stderr it found when first made
    # (an earlier test's capture, in a full run): listen on it directly as well as on the root
    watched = [logging.getLogger(), logging.getLogger("PuppetService")]
    for logger in watched:
        logger.addHandler(keep)
    old = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        settings, pipeline = channel_parts(tmp_path)
        lb = world(logged_in=True)
        async with on_loopback(settings, pipeline, puppet=lb) as (_, channel):
            lb.say("r-photo@chatroom", MEMBER, "周末去哪拍")
            await lb.wait_for(lambda: lb.texts("r-photo@chatroom"), 10)
    finally:
        for logger in watched:
            logger.removeHandler(keep)
        logging.getLogger().setLevel(old)
    out, errs = capfd.readouterr()
    logged = "\n".join(records) + out + errs
    assert "there are two tokens" in logged  # python-wechaty did log the line that used to carry it
    assert "***" in logged
    assert TOKEN not in logged and other not in logged


async def test_tokens_that_agree_are_not_warned_about(tmp_path, monkeypatch, caplog, capfd):
    """The endpoint and token from config/.env are what the channel uses: no "two tokens" noise."""
    settings, pipeline = channel_parts(tmp_path)
    lb = world(logged_in=True)
    lb.port = free_port()
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_ENDPOINT", lb.endpoint)
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_TOKEN", TOKEN)
    with caplog.at_level(logging.WARNING):
        async with on_loopback(settings, pipeline, puppet=lb) as (_, channel):
            assert channel.self_id == "bot"  # connected through the environment's endpoint and token
    out, errs = capfd.readouterr()
    assert "there are two" not in caplog.text + out + errs


async def test_a_first_connection_that_fails_is_an_error_not_a_retry_loop(tmp_path):
    settings, pipeline = channel_parts(tmp_path)
    endpoint = f"127.0.0.1:{free_port()}"
    channel = WechatyChannel(settings, pipeline, endpoint=endpoint, token=TOKEN, backoff=Backoff(first=0.01))
    with pytest.raises(NotConnected, match=re.escape(endpoint)):
        await asyncio.wait_for(channel.run(asyncio.Event()), 15)
    assert channel.sessions == 1  # one attempt, not a retry loop


async def test_after_a_login_a_lost_connection_is_retried(tmp_path):
    settings, pipeline = channel_parts(tmp_path)
    lb = world(logged_in=True)
    async with on_loopback(settings, pipeline, puppet=lb) as (_, channel):
        await lb.restart(down_s=0.3)
        await lb.wait_for(lambda: lb.connects >= 2, 15)
        await channel.wait_logged_in()
        lb.say("r-photo@chatroom", MEMBER, "还在吗")
        await lb.wait_for(lambda: lb.texts("r-photo@chatroom"), 10)
    assert channel.sessions >= 2


def get(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


async def test_the_health_check_answers_over_http(tmp_path):
    settings, pipeline = channel_parts(tmp_path)
    lb = world(logged_in=True)
    async with on_loopback(settings, pipeline, puppet=lb) as (_, channel):
        health = HealthServer(0, channel.health).start()
        try:
            status, body = await asyncio.to_thread(get, health.port)
            assert status == 200 and body["connected"] is True and body["last_message_at"] is None
            assert body["queue_depth"] == 0 and body["account"] == "bot"
            lb.say("r-photo@chatroom", MEMBER, "在吗")
            await lb.wait_for(lambda: lb.texts("r-photo@chatroom"), 10)
            status, body = await asyncio.to_thread(get, health.port)
            assert body["last_message_at"] is not None
            await lb.close()  # the service goes away
            await lb.wait_for(lambda: not channel.health()["connected"], 10)
            status, body = await asyncio.to_thread(get, health.port)
            assert status == 503 and body["connected"] is False
        finally:
            health.close()
            await lb.start(lb.port)  # back, so the rig can stop the channel cleanly


def test_run_against_a_dead_endpoint_exits_with_what_to_check(project):
    """The whole `steward run`: the app is built, then the first connection fails, and it says so."""
    (project.parent / "knowledge" / "photo" / "walks.md").write_text("# 外拍\n每月第二个周六外拍。\n", encoding="utf-8")
    write_env(project, f"127.0.0.1:{free_port()}")
    result = runner.invoke(app, ["run", "--config", str(project)])
    assert result.exit_code == 3, result.output
    assert "Cannot reach WeChat" in result.output and "gateway is running" in result.output
    assert "lost the connection" not in result.output
