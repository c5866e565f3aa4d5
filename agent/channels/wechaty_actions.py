"""The pipeline's actions carried out through wechaty: say in a group (mentioning only names that do
not advertise), whisper to a contact, send an image, remove a member."""
from __future__ import annotations

import contextlib
import logging
from typing import Any, Callable

from agent import quoting
from agent.events import Action, Kick, Say, SendImage, Whisper

log = logging.getLogger("steward.wechat")


def stream_errors() -> tuple[type[BaseException], ...]:
    """What a send raises when the connection to the service is gone (worth one retry after reconnect)."""
    from grpclib.exceptions import GRPCError, StreamTerminatedError

    return (GRPCError, StreamTerminatedError)


def retryable(exc: BaseException) -> bool:
    """The send never reached the account: the connection was down, or the service answered
    UNAVAILABLE. Any other status is the service's answer to this very send (refused, or failed part
    way): sending it again could fail the same way or put a second copy in the group."""
    from grpclib.const import Status
    from grpclib.exceptions import GRPCError

    return not isinstance(exc, GRPCError) or exc.status == Status.UNAVAILABLE


async def perform(bot: Any, action: Action, room_id: Callable[[str], str]) -> str | None:
    """One action on the logged-in account; `room_id` gives a group's bound room. Returns the id of
    the message sent, where the puppet gives one (the outbox keeps it)."""
    from wechaty_puppet import FileBox

    if isinstance(action, Say):
        room = bot.Room.load(room_id(action.group_id))
        mentions = [c for c in action.mentions if await _mentionable(bot, c)]
        return _id(await room.say(action.text, mention_ids=mentions or None))
    elif isinstance(action, Whisper):
        contact = bot.Contact.load(action.contact_id)
        await contact.ready()
        return _id(await contact.say(action.text))
    elif isinstance(action, SendImage):
        box = FileBox.from_file(action.path)
        if action.group_id:
            return _id(await bot.Room.load(room_id(action.group_id)).say(box))
        return _id(await bot.Contact.load(action.contact_id).say(box))
    elif isinstance(action, Kick):
        room = bot.Room.load(room_id(action.group_id))
        await room.delete(bot.Contact.load(action.contact_id))
        log.info("removed %s from %s", action.contact_id, action.group_id)
        return None
    raise TypeError(f"unknown action {action!r}")


def _id(sent: Any) -> str | None:
    return getattr(sent, "message_id", None)


async def _mentionable(bot: Any, contact_id: str) -> bool:
    """WeChat writes "@<display name>" into the post: a name that advertises (a link, handle, @all,
    number; agent.quoting) is not mentioned, or the bot would post the member's advert itself."""
    contact = bot.Contact.load(contact_id)
    with contextlib.suppress(Exception):
        await contact.ready()
    return quoting.contact_free(contact.name if contact.is_ready() else "")
