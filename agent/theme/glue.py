"""Social glue: greetings, thanks, 收到, +1, red packets, emoji, laughter and short reactions.

These keep a group warm and are never judged on their words' embedding. Greetings, thanks, laughter
and red packets are never off-topic; a bare reaction (+1, 对对对, three characters or fewer) takes the
topic of the talk it reacts to (the route decides that from the decision just before it).
"""
from __future__ import annotations

import re

from agent import patterns
from agent.events import Kind, Message

_CODES = patterns.compile(r"\[[^\[\]]{1,6}\]")
_MENTION = patterns.compile(r"@\S+\s?")
_NON_WORD = patterns.compile(r"[\W_]+", re.UNICODE)
_GLUE = patterns.compile(
    r"^(早|早安|早上好|上午好|中午好|下午好|晚上好|晚安|大家好|你好|您好|hi|hello|hey|morning|good ?(morning|night)|"
    r"谢谢|感谢|多谢|谢啦|thx|thanks|thank ?you|ty|收到|好的|好嘞|ok|okay|\+1|1|同|同上|赞|顶|牛|厉害|"
    r"欢迎|欢迎欢迎|welcome|哈+|嘿+|呵+|h+a+|lol|lmao|666+|红包|恭喜发财|恭喜|周末愉快|新年快乐|辛苦了|抱抱|加油)",
    re.I,
)
_GLUE_WORDS = patterns.compile(
    r"(早上好|晚安|大家好|谢谢|感谢|收到|欢迎|恭喜|红包|抢到|手气最佳|周末愉快|下周见|明天见|辛苦|"
    r"thanks|thank ?you|welcome|good ?morning|good ?night|hello)",
    re.I,
)


def content(text: str) -> str:
    """The words of a message without mentions, emoji codes, emoji and punctuation."""
    return _NON_WORD.sub("", _CODES.sub("", _MENTION.sub("", text)))


# greetings, thanks, acknowledgements, wishes and laughter: warmth, whatever the talk around them
_SOCIAL = patterns.compile(
    r"(早|晚安|好|谢|感谢|收到|欢迎|恭喜|红包|辛苦|抱抱|加油|快乐|愉快|哈|呵|嘿|嘻|lol|lmao|haha|hehe|"
    r"hi|hello|hey|morning|night|thank|thx|welcome|ty$|ok)",
    re.I,
)


def is_reaction(message: Message) -> bool:
    """Glue that only reacts (+1, 对对对) rather than greets, thanks, laughs or hands out red packets."""
    if message.kind != Kind.TEXT or not is_glue(message):
        return False
    return not _SOCIAL.search(content(message.text))


def is_glue(message: Message) -> bool:
    if message.kind in (Kind.RED_PACKET, Kind.EMOJI):
        return True
    words = content(message.text)
    if len(words) <= 3:
        return True
    if _GLUE.match(words) and len(words) <= 10:
        return True
    # a greeting or thanks with a little small talk around it ("谢谢分享 很有用"); laughter alone
    # is glue (above), but chatter ending in 哈哈 is still chatter
    return bool(_GLUE_WORDS.search(words)) and len(words) <= 14
