"""The catch-all route: social glue is ignored (a bare reaction inside off-topic talk is part of that
talk); off-topic drift is read from the message's topic verdict and nudged only when the drift policy
allows. Every message that reaches it gets a Decision."""
from __future__ import annotations

from agent.events import Decision, DecisionKind, Message, Say
from agent.pipeline import Context
from agent.theme.nudge import compose
from agent.theme.policy import should_nudge


class ThemeRoute:
    name = "theme"

    def __init__(self, judges):
        self.judges = judges  # callable(group_id) -> ThemeJudge, rebuilt by the app when knowledge changes

    def match(self, message: Message, ctx: Context) -> bool:
        return message.group_id is not None

    def handle(self, message: Message, ctx: Context) -> Decision:
        view = ctx.view_of(message)
        if view.glue:
            if not (view.reaction and view.in_drift):
                return Decision(DecisionKind.IGNORE, message.id, self.name, detail={"glue": True})
            inherited, detail = True, {"glue": True}  # "+1" to off-topic talk
        else:
            verdict = view.topic(self.judges(ctx.group.id))
            detail = verdict.detail()
            if not verdict.offtopic:
                return Decision(DecisionKind.IGNORE, message.id, self.name, detail=detail)
            inherited = verdict.inherited
        send, why_not = should_nudge(message, ctx.group, ctx.recent, ctx.services.store)
        detail |= {"inherited": inherited, "nudged": send, "suppressed": why_not}
        actions, calls, used = [], 0, 0
        if send:
            text, calls, used = compose(message, ctx)
            actions.append(Say(ctx.group.id, text))
        return Decision(DecisionKind.NUDGE, message.id, self.name, actions=actions, detail=detail,
                        llm_calls=calls, llm_tokens=used)
