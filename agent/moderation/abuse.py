"""Insults, personal attacks and regional slurs (地域黑), Chinese and English.

Three shapes: a lexicon of words that are insults in any sentence; second-person attack patterns
("就你这水平", "you're so stupid") built from words that are harmless alone; and a place name followed
by a derogatory generalisation ("河南的号就是土", "上海人了不起啊"). Quoted words are mentions, not uses.
"""
from __future__ import annotations


from agent import patterns
from agent.moderation.text import Text

INSULTS = patterns.compile(
    r"傻[逼比屄b叉x]|煞笔|沙比|\bsb\b|脑残|智障|白痴|弱智|蠢货|蠢猪|蠢得|蠢死|猪脑|废物|人渣|贱人|贱货|婊|"
    r"狗东西|狗日|狗娘|双标狗|走狗|舔狗|畜生|王八蛋|混蛋|滚蛋|滚出|给我滚|去死|死全家|你妈[的逼b]?|尼玛|他妈的|"
    r"tmd|nmsl|cnm|草泥马|操你|神经病|脑子有病|脑子进水|装什么清高|装逼|装b|臭不要脸|不要脸|土鳖|乡巴佬|"
    r"穷逼|丑八怪|丢人现眼|low逼|垃圾东西|算老几|懂个屁|(你|别)放屁|放你的屁|关你屁事|"
    r"\b(idiot|moron|retard(ed)?|imbecile|asshole|arsehole|bitch|bastard|cunt|dickhead|scumbag|dumbass|jackass)s?\b|"
    r"\b(fuck|screw) (you|off)\b|\bstfu\b|\bshut (the fuck )?up\b|\bkys\b|\bkill yourself\b|\bgo to hell\b|\bpiss off\b"
)
ATTACKS = patterns.compile(
    r"就你这(水平|样|德行|智商|能力|脑子|破|种)|你这种(人|水平|货)|你(懂|知道|会)个(屁|毛|锤子|p)|"
    r"你(是不是|真是|就是)?(傻|蠢|笨|脑子)|你(这人|这个人)?有(毛病|病)(吧|啊|呀)|你也配|你算什么|你什么东西|(趁早|赶紧|还是)(转行|滚|退群|别做了|别干了)|"
    r"\byou('re| are)( such)?( so| really| just)? (an? )?(stupid|dumb|useless|pathetic|trash|garbage|clown|loser|joke)\b|"
    r"\b(stupid|dumb|pathetic|useless) (you|idiot|loser|clown)\b|\bnobody asked( you)?\b|\bwho asked( you)?\b|"
    r"\byou (suck|know nothing)\b|\bget lost\b"
)
_PLACES = (
    "北京|上海|天津|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|广西|海南|四川|"
    "贵州|云南|陕西|甘肃|青海|宁夏|新疆|西藏|内蒙|香港|澳门|台湾|东北|西北|南方|北方|农村|乡下|杭州|南京|苏州|"
    "成都|武汉|西安|郑州|长沙|广州|深圳|厦门|福州|合肥|济南|青岛|沈阳|大连|哈尔滨|昆明|南宁|温州|潮汕|苏北|"
    "[\u4e00-\u9fa5]{1,3}(省|市)"
)
_GROUP = r"(人|佬|仔|的人|的号|那边的|那边人|的都|号)"
_DEROGATORY = r"(土|穷|low|骗|偷|坏|蠢|懒|笨|脏|抠|小气|野蛮|没教养|坑人|奸|没素质|素质差|素质低|没文化|不行|垃圾|村|乡下|井盖|小偷|骗子|难听|丑)"
REGIONAL = patterns.compile(
    rf"({_PLACES}){_GROUP}.{{0,3}}(就是|都是|全是|果然|一个个|没一个好|净是|天生|个个)[^，。,.!！?？]{{0,6}}{_DEROGATORY}|"
    rf"({_PLACES}){_GROUP}(了不起|有什么了不起|牛什么|拽什么|滚回)|"
    r"\b(all|typical|those|these|fucking) \w+ (people |guys )?(are|is) (all )?(lazy|dirty|stupid|thieves|scammers|rude|"
    r"animals|trash|useless)\b"
)


def find_abuse(t: Text) -> tuple[str, float] | None:
    """(reason, confidence) when the unquoted text insults or attacks someone, else None."""
    spaced = patterns.sub(r"[「『“\"‘'][^」』”\"’']{1,24}[」』”\"’']", " ", t.folded)
    for text in (t.unquoted, spaced):
        if INSULTS.search(text):
            return "insult", 0.9
        if REGIONAL.search(text):
            return "regional slur", 0.85
        if ATTACKS.search(text):
            return "personal attack", 0.8
    return None
