"""Contract test: our channel and python-wechaty against the Wechaty project's own puppet service.

wechaty-puppet-service's PuppetServer (the real Node gRPC server, TLS off) wraps wechaty-puppet-mock;
mock_server.mjs drives it from stdin and reports what the bot did on stdout. The pipeline is the real
app (knowledge base, routes, prompts), so this is the whole path a WeChat message takes, minus WeChat.
Installed by .ci/install_contract.sh (npm ci, versions pinned by package-lock.json).
"""
from __future__ import annotations

import asyncio
import json
import shutil
import socket
from pathlib import Path

import pytest

from agent.settings import GroupConfig, Person, Settings

HERE = Path(__file__).parent
ROOT = HERE.parent.parent

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(
    not (HERE / "node_modules" / "wechaty-puppet-service").is_dir() or shutil.which("node") is None,
    reason="contract test needs node and tests/contract/node_modules: run .ci/install_contract.sh")]


class MockService:
    """The Node process: commands in, observed events out."""

    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc
        self.events: list[dict] = []

    async def send(self, **cmd) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(cmd, ensure_ascii=False) + "\n").encode())
        await self.proc.stdin.drain()

    async def until(self, predicate, timeout: float = 15.0) -> dict:
        """Read events until one matches (events already read are checked first)."""
        async def read() -> dict:
            for event in self.events:
                if predicate(event):
                    return event
            assert self.proc.stdout is not None
            while True:
                line = await self.proc.stdout.readline()
                if not line:
                    raise EOFError("the mock service exited")
                if not line.startswith(b"{"):
                    continue
                event = json.loads(line)
                self.events.append(event)
                if predicate(event):
                    return event
        return await asyncio.wait_for(read(), timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def mock_service():
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        "node", str(HERE / "mock_server.mjs"), str(port), cwd=HERE,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    service = MockService(proc)
    try:
        await service.until(lambda e: e["event"] == "ready", timeout=30)
        yield service, f"127.0.0.1:{port}"
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


@pytest.fixture
def app(tmp_path):
    from agent.app import build

    knowledge = tmp_path / "knowledge" / "contract"
    knowledge.mkdir(parents=True)
    (knowledge / "faq.md").write_text(
        "# 集合\n\n每周六早上六点半在跑者驿站集合，六点四十出发。\n\n# 报名\n\n报名截止时间是每月二十号。\n",
        encoding="utf-8")
    group = GroupConfig(id="contract", name="契约测试群", topic="契约测试群", theme="跑步训练交流", bot_name="小助手",
                        owners=[Person(id="owner", name="群主")], rules=["不发广告"])
    settings = Settings(data_dir=tmp_path / "data", prompts_dir=ROOT / "prompts", groups={"contract": group})
    settings.kb.knowledge_dir = tmp_path / "knowledge"
    built = build(settings, ephemeral=True)
    built.sync_knowledge()
    yield built
    built.close()


async def test_answer_and_welcome_through_the_wechaty_mock(mock_service, app):
    from agent.channels.wechaty import WechatyChannel

    service, endpoint = mock_service
    channel = WechatyChannel(app.settings, app.pipeline, endpoint=endpoint, token="insecure_contract")
    stop = asyncio.Event()
    task = asyncio.create_task(channel.run(stop))
    try:
        await asyncio.wait_for(channel.wait_logged_in(), 20)
        assert channel.self_id == "bot"
        assert channel.room_of_group == {}  # a topic alone binds nothing: the configured owner does
        await service.send(cmd="say", **{"from": "owner"}, text="/bind")
        await service.until(lambda e: e["event"] == "messageSendText" and e["args"][0] == "contract@chatroom")
        assert channel.room_of_group == {"contract": "contract@chatroom"}

        await service.send(cmd="say", **{"from": "alice"}, text="@小助手 周六几点集合？", mentions=["bot"])
        sent = await service.until(lambda e: e["event"] == "messageSendText" and "六点半" in e["args"][1])
        room_id, text = sent["args"][0], sent["args"][1]
        assert room_id == "contract@chatroom"
        assert text.startswith("@Alice") and "六点半" in text and "faq.md" in text

        await service.send(cmd="join", id="newbie", name="新人小王")
        welcome = await service.until(lambda e: e["event"] == "messageSendText" and "新人小王" in e["args"][1])
        assert welcome["args"][0] == "contract@chatroom" and "不发广告" in welcome["args"][1]
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
