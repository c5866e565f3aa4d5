"""One catch-up end to end: the real app's pipeline behind python-wechaty and the loopback puppet
service. A member asks the bot what they missed and gets the summary privately: the owner's
announcement is in it, the ad is not, and the room hears nothing."""
from __future__ import annotations

import pytest

from agent.settings import PacingSettings
from agent.testing.puppet import LoopbackPuppet
from agent.testing.rig import on_loopback

pytestmark = pytest.mark.e2e  # python-wechaty over gRPC to the loopback puppet service


@pytest.fixture
def app(settings, unit_parts):
    from agent.app import build

    settings.pacing = PacingSettings(group_gap_s=0, account_gap_s=0)
    settings.groups["demo"] = settings.groups["demo"].model_copy(update={"room_id": "room-demo"})
    built = build(settings, ephemeral=True, **unit_parts)
    built.sync_knowledge()
    yield built
    built.close()


async def test_a_member_asking_what_they_missed_gets_it_privately(app):
    group = app.settings.groups["demo"]
    owner, chatty, spammer, asker = group.owners[0].id, group.members[1].id, group.members[2].id, group.members[3].id
    lb = LoopbackPuppet([group], bot_name=group.bot_name)
    async with on_loopback(app.settings, app.pipeline, puppet=lb) as (_, channel):
        said = [lb.say(group, owner, "本周日长距离改到早上六点半出发，路线不变"),
                lb.say(group, chatty, "今天配速终于进了六分，开心"),
                lb.say(group, spammer, "加我微信 shoes_4321 代购跑鞋全网最低")]
        # decided, not just drained: a drain while the messages are still on their way from the service
        # finds nothing pending and returns at once (what made this test fail on a busy machine)
        assert await lb.wait_for(lambda: all(app.store.seen(m) for m in said), 15)
        assert await channel.runner.drain(15)
        lb.say(group, asker, "我错过了什么", mentions=(lb.bot_id,))
        [summary] = await lb.wait_for(lambda: lb.private(asker), 15)
        assert await channel.runner.drain(15)
    assert "六点半出发" in summary.text and "shoes_4321" not in summary.text and "代购" not in summary.text
    assert not any(asker in s.text or "六点半" in s.text for s in lb.texts(group))
