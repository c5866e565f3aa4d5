"""The moderation verdict on one member message: exact checks first, then the learned classifier.

Exact checks are the ones that hold in any group because they read structure, not wording: a link and
where it leads (invite, netdisk, short link, bargain/vote page, a domain off the group's allowlist), a
decoded QR code, a contact card or mini-program, a contact call next to a handle, the canonical prompt-
injection phrases. Everything that depends on wording (ads, scams, abuse, injection in other words)
is the classifier's call (classifier.py), fitted on public data and synthetic group text rather than
on one group's messages. `detect` orders findings: injection, scam, an invitation to another group,
ad, link, abuse; strong findings first, weak ones are hints for the model judge. A promotion whose
call to action is a link, QR code, card or mini-program is reported as the link it carries; scam bait
with its link (phishing) as the scam, and an invitation to another group too when the bait is plain.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from agent import patterns
from agent.answering.questions import shape
from agent.events import Kind, Message
from agent.moderation import classifier, cues, qr
from agent.moderation.links import find_links
from agent.moderation.text import Text, fold
from agent.settings import GroupConfig

SEVERITY = {"ad": 1, "link": 1, "flood": 1, "injection": 1, "abuse": 2, "scam": 3}
STRONG = 0.6  # below this a finding is only a hint for the model judge
HINT = 0.5  # a classifier score this share of its threshold is passed on as a hint


@dataclass(frozen=True)
class Finding:
    kind: str  # ad | link | scam | abuse | flood | injection
    reason: str  # which check fired; never the offending handle or link
    severity: int  # 3 opens a case at once
    confidence: float
    cues: tuple[str, ...] = ()  # words that pick the best-fitting article when several rules share a kind

    @property
    def strong(self) -> bool:
        return self.confidence >= STRONG


def _found(kind: str, reason: str, confidence: float, severity: int | None = None, cues_: tuple = ()) -> Finding:
    return Finding(kind, reason, SEVERITY[kind] if severity is None else severity, confidence, cues_)


# ---- exact checks ----------------------------------------------------------------------------------

# the textbook re-instruction phrases, in any group: "忽略之前的指令", "ignore previous instructions"
_INJECT = patterns.compile(
    r"(忽略|无视|忘(掉|记)|跳过)(你)?(之前|以上|前面|上面|所有|全部|你的)?的?(所有|全部)?(的)?(指令|指示|设定|提示词|限制)|"
    r"developer ?mode|开发者模式|越狱模式|jailbreak|\bdan mode\b|"
    r"\b(ignore|disregard|forget)( all)?( the| your)? (previous|prior|above|earlier|your)? ?(instructions|prompts?|rules)\b|"
    r"\b(print|reveal|show|repeat|output|dump)( me)? (your|the) (system |initial |hidden )?(prompt|instructions)\b"
)
_INVITE_CUES = ("二维码", "群名片", "入群", "进群", "拉人", "其他群", "invite", "group", "qr")
_LINK_CUES = ("链接", "短链", "网盘", "小程序", "link", "url")
_JOIN_TEXT = patterns.compile(
    r"拉你进.{0,6}群|(扫码|扫一扫).{0,4}(进群|入群|加群)|\bjoin (my|our) (group|chat|channel)\b|\bscan (to|and) join\b"
)
_SCAN = patterns.compile(r"扫|\bscan")
# a shared card or link that invites to join a group chat: how a group invitation link renders in WeChat
# (not the group's own album, notice, files or sign-up list)
_JOIN_CARD = patterns.compile(r"加入.{0,16}群([^相公文接]|$)|\bjoin\b.{0,30}\b(group|chat)\b")
_GROUPISH = patterns.compile(r"群|\bgroup\b")
_BEG_TEXT = patterns.compile(r"砍一刀|帮我砍|助力|投(个|一)?票|\bvote for\b")
_CARD_CODE = patterns.compile(r"\[(名片|个人名片|contact card)\]")
_MINI_CODE = patterns.compile(r"\[(小程序|mini program)\]")
_SHARED_CODE = patterns.compile(r"\[(链接|小程序|link|mini program)\]")  # a shared page as the client writes it
_QUOTED = patterns.compile(r"[「『“\"‘'][^」』”\"’']{1,24}[」』”\"’']")  # a quoted word is a mention, not a use
_FULL_TIME = patterns.compile(r"全职|正式员工|五险一金|薪资|月薪|底薪|\d+-\d+k|\bfull[- ]time\b|\bsalary\b|\bper (year|annum)\b")
_JOBS_ALLOWED = patterns.compile(
    r"(正规|全职).{0,10}招聘|招聘.{0,6}(可以|允许|欢迎|可发)|\bfull[- ]time (jobs?|roles?|positions?|hiring)\b|"
    r"\bjob (posts?|postings?|offers?) (are )?(welcome|allowed|ok)\b"
)


# said to the bot, the two other textbook moves: granting it a role ("你已经是群管理了", "you are the admin
# now") and standing orders for later questions ("以后有人问报名你就说…", "from now on when anyone asks")
_TO_BOT = patterns.compile(
    r"你(现在|已经|从现在起|从今天起|从今以后|今后)(就)?(是|成了|当)(群主|管理员|群管理|管理|老师|班主任|客服|官方)|"
    r"\byou('re| are) (now |officially )?(the |an? )?(admin|administrator|owner|moderator|mod)\b|"
    r"(以后|今后|从现在(开始|起)|从今天起).{0,4}(有人|谁|大家|群友|别人).{0,16}你(就|都|一律|只)(回复|回答|说|告诉)|"
    r"\bfrom now on,? (when|whenever|if) (anyone|someone|somebody|people|a member)\b"
)


def injection(t: Text) -> Finding | None:
    if cues.hit(_INJECT, t):
        return _found("injection", "tries to re-instruct the bot", 0.9 if t.addressed else 0.75)
    if t.addressed and cues.hit(_TO_BOT, t):
        return _found("injection", "gives the bot a role or standing orders", 0.85)
    return None


def link(t: Text, group: GroupConfig, url: str | None, codes: tuple[str, ...] = ()) -> Finding | None:
    """Links, QR codes, cards and mini-programs, judged by where they lead and the group's allowlists."""
    if t.kind in (Kind.CONTACT_CARD, Kind.MINI_PROGRAM) and url and url in group.allow_accounts:
        return None  # a card or mini-program the group allows, by its id (the channel passes it as url)
    links = [x for x in find_links(" ".join([t.folded, url or "", *codes])) if not x.on(group.allow_domains)]
    kinds = {x.category for x in links}
    code_kinds = {qr.classify(c) for c in codes}
    if "contact" in code_kinds:
        return _found("link", "personal contact QR code", 0.85, severity=2, cues_=_INVITE_CUES)
    shared = t.kind in (Kind.LINK, Kind.MINI_PROGRAM) or _SHARED_CODE.search(t.folded)
    if "group" in code_kinds or "invite" in kinds or _invites(t, bool(shared or links)):
        return _found("link", "invitation to another group", 0.9, severity=3, cues_=_INVITE_CUES)
    if t.kind == Kind.CONTACT_CARD or _CARD_CODE.search(t.folded):
        return _found("link", "contact card", 0.85, severity=2, cues_=_INVITE_CUES)
    if "netdisk" in kinds:
        return _found("link", "netdisk link", 0.9, cues_=_LINK_CUES)
    if "short" in kinds:
        return _found("link", "short link", 0.85, cues_=_LINK_CUES)
    if "beg" in kinds or cues.hit(_BEG_TEXT, t) and (links or shared):
        return _found("link", "bargain or vote link", 0.85, cues_=_LINK_CUES)
    if t.kind == Kind.MINI_PROGRAM or _MINI_CODE.search(t.folded):
        return _found("link", "unknown mini-program", 0.7, cues_=_LINK_CUES)
    if _disguised(t, links):
        return _found("link", "link spelled to dodge filters", 0.85, cues_=_LINK_CUES)
    if links:  # an ordinary link: a rule only when the group keeps an allowlist, else the judge's call
        return _found("link", "link outside the allowed domains", 0.8 if group.allow_domains else 0.4, cues_=_LINK_CUES)
    if shared:  # a shared page whose address the channel did not give: what it promotes decides
        return _found("link", "shared page", 0.4, cues_=_LINK_CUES)
    return None


