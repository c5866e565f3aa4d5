"""QR codes in image messages, generated at test time with the qrcode library."""
from __future__ import annotations

import io
from collections import deque
from datetime import datetime
from pathlib import Path

import qrcode

from agent.events import Kind, Member, Message
from agent.llm.prompts import Prompts
from agent.moderation import qr
from agent.pipeline import Context, Services
from agent.routes.moderation import ModerationRoute
from agent.settings import GroupConfig, Settings
from agent.store import Store

ROOT = Path(__file__).resolve().parents[1]


def png(data: str) -> bytes:
    buffer = io.BytesIO()
    qrcode.make(data).save(buffer, format="PNG")
    return buffer.getvalue()


def decide(payload: bytes):
    group = GroupConfig(id="g", theme="t", rules=["不发广告", "不发其他群二维码、拉人"])
    ctx = Context(group, Services(Settings(groups={"g": group}), Store(":memory:"), None, Prompts(ROOT / "prompts")), deque())
    message = Message("i1", "g", Member("m", "m"), "[图片]", datetime(2025, 5, 1), kind=Kind.IMAGE, payload=payload)
    return ModerationRoute().handle(message, ctx)


def test_decode_and_classify():
    assert qr.decode(png("https://weixin.qq.com/g/AbCdEf")) == ["https://weixin.qq.com/g/AbCdEf"]
    assert qr.classify("https://weixin.qq.com/g/AbCdEf") == "group"
    assert qr.classify("https://u.wechat.com/MAbc") == "contact"
    assert qr.classify("https://example.com/menu") is None
    assert qr.decode(b"not an image") == []


def test_group_invite_and_contact_codes_are_links_of_the_invite_rule():
    invite = decide(png("https://weixin.qq.com/g/AbCdEf"))
    assert invite.violation.kind == "link" and invite.violation.article == 2 and invite.detail["step"] == "case"
    assert decide(png("https://u.wechat.com/MAbc")).violation.kind == "link"


def test_an_ordinary_qr_image_is_fine():
    assert decide(png("https://example.com/menu")) is None
