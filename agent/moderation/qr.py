"""QR codes inside image messages: a WeChat group invite, a personal contact code, or just a URL.

Decoding is zxing-cpp's; we only read what the code points to. Images that fail to open or decode are
simply no codes: a bad image must never break moderation.
"""
from __future__ import annotations

import io
import logging

import zxingcpp
from PIL import Image

log = logging.getLogger(__name__)

GROUP_CODES = ("weixin.qq.com/g/", "work.weixin.qq.com/gm/", "chat.whatsapp.com/", "t.me/", "qm.qq.com/", "jq.qq.com/")
CONTACT_CODES = ("u.wechat.com/", "weixin.qq.com/r/", "work.weixin.qq.com/u/", "wa.me/")


def decode(payload: bytes | None) -> list[str]:
    """The texts of every QR code in the image bytes (empty for none or an unreadable image)."""
    if not payload:
        return []
    try:
        with Image.open(io.BytesIO(payload)) as image:
            return [r.text for r in zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)]
    except Exception as exc:  # corrupt or unsupported image: no codes
        log.info("QR decode failed: %s", exc)
        return []


def classify(code: str) -> str | None:
    """'group' for an invite to a group, 'contact' for a personal add-me code, else None."""
    lowered = code.lower()
    if any(c in lowered for c in GROUP_CODES):
        return "group"
    if any(c in lowered for c in CONTACT_CODES):
        return "contact"
    return None