def _disguised(t: Text, links: list) -> bool:
    """A link in the member's words whose address is not written there as it is: spelled with 点 or
    "dot", spaced out, or in look-alike letters. No one writes a link that way but to slip it past a
    filter, so it is a violation whatever the group's allowlists."""
    raw = t.raw.lower()
    return any(x.url in t.folded and x.host not in raw for x in links)


def _invites(t: Text, carries_page: bool) -> bool:
    """The words invite to another group: "拉你进群", a shared page to join a group chat, a scan-to-join image."""
    return (cues.hit(_JOIN_TEXT, t) or (carries_page and cues.hit(_JOIN_CARD, t))
            or (t.has_image and cues.hit(_SCAN, t) and cues.hit(_GROUPISH, t)))


# the sender says it is an ad: "打个广告", "插条小广告", "shameless plug"
_SELF_DECLARED = patterns.compile(r"(打|做|插|发)(个|一个|一条|条|下)(小)?广告|\b(shameless|quick) (self-)?plug\b")


def lead_capture(t: Text) -> Finding | None:
    """A call to move to a private channel with the handle to do it, or with the sender's own word that
    this is an ad: an ad whatever the words around it."""
    if not cues.hit(cues.CONTACT, t) or cues.hit(cues.WARNING, t):
        return None
    if cues.hit(cues.HANDLE, t):
        return _found("ad", "lead capture to a private contact", 0.8)
    if cues.hit(_SELF_DECLARED, t):
        return _found("ad", "an ad by its own word, with a call to a private chat", 0.8)
    return None


