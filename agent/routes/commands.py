"""First route: command-shaped text. Owners and admins run it; everyone else gets a polite refusal,
unless a member's command in words also breaks a rule (an injection dressed as a request, or asking
the bot to announce something where its rule forbids that): then the moderation route after this one
warns as for any violation.

Permission is a predicate on the sender's role, and the role comes from the contact id alone."""
from __future__ import annotations

from dataclasses import dataclass, replace

from agent.commands import bank, catalog
from agent.commands.api import Parsed
from agent.commands.parse import parse
from agent.commands.understand import understand, worth_asking
from agent.events import Decision, DecisionKind, Message, Say
from agent.moderation import replies
from agent.moderation.detectors import asked_to_announce, flagged
from agent.pipeline import Context
from agent.settings import GroupConfig


@dataclass(frozen=True)
class Verdict:
    intent: str
    permitted: bool
    parsed: Parsed


# natural phrasing is read on messages up to this long: a command said in words is a sentence or two,
# and reading one costs per character (time phrases, names); longer text needs the slash form
NATURAL_CHARS = 300


def interpret(message: Message, group: GroupConfig) -> Verdict | None:
    """Parse and check permission, without running anything (the eval scores this too)."""
    if len(message.text) <= NATURAL_CHARS:
        parsed = parse(message, group)
    else:  # a slash command keeps its whole argument; a long text is not read as a spoken command
        parsed = parse(replace(message, text=message.text[:NATURAL_CHARS]), group)
        parsed = parse(message, group) if parsed is not None and parsed.slash else None
    if parsed is None:
        return None
    return Verdict(parsed.spec.name, parsed.spec.may_run(message.sender.role), parsed)


class CommandRoute:
    name = "commands"

    def warm(self) -> None:
        """Embed the paraphrase banks now (about 5 s), not on the first message read as a command."""
        bank.bank()
        bank.fitted()

    def match(self, message: Message, ctx: Context) -> bool:
        verdict = interpret(message, ctx.group)
        if replies.is_dismissal(message) and (verdict is None or not verdict.parsed.slash):
            return False  # an owner calling a quoted warning a false alarm: moderation's feedback, not a command
        if verdict is not None and not verdict.permitted and not verdict.parsed.slash:
            announcing = asked_to_announce(verdict.intent, ctx.group)
            if announcing or flagged(message, ctx.group):
                view = ctx.view_of(message)
                view.refused_intent, view.refused_announcing = verdict.intent, announcing
                return False  # a member's words reaching for owner powers that break a rule: moderation's case
        return verdict is not None or (ctx.services.llm is not None and worth_asking(message))

    def handle(self, message: Message, ctx: Context) -> Decision | None:
        verdict, used = interpret(message, ctx.group), 0
        if verdict is None:  # a phrasing the banks missed: the model proposes, permissions decide
            parsed, used = understand(message, ctx.services.llm, ctx.sentence)
            if parsed is None:
                return None  # not a command after all; the model's usage still counts in its figures
            verdict = Verdict(parsed.spec.name, parsed.spec.may_run(message.sender.role), parsed)
        detail = {"intent": verdict.intent, "permitted": verdict.permitted}
        usage = {"llm_calls": 1, "llm_tokens": used} if used else {}
        if not verdict.permitted:
            refusal = ctx.sentence("cmd_refused", bot=ctx.group.bot_name)
            return Decision(DecisionKind.COMMAND, message.id, self.name, detail=detail,
                            actions=[Say(ctx.group.id, refusal, (message.sender.id,))], **usage)
        actions = catalog.run(verdict.parsed, message, ctx)
        return Decision(DecisionKind.COMMAND, message.id, self.name, actions=actions, detail=detail, **usage)

