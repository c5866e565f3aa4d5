"""One probation flow through the loopback puppet and the real python-wechaty client: a newcomer's
join is welcomed with the rules to agree to, their "同意" is recorded, their first link is a case for
the owners, a member cannot /trust or see /newcomers, and the owner's /trust ends probation."""
from __future__ import annotations

import pytest

from agent.state import probation
from agent.testing.puppet import LoopbackPuppet
from agent.testing.rig import on_loopback

pytestmark = pytest.mark.e2e  # python-wechaty over gRPC to the loopback puppet service

NEW = "wxid_newcomer_wx"
LINK = "新人福利 https://shop-deals.example.net/p/9"


async def test_a_newcomer_through_wechat(app):
    group = app.settings.groups["demo"]
    group.room_id = "room-demo"  # bound by config: no /bind needed
    owner, member = group.owners[0].id, group.members[0].id
    lb = LoopbackPuppet([group], bot_name=group.bot_name)
    async with on_loopback(app.settings, app.pipeline, puppet=lb):
        lb.join(group, NEW, "新来的")
        [welcome] = await lb.wait_for(lambda: [s for s in lb.texts(group) if s.mentions == (NEW,)], 15)
        assert "同意" in welcome.text
        lb.say(group, NEW, "同意")
        await lb.wait_for(lambda: (probation.row(app.store, "demo", NEW) or {}).get("agreed_ts"), 15)
        lb.say(group, NEW, LINK)
        [case] = await lb.wait_for(lambda: [s for s in lb.private(owner) if NEW in s.text], 15)
        assert "probation" in case.text
        lb.say(group, member, "/newcomers")
        lb.say(group, member, "/trust", mentions=(NEW,))
        await lb.wait_for(lambda: len([s for s in lb.texts(group) if s.mentions == (member,)]) == 2, 15)
        refusals = [s for s in lb.texts(group) if s.mentions == (member,)]
        assert all("只有群主" in s.text for s in refusals) and lb.private(member) == []
        assert probation.row(app.store, "demo", NEW)["trusted_ts"] is None
        lb.say(group, owner, "/trust", mentions=(NEW,))
        await lb.wait_for(lambda: probation.row(app.store, "demo", NEW)["trusted_by"] == owner, 15)
    assert lb.kicks() == []  # a case only proposes; the owners decide
