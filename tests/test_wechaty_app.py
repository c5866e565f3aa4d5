"""The real app (knowledge base, routes, prompts) through the real python-wechaty client on loopback:
the demo group's room is bound by its owner's /bind, then it answers, says it does not know, reports a violation to its owners, kicks only after an
owner confirms, and welcomes a newcomer with the rules."""
from __future__ import annotations

from pathlib import Path

import pytest

from agent.testing.puppet import LoopbackPuppet
from agent.testing.rig import on_loopback
from agent.settings import PacingSettings, load_settings

pytestmark = pytest.mark.e2e  # python-wechaty over gRPC to the loopback puppet service

ROOT = Path(__file__).resolve().parent.parent
OWNER, XIAOXUE, KEVIN, SHOES = "wxid_demo_owner_zhou", "wxid_demo_xiaoxue", "wxid_demo_kevin", "wxid_demo_shoes8899"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from agent.app import build

    settings = load_settings(ROOT / "config")
    settings.data_dir = tmp_path_factory.mktemp("data")
    settings.pacing = PacingSettings(group_gap_s=0, account_gap_s=0)
    settings.groups = {"demo": settings.groups["demo"]}
    built = build(settings, ephemeral=True)
    built.sync_knowledge()
    yield built
    built.close()


async def test_the_demo_group_through_wechat(app):
    group = app.settings.groups["demo"]
    lb = LoopbackPuppet([group], bot_name=group.bot_name)
    room = lb.room_of(group)
    async with on_loopback(app.settings, app.pipeline, puppet=lb) as (_, channel):
        assert channel.room_of_group == {}  # a topic is only a candidate
        [found] = await lb.wait_for(lambda: lb.private(OWNER), 15)  # the owner is told of the room
        assert room in found.text and "/bind" in found.text
        lb.say(group, OWNER, "/bind")
        [bound] = await lb.wait_for(lambda: lb.texts(group), 15)
        assert bound.mentions == (OWNER,) and channel.room_of_group == {"demo": room}

        lb.say(group, XIAOXUE, "请问周六长距离几点集合呀？在哪儿集合？")
        [answer] = await lb.wait_for(lambda: lb.texts(group)[1:], 15)
        assert answer.mentions == (XIAOXUE,) and "events.md" in answer.text

        lb.say(group, KEVIN, "今年上马的中签率大概是多少？", mentions=("bot",))
        unknown = await lb.wait_for(lambda: lb.texts(group)[2:], 15)
        assert unknown[0].mentions == (KEVIN,) and "出自知识库" not in unknown[0].text

        ads = ["全新正品跑鞋，工厂直发3折起，需要的加V：paoxie_6688 👟", "跑鞋特价，加微信 paoxie_6688 下单",
               "碳板竞速鞋清仓，需要的加V：paoxie_6688"]
        for n, ad in enumerate(ads, 1):  # the ladder: warn, mute, then a case file for the owners
            lb.say(group, SHOES, ad)
            await lb.wait_for(lambda: sum(s.mentions == (SHOES,) for s in lb.texts(group)) == n, 15)
        cases = await lb.wait_for(lambda: lb.private(OWNER)[1:], 15)
        assert SHOES in cases[0].text and "paoxie_6688" in cases[0].text
        assert lb.kicks() == []  # only proposed to the owners

        lb.say(group, OWNER, "/kick", mentions=(SHOES,))
        await lb.wait_for(lambda: any("/confirm" in s.text for s in lb.texts(group)), 15)
        assert lb.kicks() == []
        lb.say(group, OWNER, "/confirm")
        [kick] = await lb.wait_for(lambda: lb.kicks(), 15)
        assert (kick.room_id, kick.to_id) == (room, SHOES)

        lb.join(group, "wxid_newbie", "新来的小王")
        welcome = await lb.wait_for(lambda: [s for s in lb.texts(group) if s.mentions == ("wxid_newbie",)], 15)
        assert group.rules[0].text[:10] in welcome[0].text
