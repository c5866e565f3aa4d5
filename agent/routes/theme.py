"""The catch-all route: social glue is ignored (a bare reaction inside off-topic talk is part of that
talk); off-topic drift is judged on every message and nudged only when the drift policy allows.
Every message that reaches it gets a Decision."""
from __future__ import annotations

from agent.events import Decision, DecisionKind, Message, Say
from agent.bounds import head_and_tail
from agent.pipeline import Context
from agent.theme.glue import content, is_glue, is_reaction
from agent.theme.judge import ThemeJudge, cutoff, recent_texts
from agent.theme.nudge import compose
from agent.theme.policy import follows_drift, should_nudge

SHORT_REPLY = 25  # characters of content: a reply this short takes the topic of the talk it answers
# a message's topic is judged on its head and tail, this many characters: the judge cuts words from all
# it is given (0.4 s for a 4,000-character message and the talk before it), and a topic shows early
THEME_CHARS = 400


def judged(text: str, before: list[str]) -> tuple[str, list[str]]:
    """The message and the talk before it as the theme judge reads them (both bounded)."""
    return head_and_tail(text, THEME_CHARS), [head_and_tail(t, THEME_CHARS) for t in before]


class ThemeRoute:
    name = "theme"

    def __init__(self, judges):
        self.judges = judges  # callable(group_id) -> ThemeJudge, rebuilt by the app when knowledge changes

    def match(self, message: Message, ctx: Context) -> bool:
        return message.group_id is not None

    def handle(self, message: Message, ctx: Context) -> Decision:
        if is_glue(message):
            if not (is_reaction(message) and follows_drift(message, ctx.group, ctx.recent)):
                return Decision(DecisionKind.IGNORE, message.id, self.name, detail={"glue": True})
            offtopic, inherited, detail = True, True, {"glue": True}  # "+1" to off-topic talk
        else:
            judge: ThemeJudge = self.judges(ctx.group.id)
            policy = ctx.group.theme_policy
            j = judge.judge(*judged(message.text, recent_texts(message.ts, ctx.recent)))
            offtopic, inherited = j.probability >= cutoff(policy.margin), False
            if not offtopic and j.probability >= cutoff(policy.reply_margin) and len(content(message.text)) <= SHORT_REPLY:
                offtopic = inherited = follows_drift(message, ctx.group, ctx.recent)  # a reply takes its talk's topic
            detail = {"offtopic_score": round(j.probability, 3), "lean": round(j.lean, 3)}
            if not offtopic:
                return Decision(DecisionKind.IGNORE, message.id, self.name, detail=detail)
        send, why_not = should_nudge(message, ctx.group, ctx.recent, ctx.services.store)
        detail |= {"inherited": inherited, "nudged": send, "suppressed": why_not}
        actions, calls, used = [], 0, 0
        if send:
            text, calls, used = compose(message, ctx)
            actions.append(Say(ctx.group.id, text))
        return Decision(DecisionKind.NUDGE, message.id, self.name, actions=actions, detail=detail,
                        llm_calls=calls, llm_tokens=used)
