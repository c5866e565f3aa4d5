"""First route: command-shaped text. Owners and admins run it; everyone else gets a polite refusal.

Permission is a predicate on the sender's role, and the role comes from the contact id alone."""
from __future__ import annotations

from dataclasses import dataclass

from agent.commands import handlers
from agent.commands.parse import Parsed, parse
from agent.commands.specs import may_run
from agent.events import Decision, DecisionKind, Message, Say
from agent.pipeline import Context
from agent.settings import GroupConfig


@dataclass(frozen=True)
class Verdict:
    intent: str
    permitted: bool
    parsed: Parsed


def interpret(message: Message, group: GroupConfig) -> Verdict | None:
    """Parse and check permission, without running anything (the eval scores this too)."""
    parsed = parse(message, group.bot_name)
    if parsed is None:
        return None
    return Verdict(parsed.spec.name, may_run(parsed.spec, message.sender.role), parsed)


class CommandRoute:
    name = "commands"

    def match(self, message: Message, ctx: Context) -> bool:
        return interpret(message, ctx.group) is not None

    def handle(self, message: Message, ctx: Context) -> Decision:
        verdict = interpret(message, ctx.group)
        detail = {"intent": verdict.intent, "permitted": verdict.permitted}
        if not verdict.permitted:
            refusal = ctx.sentence("cmd_refused", bot=ctx.group.bot_name)
            return Decision(DecisionKind.COMMAND, message.id, self.name, detail=detail,
                            actions=[Say(ctx.group.id, refusal, (message.sender.id,))])
        actions = handlers.run(verdict.parsed, message, ctx)
        return Decision(DecisionKind.COMMAND, message.id, self.name, actions=actions, detail=detail)
