"""URLs in a message and what kind of place they lead to.

Extraction is urlextract's (TLD-aware, so "900*383" or "1.5%" are not links); we only classify. Chat
text glues Chinese to URLs ("t.cn/abc哈"), so a URL ends at the first non-ASCII character.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from urlextract import URLExtract
from agent import patterns

SHORTENERS = {
    "t.cn", "dwz.cn", "url.cn", "w.url.cn", "suo.im", "6du.in", "u.nu", "bit.ly", "tinyurl.com",
    "goo.gl", "t.co", "is.gd", "ow.ly", "cutt.ly", "rebrand.ly", "s.id", "shorturl.at", "rb.gy",
    "tiny.cc", "v.gd", "b23.tv", "sourl.cn", "m6z.cn", "c1n.cn", "surl.amap.com",
}
NETDISK_HOSTS = (
    "pan.baidu.com", "yun.baidu.com", "pan.quark.cn", "aliyundrive.com", "alipan.com", "123pan.com",
    "lanzou", "weiyun.com", "cloud.189.cn", "pan.xunlei.com", "115.com", "drive.google.com",
    "dropbox.com", "mega.nz", "mediafire.com",
)
INVITE_HOSTS = (
    "chat.whatsapp.com", "t.me", "telegram.me", "discord.gg", "qm.qq.com", "jq.qq.com",
    "u.wechat.com", "line.me", "weixin.qq.com/g/", "weixin.qq.com/r/", "work.weixin.qq.com/gm/",
)
_INVITE_PATH = patterns.compile(r"(^|[/?&=._-])(join|joinchat|invite|invitation|group|groups|g|qun|jq)([/?&=._-]|$)|[?&](code|invite|ref)=")
_NETDISK_PATH = patterns.compile(r"(^|[/._-])(pan|disk|drive|netdisk|share/s)([/._-]|$)")
# a netdisk names itself in its host's first label (pan.baidu.com, pan.quark.cn, pan.xunlei.com, yunpan.*)
_NETDISK_LABEL = ("pan", "yunpan", "netdisk", "disk", "drive")
# an address that is one opaque token under a one- or two-letter subdomain (x.example.com/a8K2q) hides
# where it leads, as a shortener does: letters and digits mixed, nothing readable
_OPAQUE_PATH = patterns.compile(r"^/[a-z0-9_-]{4,12}$")
_BEG_PATH = patterns.compile(r"(^|[/?&=._-])(vote|poll|toupiao|kan|bargain|pdd|help|zhuli|assist)([/?&=._-]|$)")


@dataclass(frozen=True)
class Link:
    url: str
    host: str
    path: str  # path and query, lower case

    def on(self, domains: list[str] | tuple[str, ...]) -> bool:
        """True if the host is one of `domains` or a subdomain of one."""
        return any(self.host == d or self.host.endswith("." + d) for d in (d.lower().strip(".") for d in domains))

    @property
    def _labels(self) -> list[str]:
        return self.host.split(".")

    @property
    def _opaque(self) -> bool:
        token = self.path[1:]
        return (len(self._labels) >= 3 and len(self._labels[0]) <= 2 and bool(_OPAQUE_PATH.match(self.path))
                and any(c.isdigit() for c in token) and any(c.isalpha() for c in token))

    @property
    def category(self) -> str | None:
        """invite | netdisk | short | beg (bargain/vote/assist), or None for an ordinary link."""
        where = self.host + self.path
        if any(h in where for h in INVITE_HOSTS) or _INVITE_PATH.search(self.path):
            return "invite"
        if any(h in self.host for h in NETDISK_HOSTS) or _NETDISK_PATH.search(self.path) or self._labels[0] in _NETDISK_LABEL:
            return "netdisk"
        if self.host in SHORTENERS or self._opaque:
            return "short"
        if _BEG_PATH.search(self.path):
            return "beg"
        return None


@lru_cache(maxsize=1)
def _extractor() -> URLExtract:
    return URLExtract()  # reads the TLD list shipped with the package; never updates it from the web


def find_links(text: str) -> list[Link]:
    links = []
    for found in _extractor().find_urls(text, only_unique=True):
        url = patterns.split(r"[^\x21-\x7e]", found, maxsplit=1)[0].rstrip(".,;:!?)")
        parts = urlsplit(url if "://" in url else "http://" + url)
        if parts.hostname:
            path = (parts.path + ("?" + parts.query if parts.query else "")).lower()
            links.append(Link(url, parts.hostname.lower(), path))
    return links