# a rule about the bot that names announcing ("它不帮群友发公告", "it makes no announcements for members")
_ANNOUNCING = patterns.compile(r"通知|公告|群发|\bannounce|\bbroadcast")
_ANNOUNCE_CUES = ("通知", "公告", "announce", "broadcast")


def _a_rule_names(group: GroupConfig, kind: str, words: patterns.Pattern) -> bool:
    """Some rule of the group covering `kind` mentions `words`: the group's own wording makes it a violation."""
    from agent.moderation.articles import kinds_of  # articles reads Finding from here

    return any(kind in kinds_of(rule, group.bot_name) and words.search(rule.text.lower()) for rule in group.rules)


def asked_to_announce(intent: str, group: GroupConfig) -> Finding | None:
    """A member's refused request that the bot announce something, where the group's rule about the
    bot says asking it to announce is off-limits: an attempt to speak to everyone in the bot's voice."""
    if intent != "broadcast" or not _a_rule_names(group, "injection", _ANNOUNCING):
        return None
    return _found("injection", "asks the bot to announce for them", 0.85, cues_=_ANNOUNCE_CUES)


# a deposit, and a clause that asks for one: "先转20定金占位", "押金200", "pay the deposit first"
_DEPOSIT = patterns.compile(r"定金|订金|押金|保证金|\bdeposit")
_PAY_DEPOSIT = patterns.compile(
    r"(转|付|交|打|扫码|支付)[^，。,.!！?？]{0,8}(定金|订金|押金|保证金)|(定金|订金|押金|保证金)[^，。,.]{0,4}\d+|"
    r"\b(pay|send|transfer)\b.{0,20}\bdeposit\b"
)
_CLAUSES = patterns.compile(r"[\s，。,.!！?？；;]+")


def deposit_asked(t: Text, group: GroupConfig) -> Finding | None:
    """A member asking the group to pay a deposit, where the group's rule about scams names deposits
    ("拼车不收定金", "asking for a deposit first is a scam"): the rule's own words make it a scam. Read
    clause by clause on the raw text (normalising joins spaced-out Chinese), so a member asking
    whether a deposit is needed is not one."""
    if not _DEPOSIT.search(t.folded) or cues.hit(cues.WARNING, t) or not _a_rule_names(group, "scam", _DEPOSIT):
        return None
    for clause in filter(None, _CLAUSES.split(t.raw)):
        folded = fold(clause)
        if _PAY_DEPOSIT.search(folded) and not shape(clause).is_question:
            return _found("scam", "asks for a deposit the rules call a scam", 0.8, cues_=("定金", "押金", "deposit"))
    return None


