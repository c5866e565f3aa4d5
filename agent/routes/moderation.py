"""Route 2: rule violations. Warn citing the article, record a strike, escalate by the ladder.

Staff and whitelisted members never reach the handler: that is the route's predicate, not a check
buried in it; the one exception is staff replying to a bot warning that it was a false alarm
(agent.moderation.replies), which withdraws it. The handler runs the flood counter and the cheap
detectors, asks the model judge only about weak findings, and returns None when nothing is wrong so
the message goes on to the next route.
Warnings name the article but never repeat the offending handle or link; case files carry the
evidence to the owners privately. No kick without an owner's decision, unless the rule says auto_kick.
The ladder's rungs and the flood counter follow each group's `moderation` policy, and the classifier's
finding is moved by what the group's owners decided before (agent.moderation.feedback).
"""
from __future__ import annotations

from datetime import timedelta

from agent.clock import local
from agent.events import Decision, DecisionKind, Kick, Kind, Message, Role, Say, Violation, Whisper
from agent.moderation import cases, feedback, qr, replies
from agent.moderation.articles import article_for, label
from agent.moderation.detectors import Finding, detect
from agent.moderation.flood import FloodGuard
from agent.moderation.judge import judge
from agent.moderation.ladder import Step, pause, since, step as ladder_step, stored_time
from agent.moderation.text import Text
from agent.pipeline import Context
from agent.probation.status import on_probation
from agent.probation.stricter import stricter
from agent.quoting import display_name
from agent.settings import GroupConfig, Rule
from agent.state import probation

EVIDENCE_CHARS = 300


def exempt(message: Message, group: GroupConfig) -> bool:
    """Owners, admins, the bot itself and whitelisted contacts are never flagged."""
    return message.sender.is_staff or message.sender.role == Role.BOT or message.sender.id in group.whitelist


