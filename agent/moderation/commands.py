"""Moderation commands in chat: owners decide cases (/case 12 kick, 案件12 移出), members ask /why.

Declared here with their handlers (agent.commands.api); the command route checks roles first.
Warning and removing a member by hand are here too: both act on the member's record. The case id
and the decision are read here from the command's text, in English and in Chinese. A case decision
is never guessed: text naming two decisions ("算了，踢了吧") gets the usage line back instead of a kick.
"""
from __future__ import annotations

import re

from agent import patterns
from agent.commands.api import EVERYONE, CommandSpec, Context, Parsed, say
from agent.clock import local
from agent.events import Action, Kick, Message, Say, Whisper
from agent.blocklist import listing as blocklist
from agent.moderation import cases
from agent.moderation.articles import label
from agent.moderation.ladder import since
from agent.quoting import display_name

WHY_STRIKES = 3  # the latest strikes a member is shown
WHY_EVIDENCE_CHARS = 120

_CASE_ID = patterns.compile(r"\d+")
# "不踢了" / "don't kick" says what not to do; it must not read as "kick"
_NOT_KICK = patterns.compile(r"(不|别|不用|不要|无需|不必|先不)(踢|移出|移除|请出)|\b(don'?t|do not|no need to|not) (kick|remove)\b", re.I)
_WORDS = {
    "kick": patterns.compile(r"踢|移出|移除|请出|清出|清退|\b(kick|remove|ban)\b", re.I),
    "warn": patterns.compile(r"警告|警示|\bwarn(ing)?\b", re.I),
    "dismiss": patterns.compile(r"驳回|算了|不处理|不用管|放过|撤销|误判|误报|不算|\b(dismiss|drop|reject|ignore)\b", re.I),
}


# an owner's reply to a warning calling it a false alarm: "这不是广告", "误判了", "not spam", "false alarm";
# asked as a question ("这不是广告吗", "不是广告是什么") or denied ("这不是误判") it says the opposite
_KINDS_ZH = "(广告|推广|营销|诈骗|骗局|骗子|辱骂|骂人|攻击|违规|刷屏|注入)"
_KINDS_EN = r"(ad|advert|advertisement|spam|scam|promotion|abuse|insult|violation|injection)"
_DISMISS = patterns.compile(
    rf"(不是|不算|并非|没有?在?)(打|发|做)?{_KINDS_ZH}|误判|误报|误会|误伤|冤枉|判错|搞错了|弄错了|"
    rf"\bnot (an? )?{_KINDS_EN}\b|\bfalse (alarm|positive)\b|\b(wrongly|mistakenly) (flagged|warned)\b", re.I)
_NOT_DISMISS = patterns.compile(
    rf"(不是|不算|并非|没有?在?)(打|发|做)?{_KINDS_ZH}(是什么|吗|嘛|么|呢|\?|？)|(不是|并非|没有)(误判|误报|冤枉)|"
    rf"\bnot (an? )?{_KINDS_EN} ?\?|\bnot (a )?(false (alarm|positive)|mistake)\b", re.I)


def read_dismissal(text: str) -> bool:
    """Whether an owner's reply to a warning says it was a false alarm."""
    return _DISMISS.search(text) is not None and _NOT_DISMISS.search(text) is None


def read_case(text: str) -> tuple[int, str] | None:
    """'12 kick', '案件12 踢了', '#12 不踢了，警告一下' → (12, 'kick' | 'warn' | 'dismiss'); None when
    the case number is missing or the decision is absent or ambiguous."""
    number = _CASE_ID.search(text)
    if number is None:
        return None
    rest = text[:number.start()] + " " + text[number.end():]
    negated = _NOT_KICK.search(rest) is not None
    rest = _NOT_KICK.sub(" ", rest)
    said = {decision for decision, words in _WORDS.items() if words.search(rest)} or ({"dismiss"} if negated else set())
    return (int(number.group()), said.pop()) if len(said) == 1 else None


def case(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    """`/case 12 kick|warn|dismiss` and Chinese phrasings; replies go to the deciding owner privately."""
    found = read_case(parsed.text or parsed.extra.get("phrase", ""))
    if found is None:
        return [Whisper(msg.sender.id, ctx.sentence("case_usage"))]
    case_id, decision = found
    return cases.decide(case_id, decision, msg.sender, ctx.group, ctx.services, msg.ts)


def why(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    """A member's latest live strikes, each with its article. Asked privately, the reply quotes the
    member's own messages; asked in the group it never does (that would repost the ad or the link)."""
    group = ctx.group
    strikes = ctx.services.store.strikes(group.id, msg.sender.id, since=since(group.moderation, msg.ts))
    latest = strikes[::-1][:WHY_STRIKES]
    name = display_name(msg.sender.name or group.name_of(msg.sender.id), ctx.sentence("name_fallback"))
    days = group.moderation.strike_days
    if not latest:
        text = ctx.sentence("why_none", member=name, days=days)
    else:
        lines = []
        for s in latest:
            rule = group.rules[s["article"] - 1] if s["article"] and s["article"] <= len(group.rules) else None
            article = (ctx.sentence("why_article", number=s["article"], text=rule.text) if rule is not None
                       else ctx.sentence("warn_no_article"))
            lines.append(ctx.sentence("why_line", time=local(s["ts"], group.timezone).strftime("%Y-%m-%d %H:%M"), label=label(s["kind"], group.language),
                                      article=article))
            if msg.private and s["evidence"]:
                lines.append(ctx.sentence("why_evidence", evidence=_clip(s["evidence"])))
        which = "why_private" if msg.private else "why_group"
        text = ctx.sentence(which, member=name, group=group.name or group.id, group_id=group.id, days=days,
                            count=len(strikes), strikes="\n".join(lines))
    if msg.private:
        return [Whisper(msg.sender.id, text)]
    return [Say(group.id, text, (msg.sender.id,))]


def _clip(text: str) -> str:
    return text if len(text) <= WHY_EVIDENCE_CHARS else text[:WHY_EVIDENCE_CHARS] + "…"


def warn(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    """A strike by an owner's hand, with their reason; the member is told in the group."""
    target = parsed.targets[0]
    reason = parsed.text or "-"
    ctx.services.store.add_strike(ctx.group.id, target, "manual", None, msg.id, reason, msg.ts)
    return [Say(ctx.group.id, ctx.sentence("cmd_warned", reason=reason), (target,))]


def kick(parsed: Parsed, msg: Message, ctx: Context) -> list[Action]:
    """Runs once the owner has confirmed the proposal; a kick for a scam or an ad lists the member."""
    for target in parsed.targets:
        blocklist.after_kick(ctx.services.store, ctx.group.id, target, parsed.text, msg.sender.id, msg.ts)
    return [Kick(ctx.group.id, t) for t in parsed.targets] + say(ctx, msg, ctx.sentence("cmd_done"))


COMMANDS = (
    CommandSpec("warn", ("warn", "警告"), "/warn @成员 <理由>", warn, needs_target=True),
    CommandSpec("kick", ("kick", "踢"), "/kick @成员", kick, needs_target=True, confirm=True),
    # the case file was the proposal: deciding it needs no second confirmation
    CommandSpec("case", ("case", "案件"), "/case <编号> kick|warn|dismiss", case),
    CommandSpec("why", ("why", "为什么"), "/why", why, roles=EVERYONE),
)
