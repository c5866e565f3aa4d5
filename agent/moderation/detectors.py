"""Cheap deterministic detectors, run on every member message before anything costs a model call.

Each detector reads the normalised Text and returns a Finding or None. One cue alone is rarely enough:
an ad is an *offer* plus a *call to action* or a discount; a scam needs two of its own signals and no
warning context ("又是刷单的 大家别信" is a member protecting the group). `detect` applies precedence:
a recruitment scam that also carries a handle is a scam, a message re-instructing the bot is injection
even when it plants an ad, and a link to another group outranks the ad around it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from agent.moderation import cues, qr
from agent.moderation.abuse import find_abuse
from agent.moderation.links import find_links
from agent.moderation.text import Text
from agent.events import Kind
from agent.settings import GroupConfig

SEVERITY = {"ad": 1, "link": 1, "flood": 1, "injection": 1, "abuse": 2, "scam": 3}
STRONG = 0.6  # below this a finding is only a hint for the model judge


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


def _hits(pattern: re.Pattern, t: Text) -> set[str]:
    """Distinct matched words, so one repeated cue does not count as two signals."""
    return {m.group(0) for m in pattern.finditer(t.compact)} | {m.group(0).strip() for m in pattern.finditer(t.folded)}


# ---- injection -------------------------------------------------------------------------------------

_INJECT_STRONG = re.compile(
    r"(忽略|无视|忘(掉|记)|跳过)(你)?(之前|以上|前面|上面|所有|全部|你的)?的?(所有|全部)?(的)?(指令|指示|规则|设定|提示|限制|群规|要求)|"
    r"developer ?mode|开发者模式|越狱|jailbreak|\bdan mode\b|"
    r"(以后|今后|下次|从现在起|从今天起)(有人|谁|别人|群友).{0,16}(你就|就|都)(回复|回答|说|发)|"
    r"\b(ignore|disregard|forget)( all)?( the| your)? (previous|prior|above|earlier|your)? ?(instructions|prompts?|rules)\b|"
    r"\b(print|reveal|show|repeat|output|dump)( me)? (your|the) (system |initial |hidden )?(prompt|instructions)\b|"
    r"\bwhenever (someone|anyone|people) asks?\b.{0,40}\b(reply|answer|say)\b"
)
_INJECT_WEAK = re.compile(
    r"系统提示词|(你的|把你|发出|输出).{0,4}提示词|\bsystem ?prompt\b|你现在是|从现在(起|开始)你|扮演|(完整|原样|逐字|全部).{0,4}(发|输出|打印|贴)出来|知识库.{0,6}(全部|完整)?(发|导出|给我)|"
    r"(帮我|给我|替我)?(通知|告诉|转告|群发|@所有人|艾特所有人)(一下)?(全群|所有人|大家|群里)|"
    r"(别再|不要再|不许|不准|不用再)(提醒|警告|管|踢|删)|"
    r"\byou are now\b|\bfrom now on\b|\bact as\b|\bpretend (to be|you are)\b|\bverbatim\b|\bnew instructions\b|"
    r"\b(tell|notify|announce to) (everyone|the (whole )?group|all members)\b|\bstop (warning|reminding)\b"
)


def injection(t: Text) -> Finding | None:
    if cues.hit(_INJECT_STRONG, t):
        return _found("injection", "tries to re-instruct the bot", 0.9 if t.addressed else 0.75)
    weak = _hits(_INJECT_WEAK, t)
    if weak and (t.addressed or len(weak) >= 2):
        return _found("injection", "commands the bot outside its role", 0.8)
    return None


# ---- scam ------------------------------------------------------------------------------------------

_JOB_SCAM = re.compile(
    r"刷单|刷信誉|做任务|垫付|日结|日赚|日入|时薪|一单\d|兼职|在家(就能|即可|也能|可以)?(做|赚)|手机(操作|即可|就能|就可以)|"
    r"动动手指|宝妈|学生(党)?都可以|不收(任何)?费用|躺赚|"
    r"\bwork(ing)? from home\b|\bearn \$?\d+.{0,12}(a|per|/) ?(day|hour)\b|\bdaily pay\b|\bno experience (needed|required)\b|"
    r"\bpart[- ]time\b|\bonly (need )?(a|your) phone\b"
)
_PRIZE = re.compile(
    r"中奖|抽中|被选中|幸运(用户|粉丝|群友)|扶持金|补贴|补助|奖金|红利|返现|领取|理赔|退款|"
    r"\bcongratulations\b|\byou('ve| have)? (won|been selected)\b|\bwinners?\b|\bprize\b|\bclaim\b|\breward\b|\bgift ?card\b|\bairdrop\b|\brefund\b"
)
_PRIZE_ACTION = re.compile(
    r"点击|链接|填写|银行卡|身份证|验证码|账户|到账|\d+小时内|限时|截止|过期|"
    r"\bclick\b|\blink\b|\bbank\b|\bcard (details|number)\b|\bverify\b|\bwithin \d+"
)
_INVEST = re.compile(
    r"荐股|股票|a股|港股|美股|牛股|涨停|带(你|我们|大家)赚|老师.{0,6}带|跟单|理财|投资|年化|保本|保息|稳赚|收益|高回报|"
    r"回报率|内部渠道|币圈|虚拟币|usdt|比特币|炒币|外汇|期货|起投|翻倍|赚了\d+个点|学习群|"
    r"\bcrypto\b|\bbitcoin\b|\bforex\b|\binvest(ment|ing)?\b|\bguaranteed\b|\bpassive income\b|\broi\b|"
    r"\b\d+% (daily|weekly|monthly|returns?|profit)\b|\btrading (signals|mentor|group)\b|\bprofits?\b|\bsignals group\b"
)
_BORROW = re.compile(
    r"(帮我?|先|能不能|可以|谁能)(帮我)?(转|借|垫|付|打)(我|一下)?\d+|借(我|点)(钱|\d+)|代付|"
    r"\b(send|lend|loan|transfer|wire) me\b|\bbuy (me )?(some )?gift ?cards?\b"
)
_URGENT_MONEY = re.compile(
    r"急|马上还|就还|明天还|还你|限额|冻结|出了点事|出事|救急|周转|\burgent(ly)?\b|\bpay (you )?back\b|\bemergency\b|\basap\b"
)
_OFFICIAL = re.compile(r"官方|微信团队|腾讯|平台通知|客服|系统通知|\bofficial\b|\b(wechat|support|security) team\b")
_FEE = re.compile(
    r"缴纳|缴费|年费|认证费|保证金|会员费|手续费|解冻|罚款|扣费|续费|审核费|\bfees?\b|\bpayment (required|due)\b"
)
_FEE_THREAT = re.compile(r"封号|冻结|注销|逾期|否则|过期|\bsuspend|\bbanned\b|\bdeactivat|\bwithin \d+")


def scam(t: Text, has_link: bool) -> Finding | None:
    if cues.hit(cues.WARNING, t):
        return None
    contact = cues.hit(cues.CONTACT, t)
    job = _hits(_JOB_SCAM, t)
    if len(job) >= 2 and (contact or cues.hit(cues.PRICE, t)) or ("刷单" in job and contact):
        return _found("scam", "task/part-time job scam", 0.9)
    if _hits(_PRIZE, t) and cues.hit(_PRIZE_ACTION, t) and (has_link or cues.hit(cues.PRICE, t) or cues.hit(_OFFICIAL, t)):
        return _found("scam", "prize or subsidy bait", 0.9)
    if len(_hits(_INVEST, t)) >= 2 and (contact or has_link or cues.hit(cues.URGENCY, t) or cues.hit(cues.HANDLE, t)):
        return _found("scam", "investment or stock-tip bait", 0.9)
    if cues.hit(_BORROW, t) and cues.hit(_URGENT_MONEY, t):
        return _found("scam", "urgent request for money", 0.85)
    if cues.hit(_OFFICIAL, t) and cues.hit(_FEE, t) and (has_link or contact or cues.hit(_FEE_THREAT, t)):
        return _found("scam", "fake official fee notice", 0.85)
    return None


# ---- links -----------------------------------------------------------------------------------------

_INVITE_CUES = ("二维码", "群名片", "入群", "进群", "拉人", "其他群", "invite", "group", "qr")
_LINK_CUES = ("链接", "短链", "网盘", "小程序", "link", "url")
_JOIN_TEXT = re.compile(
    r"拉你进.{0,6}群|进群(私|加|找)|(扫码|扫我|扫一扫|扫).{0,4}(进群|入群|加群)|满\d+人?(就)?进不(去|了)|"
    r"\bjoin (my|our|the) (group|chat|channel|community)\b|\bgroup (link|invite)\b|\bscan (to|and) join\b"
)
_SCAN = re.compile(r"扫|\bscan")
_GROUPISH = re.compile(r"群|满\d+|进不(去|了)|\bgroup\b|\bchat\b")
_NETDISK_TEXT = re.compile(r"网盘|提取码|百度云|夸克|阿里云盘|度盘|\baccess code\b|\bextraction code\b")
_BEG_TEXT = re.compile(r"砍一刀|帮我砍|助力|投(个|一)?票|帮我点一下|拼一下|\bvote for\b|\bhelp me (win|get)\b|\bneed your votes?\b")


def link(t: Text, group: GroupConfig, url: str | None, codes: tuple[str, ...] = ()) -> Finding | None:
    if t.kind in (Kind.CONTACT_CARD, Kind.MINI_PROGRAM) and url and url in group.allow_accounts:
        return None  # a card or mini-program the group allows, by its id (the channel passes it as url)
    links = [x for x in find_links(" ".join([t.folded, url or "", *codes])) if not x.on(group.allow_domains)]
    kinds = {x.category for x in links}
    code_kinds = {qr.classify(c) for c in codes}
    if "contact" in code_kinds:
        return _found("link", "personal contact QR code", 0.85, severity=2, cues_=_INVITE_CUES)
    if "group" in code_kinds or "invite" in kinds or cues.hit(_JOIN_TEXT, t) or (t.has_image and cues.hit(_SCAN, t) and cues.hit(_GROUPISH, t)):
        return _found("link", "invitation to another group", 0.9, severity=3, cues_=_INVITE_CUES)
    if t.kind == Kind.CONTACT_CARD:
        return _found("link", "contact card", 0.85, severity=2, cues_=_INVITE_CUES)
    if "netdisk" in kinds or cues.hit(_NETDISK_TEXT, t) and (links or "提取码" in t.compact):
        return _found("link", "netdisk link", 0.9, cues_=_LINK_CUES)
    if "short" in kinds:
        return _found("link", "short link", 0.85, cues_=_LINK_CUES)
    if cues.hit(_BEG_TEXT, t) and (links or t.kind in (Kind.LINK, Kind.MINI_PROGRAM)) or "beg" in kinds:
        return _found("link", "bargain or vote link", 0.85, cues_=_LINK_CUES)
    if t.kind == Kind.MINI_PROGRAM:
        return _found("link", "unknown mini-program", 0.7, cues_=_LINK_CUES)
    if links:  # an ordinary link: a rule only when the group keeps an allowlist, else the judge's call
        return _found("link", "link outside the allowed domains", 0.8 if group.allow_domains else 0.4, cues_=_LINK_CUES)
    return None


# ---- ads -------------------------------------------------------------------------------------------

_OFFER = re.compile(
    r"代运营|代做|代写|代发|代理|招募|招商|加盟|微商|厂家|直销|团长|分销|副业|兼职|月入|日入|[0零](门槛|成本|囤货|基础)|训练营|"
    r"课程|网课|私教|陪跑|招生|报名|接私活|私活|接单|承接|专业做|刷粉|刷阅读|刷量|买粉|真实粉丝|推一下|推荐一下我们|安利一下|"
    r"我们家的|我家的?(产品|店)|自家|店里|来店|进店|到店|报群名|新品|到货|上新|下单|优惠券|领券|免费领|免费送|送价值|礼包|"
    r"佣金|招聘|招人|诚聘|出售|转让|出闲置|甩卖|清仓|"
    r"\b(we|i) (offer|provide|sell)\b|\bour (services?|products?|course|agency|shop|store|app)\b|"
    r"\b(course|bootcamp|masterclass|coaching|webinar)\b|\bbuy (now|followers|likes)\b|\border now\b|"
    r"\bfree (trial|ebook|guide|download|templates?)\b|\bsign up\b|\benroll\b|\bfreelanc\w*|\bhire me\b|"
    r"\bavailable for (work|projects|hire|commissions)\b|\bcommission\b|\baffiliate\b|\bresell\w*|\bdistributors?\b|"
    r"\bside hustle\b|\bdropship\w*|\bpromo( code)?\b|\bcoupon\b|\bmy (shop|store|products?)\b|\bcheck out my\b|\bhiring\b"
)
_DISCOUNT = re.compile(r"折|原价|特价|群友价|优惠|内部价|包邮|\boff\b|\bdiscount|\bhalf price\b")
_JOB_WORDS = {"招聘", "招人", "诚聘", "hiring"}
_FULL_TIME = re.compile(r"全职|正式员工|五险一金|薪资|月薪|底薪|\d+-\d+k|\bfull[- ]time\b|\bsalary\b|\bper (year|annum)\b")
_JOBS_ALLOWED = re.compile(
    r"(正规|全职).{0,10}招聘|招聘.{0,6}(可以|允许|欢迎|可发)|\bfull[- ]time (jobs?|roles?|positions?|hiring)\b|"
    r"\bjob (posts?|postings?|offers?) (are )?(welcome|allowed|ok)\b"
)


def jobs_allowed(group: GroupConfig) -> bool:
    """The group's own description or rules allow genuine full-time job posts."""
    text = " ".join([group.description, *(r.text for r in group.rules)]).lower()
    return _JOBS_ALLOWED.search(text) is not None