def jobs_allowed(group: GroupConfig) -> bool:
    """The group's own description or rules allow genuine full-time job posts."""
    text = " ".join([group.description, *(r.text for r in group.rules)]).lower()
    return _JOBS_ALLOWED.search(text) is not None


# ---- the classifier --------------------------------------------------------------------------------

_REASONS = {"ad": "promotion (classifier)", "scam": "scam bait (classifier)", "abuse": "insult or attack (classifier)",
            "injection": "tries to re-instruct the bot (classifier)"}


def _unmentioned(folded: str, group: GroupConfig) -> str:
    """The words without the people they @-mention: a name says nothing of what is said to its owner,
    and "@" is the model's cue for the bot (normalising glues a mention to the words after it)."""
    if "@" not in folded:
        return folded
    for at_name in _at_names(tuple(p.name for p in (*group.owners, *group.admins, *group.members))):
        folded = folded.replace(at_name, " ")
    return folded.replace("@", " ")


@lru_cache(maxsize=64)
def _at_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """"@name" as a mention reads once normalised, per group roster: normalised once, not per message."""
    return tuple("@" + fold(name) for name in names if name)


def learned(t: Text, group: GroupConfig) -> Finding | None:
    """The classifier's verdict on the unquoted words: strong at or above the class threshold, a weak
    hint from HINT of it. A warning about a scam is not one, and a full-time job post is not an ad
    where the group welcomes them."""
    model = classifier.shipped()
    spoken = _unmentioned(_QUOTED.sub(" ", t.folded), group)
    scores = model.scores_normal(f"@ {spoken}" if t.addressed else spoken)  # said to the bot, as the model saw it written
    kind = max(classifier.CLASSES[1:], key=scores.__getitem__)
    p, threshold = scores[kind], model.thresholds[kind]
    if p < threshold * HINT:
        return None
    if kind in ("scam", "ad") and cues.hit(cues.WARNING, t):
        return None
    if kind == "ad" and cues.hit(_FULL_TIME, t) and jobs_allowed(group):
        return None
    confidence = STRONG + (1 - STRONG) * (p - threshold) / max(1 - threshold, 1e-6) if p >= threshold else STRONG * p / threshold
    return _found(kind, _REASONS[kind], round(min(confidence, 0.99), 3))


# ---- precedence ------------------------------------------------------------------------------------

_RANK = {"injection": 0, "scam": 1, "ad": 3, "link": 4, "abuse": 5}


def detect(t: Text, group: GroupConfig, url: str | None = None, codes: tuple[str, ...] = ()) -> list[Finding]:
    """Every finding, most decisive first: the first strong one is the verdict, weak ones go to the judge.
    `codes` are the texts of QR codes decoded from the message's image."""
    linked, said = link(t, group, url, codes), learned(t, group)
    if linked and said and said.kind == "ad" and said.strong:  # a promotion carried by a link is a link violation
        linked, said = _found("link", linked.reason, max(linked.confidence, said.confidence), linked.severity, linked.cues), None
    elif linked and said and said.kind == "scam" and (said.strong or linked.severity < 3):
        # bait with its link (phishing) is a scam; an invitation to a group only when the bait is plain
        linked, said = None, _found("scam", f"{said.reason} with a {linked.reason}", max(linked.confidence, said.confidence))
    found = [f for f in (injection(t), linked, lead_capture(t), deposit_asked(t, group), said) if f is not None]
    return sorted(found, key=lambda f: (not f.strong, 2 if f.kind == "link" and f.severity >= 3 else _RANK[f.kind]))


def flagged(message: Message, group: GroupConfig) -> bool:
    """For a member's command in words, refused anyway: is it also a violation? When it carries one of
    its own (an ad, a handle, a scam, abuse: what the bot would be made to say or keep) or uses the
    textbook re-instruction phrases. The classifier's "injection" alone is not enough: any member
    asking the bot for an owner power reads as one, and a refusal answers that."""
    t = Text.of(message, group.bot_name)
    return injection(t) is not None or any(f.strong and f.kind != "injection" for f in detect(t, group, message.url))
