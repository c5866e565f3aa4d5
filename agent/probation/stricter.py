"""Moderation while a member is on probation: the detectors' findings re-weighed, never new detectors.

Spam comes mostly from accounts that just joined, so for a newcomer a weak classifier finding counts
from the group's lower per-kind threshold (`probation.thresholds`), and whatever carries the reader
somewhere else (a link off the group's allowlist, a card or mini-program not on it, a QR code, a
contact handle) opens a case for the owners at once rather than a first warning. The classifier and
its thresholds are untouched: this only reads the confidence each finding already has.
"""
from __future__ import annotations

from dataclasses import replace

from agent.moderation import cues
from agent.moderation.detectors import STRONG, Finding
from agent.moderation.text import Text
from agent.settings import GroupConfig

MARK = " (probation)"  # appended to a finding's reason: the case file and `steward cases` show why
_CONTACT_CUES = ("二维码", "群名片", "名片", "微信", "联系方式", "contact", "qr")


def stricter(found: list[Finding], t: Text, codes: tuple[str, ...], group: GroupConfig) -> list[Finding]:
    """The findings as they count for a member on probation, the decisive first."""
    policy, severe = group.probation, group.moderation.severe
    handle = cues.hit(cues.HANDLE, t)
    out: list[Finding] = []
    for f in found:
        if f.kind == "link" or (f.kind == "ad" and handle):
            f = replace(f, confidence=max(f.confidence, STRONG), severity=max(f.severity, severe), reason=f.reason + MARK)
        elif not f.strong and f.kind in policy.thresholds and f.confidence >= policy.thresholds[f.kind]:
            f = replace(f, confidence=STRONG, reason=f.reason + MARK)
        out.append(f)
    if not any(f.kind == "link" or (f.kind == "ad" and handle) for f in out):
        if codes:
            out.append(Finding("link", "QR code" + MARK, severe, STRONG, _CONTACT_CUES))
        elif handle:
            out.append(Finding("ad", "contact handle" + MARK, severe, STRONG, _CONTACT_CUES))
    return sorted(out, key=lambda f: (not f.strong, -f.severity))
