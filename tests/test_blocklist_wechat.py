"""One blocklist flow end to end: the real app's pipeline behind python-wechaty and the loopback puppet
service. A contact listed from one group speaks in a second managed group: that group's owner gets a
case privately, the room hears nothing and nobody is removed (the group's mode is `case`)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from agent.settings import PacingSettings, Person
from agent.state import blocklist
from agent.testing.puppet import LoopbackPuppet
from agent.testing.rig import on_loopback

pytestmark = pytest.mark.e2e  # python-wechaty over gRPC to the loopback puppet service

TRAIL_OWNER, SCAMMER = "wxid_trail_owner", "wxid_scam_hopper"


@pytest.fixture
def app(settings, unit_parts):
    import shutil

    from agent.app import build

    settings.pacing = PacingSettings(group_gap_s=0, account_gap_s=0)
    demo = settings.groups["demo"].model_copy(update={"room_id": "room-demo"})
    settings.groups = {"demo": demo, "trail": demo.model_copy(update={
        "id": "trail", "name": "越野跑小队", "room_id": "room-trail", "topic": None, "admins": [],
        "owners": [Person(id=TRAIL_OWNER, name="老K")]})}
    shutil.copytree(settings.kb.knowledge_dir / "demo", settings.kb.knowledge_dir / "trail")
    built = build(settings, ephemeral=True, **unit_parts)
    built.sync_knowledge()
    yield built
    built.close()


async def test_a_listed_contact_speaking_in_a_second_group_raises_a_case_there(app):
    demo, trail = app.settings.groups["demo"], app.settings.groups["trail"]
    blocklist.add(app.store, SCAMMER, "scam", ["m-evidence"], "demo", demo.owners[0].id, "case",
                  datetime.now(timezone.utc))
    lb = LoopbackPuppet([demo, trail], bot_name=demo.bot_name)
    lb.rooms["room-trail"].member_ids.append(SCAMMER)
    lb.add_contact(SCAMMER, "鞋店小王")
    async with on_loopback(app.settings, app.pipeline, puppet=lb) as (_, channel):
        lb.say(trail, SCAMMER, "大家好，周末一起跑吗")
        [case] = await lb.wait_for(lambda: lb.private(TRAIL_OWNER), 15)
        asked = lb.say(trail, trail.members[0].id, "周六几点集合？")  # the room goes on as usual
        assert await lb.wait_for(lambda: app.store.seen(asked), 15)  # decided (a drain alone can beat its arrival)
        assert await channel.runner.drain(5)
    assert SCAMMER in case.text and "m-evidence" in case.text and "晨风跑团" in case.text
    assert lb.kicks() == [] and lb.private(demo.owners[0].id) == []
    assert all(SCAMMER not in s.text for s in lb.texts(trail))
    [opened] = app.store.cases("trail", "open")
    assert (opened["kind"], opened["member_id"]) == ("blocklist", SCAMMER)
