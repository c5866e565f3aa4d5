"""The report route: a quoted reply that says 举报 / "report" / "/report" (a reason optional), addressed
to the bot or not. It runs before the command route, whose bank would read "@bot 举报" as some other
intent, and before moderation, so a report quoting an ad is not itself judged an ad. "/report" without
a quote is the command's (agent.reports.commands), which answers with how to report."""
from __future__ import annotations

from agent import patterns
from agent.events import Decision, DecisionKind, Message
from agent.reports.commands import file, reason_of

_MENTION = patterns.compile(r"@\S+\s?")
# without the slash, a report is the word and a short reason; a longer reply that starts with the
# word ("Report: we did 10 km today") is conversation
BARE_CHARS = 40


class ReportRoute:
    name = "reports"

    @staticmethod
    def _reason(message: Message) -> str | None:
        body = _MENTION.sub(" ", message.text).strip()
        if len(body) > BARE_CHARS and not body.startswith(("/", "／")):
            return None
        return reason_of(body)

    def match(self, message: Message, ctx) -> bool:
        if message.quote is None or message.group_id is None or message.private:
            return False
        return self._reason(message) is not None

    def handle(self, message: Message, ctx) -> Decision:
        actions = file(message, self._reason(message) or "", ctx)
        return Decision(DecisionKind.COMMAND, message.id, self.name, actions=actions,
                        detail={"intent": "report", "permitted": True})
