"""One member report end to end: the real app's pipeline behind python-wechaty and the loopback puppet
service. A quoted reply saying 举报 reaches the owners as a private case file; the reporter is thanked
privately; the room hears nothing."""
from __future__ import annotations

import pytest

from agent.settings import PacingSettings
from agent.testing.puppet import LoopbackPuppet
from agent.testing.rig import on_loopback

pytestmark = pytest.mark.e2e  # python-wechaty over gRPC to the loopback puppet service

QUOTE_LINE = "\n- - - - - - - - - - - - - - -\n"  # how puppets render a quoted reply


@pytest.fixture
def app(settings, unit_parts):
    from agent.app import build

    settings.pacing = PacingSettings(group_gap_s=0, account_gap_s=0)
    settings.groups["demo"] = settings.groups["demo"].model_copy(update={"room_id": "room-demo"})
    built = build(settings, ephemeral=True, **unit_parts)
    built.sync_knowledge()
    yield built
    built.close()


async def test_a_quoted_report_reaches_the_owners_privately(app):
    group = app.settings.groups["demo"]
    owner, accused, reporter = group.owners[0].id, group.members[1].id, group.members[3].id
    lb = LoopbackPuppet([group], bot_name=group.bot_name)
    async with on_loopback(app.settings, app.pipeline, puppet=lb):
        lb.say(group, accused, "今天跑了十公里，感觉不错")
        lb.say(group, reporter, f"「{group.name_of(accused)}：今天跑了十公里，感觉不错」{QUOTE_LINE}举报 阴阳怪气")
        [case_file] = await lb.wait_for(lambda: [s for s in lb.private(owner) if "举报" in s.text], 15)
        [thanks] = await lb.wait_for(lambda: lb.private(reporter), 15)
    assert accused in case_file.text and reporter in case_file.text and "阴阳怪气" in case_file.text
    assert "谢谢" in thanks.text
    assert all(reporter not in s.text for s in lb.texts(group))
    assert lb.private(accused) == []
    [case] = app.store.cases("demo")
    assert (case["kind"], case["member_id"]) == ("report", accused)