class ModerationRoute:
    name = "moderation"

    def __init__(self):
        self._floods: dict[tuple, FloodGuard] = {}

    def flood(self, group: GroupConfig) -> FloodGuard:
        """The group's own repeat/rate counter; a group config with other flood settings gets a fresh one."""
        policy = group.moderation
        key = (group.id, policy.flood_window_minutes, policy.flood_rate)
        if key not in self._floods:
            self._floods[key] = FloodGuard.of(policy)
        return self._floods[key]

    def warm(self) -> None:
        """Load the URL extractor's TLD list, the normaliser's tables and the classifier now rather
        than on the first member message (about 0.6 s here)."""
        from agent.moderation import classifier
        from agent.moderation.links import find_links
        from agent.textnorm import normalize

        find_links("warm.example.org")
        normalize("warm 预热")
        classifier.shipped()

    def match(self, message: Message, ctx: Context) -> bool:
        """Group messages only: what a member tells the bot privately breaks no group rule."""
        if message.group_id is None or message.private or message.kind == Kind.SYSTEM:
            return False
        return not exempt(message, ctx.group) or replies.is_dismissal(message)

    def handle(self, message: Message, ctx: Context) -> Decision | None:
        if exempt(message, ctx.group):  # staff answering a warning: withdraw it if it is one of ours
            return replies.dismiss(message, ctx)
        strict = on_probation(ctx.services.store, ctx.group, message.sender.id, message.ts)  # a newcomer
        finding, llm_calls = self.find(message, ctx, strict=strict)
        if finding is None:
            return None
        numbered = article_for(finding, ctx.group)
        article, rule = numbered if numbered else (None, None)
        decision = Decision(DecisionKind.VIOLATION, message.id, route=self.name, confidence=finding.confidence,
                            violation=Violation(finding.kind, article, finding.reason, finding.severity),
                            llm_calls=llm_calls, detail={"reason": finding.reason})
        if (intent := ctx.view_of(message).refused_intent) is not None:
            decision.detail |= {"intent": intent, "permitted": False}  # a refused command that broke a rule
        if rule is not None and rule.mode == "shadow":
            decision.detail["shadow"] = True
            return decision
        self.enforce(message, ctx, finding, article, rule, decision)
        if strict:
            decision.detail["probation"] = True
            if decision.detail.get("case"):
                probation.case_opened(ctx.services.store, ctx.group.id, message.sender.id, decision.detail["case"],
                                      message.ts)
        return decision

    def find(self, message: Message, ctx: Context, strict: bool = False) -> tuple[Finding | None, int]:
        """The verdict: a repeat is flood whatever it says; else the first strong detector finding;
        else the model judge on the weak ones (None in no-LLM mode). `strict`: the sender is on
        probation, and the findings count as agent.probation.stricter weighs them."""
        repeat = self.flood(ctx.group).see(message)
        if repeat is not None:
            return repeat, 0
        codes = tuple(qr.decode(message.payload)) if message.kind == Kind.IMAGE else ()
        text = Text.of(message, ctx.group.bot_name)
        found = detect(text, ctx.group, message.url, codes)
        if announcing := ctx.view_of(message).refused_announcing:
            found = [announcing, *found]  # the request itself breaks the rule, whatever it would announce
        found = feedback.apply(found, text, ctx.group, ctx.services.store, message.ts)
        if strict:
            found = stricter(found, text, codes, ctx.group)
        if found and found[0].strong:
            return found[0], 0
        if found and ctx.services.llm is not None:
            return judge(message.text, found, ctx), 1
        return None, 0

    def enforce(self, message: Message, ctx: Context, finding: Finding, article: int | None,
                rule: Rule | None, decision: Decision) -> None:
        """Strike, warn and escalate; fills the decision's actions and detail."""
        store, group, now = ctx.services.store, ctx.group, message.ts
        policy = group.moderation
        prior = store.strikes(group.id, message.sender.id, since=since(policy, now))
        window = self.flood(group).window
        if finding.kind == "flood" and any(s["kind"] == "flood" and now - stored_time(s["ts"], now) < window
                                           for s in prior):
            decision.detail["quiet"] = True  # one warning per burst; replying to each copy would flood too
            return
        store.add_strike(group.id, message.sender.id, finding.kind, article, message.id,
                         message.text[:EVIDENCE_CHARS], now)
        count = len(prior) + 1
        step = ladder_step(policy, count, finding.severity)
        decision.detail.update(step=str(step), strikes=count)
        name = display_name(message.sender.name or group.name_of(message.sender.id), ctx.sentence("name_fallback"))
        cite = (ctx.sentence("warn_article", number=article, text=rule.text) if rule is not None
                else ctx.sentence("warn_no_article"))
        what = label(finding.kind, group.language)
        if finding.kind == "injection" and count == 1 and step == Step.WARN:
            text = ctx.sentence("warn_injection", member=name)  # a calm refusal first; a formal warning after
        elif step == Step.WARN:
            text = ctx.sentence("warn_first", member=name, label=what, article=cite)
        elif step == Step.PAUSE:
            pause(store, group.id, message.sender.id, now + timedelta(hours=policy.mute_hours))
            text = ctx.sentence("warn_mute", member=name, label=what, article=cite, count=count,
                                hours=f"{policy.mute_hours:g}", bot=group.bot_name)
        else:
            text = ctx.sentence("warn_case", member=name, label=what, article=cite)
        decision.actions.append(Say(group.id, text, (message.sender.id,)))
        if step == Step.CASE:
            decision.detail["case"] = self.open_case(message, ctx, finding, article, name, prior, decision)
            if rule is not None and rule.auto_kick:
                decision.actions.append(Kick(group.id, message.sender.id))
        replies.remember(store, group.id, message.id, decision.detail.get("case"), message.sender.id, name, finding.kind,
                         text, now)

    def open_case(self, message: Message, ctx: Context, finding: Finding, article: int | None, name: str,
                  prior: list, decision: Decision) -> int:
        """Open a case with a suggested kick and whisper the case file to every owner."""
        group, lang = ctx.group, ctx.group.language
        case_id = ctx.services.store.open_case(group.id, message.sender.id, finding.kind, article, "kick", message.ts)
        ctx.services.store.put(cases.name_key(case_id), name)

        def cited(number):
            return ctx.sentence("case_article", number=number) if number else ctx.sentence("warn_no_article")

        history = "\n".join(
            ctx.sentence("case_prior", time=local(s["ts"], group.timezone).strftime("%Y-%m-%d %H:%M"), label=label(s["kind"], lang),
                         article=cited(s["article"]))
            for s in prior) or ctx.sentence("case_no_prior")
        text = ctx.sentence(
            "case_file", case_id=case_id, group=group.name or group.id, member=name, member_id=message.sender.id,
            time=message.ts.strftime("%Y-%m-%d %H:%M"), label=label(finding.kind, lang), article=cited(article),
            reason=finding.reason, evidence=message.text[:EVIDENCE_CHARS], prior=history,
            suggested=ctx.sentence("case_suggest_kick"))
        decision.actions.extend(Whisper(owner.id, text) for owner in group.owners)
        return case_id

