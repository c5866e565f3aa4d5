"""Words on the charts, the operator report and `steward stats`, in zh and en.

Chat sentences (the /stats reply, the digest) are prompts/ files like every sentence members or owners
read in WeChat; these are short labels of figures, kept together so a chart and the table beside it
always use the same word.
"""
from __future__ import annotations

LABELS = {
    "zh": {
        "activity": "每日活跃", "messages": "消息数", "active": "发言人数",
        "members": "入群与退群", "joined": "入群", "left": "退群",
        "questions": "提问：已回答与不会", "answered": "已回答", "unknown": "不会",
        "report": "社群报告", "period": "统计区间", "figures": "概况", "figure": "指标", "value": "数值",
        "asked": "提问", "answer_rate": "回答率", "weekly_active": "每周发言人数", "week": "周",
        "nudges": "跑题提醒（已发出）", "offtopic": "判为跑题的消息", "violations": "违规", "commands": "命令", "cases": "案件",
        "llm_calls": "模型调用", "llm_tokens": "模型 tokens", "llm_cost": "模型费用（估算）",
        "cohorts": "留存（按入群周）", "cohort_size": "入群人数", "retention_note": "第 n 周仍发言的人数；最后一列可能尚未结束",
        "top": "发言最多", "silent_never": "入群后从未发言", "silent_quiet": "本期沉默（以前发过言）",
        "gaps": "未回答的问题（待补充知识，/answer 编号 答案）", "askers": "提问人数", "member": "成员",
        "no_data": "这段时间还没有记录",
        "ad": "广告", "link": "链接", "scam": "诈骗", "abuse": "辱骂", "flood": "刷屏", "injection": "操控机器人",
    },
    "en": {
        "activity": "Daily activity", "messages": "Messages", "active": "Active members",
        "members": "Joins vs leaves", "joined": "Joined", "left": "Left",
        "questions": "Questions: answered vs unknown", "answered": "Answered", "unknown": "Unknown",
        "report": "Community report", "period": "Period", "figures": "Overview", "figure": "Figure", "value": "Value",
        "asked": "Questions", "answer_rate": "Answer rate", "weekly_active": "Active members per week", "week": "Week",
        "nudges": "Off-topic nudges sent", "offtopic": "Messages judged off-topic", "violations": "Violations", "commands": "Commands", "cases": "Cases",
        "llm_calls": "Model calls", "llm_tokens": "Model tokens", "llm_cost": "Model cost (estimate)",
        "cohorts": "Retention by join week", "cohort_size": "Joined",
        "retention_note": "members still speaking in week n; the last column may be a week under way",
        "top": "Top contributors", "silent_never": "Joined, never spoke", "silent_quiet": "Quiet this period (spoke before)",
        "gaps": "Unanswered questions (knowledge to add: /answer <#> <answer>)", "askers": "Asked by", "member": "Member",
        "no_data": "Nothing recorded in this period yet",
        "ad": "ads", "link": "links", "scam": "scams", "abuse": "abuse", "flood": "flooding", "injection": "bot manipulation",
    },
}
assert LABELS["zh"].keys() == LABELS["en"].keys()


def labels(lang: str) -> dict[str, str]:
    return LABELS.get(lang, LABELS["en"])


def kind_name(kind: str, lang: str) -> str:
    """A violation kind in words; a kind added later shows as its code until it gets a label."""
    return labels(lang).get(kind, kind)