def ad(t: Text, group: GroupConfig, has_link: bool) -> Finding | None:
    offers = _hits(_OFFER, t)
    contact, handle = cues.hit(cues.CONTACT, t), cues.hit(cues.HANDLE, t)
    if offers and offers <= _JOB_WORDS | {"报名"} and cues.hit(_FULL_TIME, t) and jobs_allowed(group):
        return None  # a genuine full-time job post where the group welcomes them
    discount = cues.hit(cues.PRICE, t) and cues.hit(_DISCOUNT, t)
    if offers and (contact or handle or discount or cues.hit(cues.URGENCY, t) or has_link):
        return _found("ad", "promotion with a call to action", 0.85)
    if contact and (handle or cues.hit(cues.PRICE, t)):
        return _found("ad", "lead capture to a private contact", 0.75)
    if offers and cues.hit(cues.PRICE, t):
        return _found("ad", "priced offer", 0.5)
    return None


# ---- precedence ------------------------------------------------------------------------------------


def detect(t: Text, group: GroupConfig, url: str | None = None, codes: tuple[str, ...] = ()) -> list[Finding]:
    """Every finding, most decisive first: the first strong one is the verdict, weak ones go to the judge.
    `codes` are the texts of QR codes decoded from the message's image."""
    has_link = bool(url) or bool(find_links(t.folded))
    candidates = [injection(t), scam(t, has_link), link(t, group, url, codes), ad(t, group, has_link)]
    abuse = find_abuse(t)
    if abuse:
        candidates.append(_found("abuse", abuse[0], abuse[1]))
    found = [f for f in candidates if f is not None]
    rank = {"injection": 0, "scam": 1, "ad": 3, "link": 4, "abuse": 5}
    return sorted(found, key=lambda f: (not f.strong, 2 if f.kind == "link" and f.severity >= 3 else rank[f.kind]))
