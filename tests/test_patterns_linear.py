"""Every regular expression the agent holds runs in linear time on hostile input.

Collects each compiled pattern in agent/ (module globals, and the patterns built from pattern files
by cached loaders), runs it on 100 KB adversarial texts and compares with 25 KB: linear time grows
about 4×, backtracking 16× or more. Timings are ratios (to the same pattern on a quarter of the
input, and to a trivial scan of the same input), so a loaded machine does not make them flake.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import time
from collections.abc import Callable, Iterator
from functools import lru_cache

import pytest

import agent
from agent import patterns

# stdlib patterns allowed at module level, each with why no member text reaches it
TRUSTED = {
    "agent.moderation.train": "offline training over the benchmark files, not the message path",
    "agent.moderation.synthetic": "generates training text from the shipped templates",
}

BIG = 100_000
SMALL = BIG // 4


def _adversarial(n: int) -> dict[str, str]:
    """Texts that make backtracking engines try every split of a long run."""
    def fill(unit: str, tail: str = "") -> str:
        return (unit * (n // len(unit) + 1))[: n - len(tail)] + tail
    return {
        "digits": fill("1", "x"),
        "spaced digits": fill("1 ", "!"),
        "spaces": fill(" ", "x"),
        "newlines": fill("\n", "x"),
        "words": fill("ab ", "?"),
        "urls": fill("http://a.cn/x?y=1 ", "@"),
        "domains": fill("a.", "-"),
        "chinese": fill("中文群", "？"),
        "mentions": fill("@a\u2005", "@"),
        "brackets": fill("[图", "]"),
        "colons": fill("Q：", "\n"),
        "stars": fill("*", "x"),
        "emoji": fill("😀", "元"),
        "handles": fill("微信1", "号"),
    }


def _modules() -> Iterator[object]:
    for info in pkgutil.walk_packages(agent.__path__, "agent."):
        if ".migrations." not in info.name:  # alembic's scripts run only inside alembic
            yield importlib.import_module(info.name)


def _found(value: object, depth: int = 0) -> Iterator[patterns.Pattern | re.Pattern]:
    if isinstance(value, (patterns.Pattern, re.Pattern)):
        yield value
    elif depth < 2 and isinstance(value, dict):
        for v in value.values():
            yield from _found(v, depth + 1)
    elif depth < 2 and isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            yield from _found(v, depth + 1)


def _loaders(module: object) -> Iterator[Callable[[], object]]:
    """Cached zero-argument loaders that return patterns (pattern files compiled once)."""
    for name, fn in vars(module).items():
        if getattr(fn, "__module__", None) != module.__name__ or not hasattr(fn, "cache_info"):
            continue
        sig = inspect.signature(fn)
        if not sig.parameters and "Pattern" in str(sig.return_annotation):
            yield fn


def _collect() -> dict[str, patterns.Pattern | re.Pattern]:
    found: dict[str, patterns.Pattern | re.Pattern] = {}
    for module in _modules():
        sources = [(name, value) for name, value in vars(module).items()]
        sources += [(fn.__name__ + "()", fn()) for fn in _loaders(module)]
        for name, value in sources:
            for i, p in enumerate(_found(value)):
                found[f"{module.__name__}.{name}#{i}"] = p
    return found


ALL = _collect()


def _time(fn: Callable[[], object], runs: int = 2) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


@lru_cache(maxsize=1)
def _inputs() -> tuple[dict[str, str], dict[str, str], dict[str, float]]:
    """The texts, and per text the time of a plain engine pass over it: a pattern that captures
    the whole input (the UTF-8 encoding and submatch work every search pays)."""
    big, small = _adversarial(BIG), _adversarial(SMALL)
    whole = patterns.compile(r"(?s)(.*)")
    return big, small, {kind: _time(lambda: whole.search(text), runs=3) for kind, text in big.items()}


def test_the_collection_is_not_empty():
    assert len(ALL) > 50
    assert any(".answering.checks._types()" in k for k in ALL), "pattern files are collected too"


def test_stdlib_patterns_only_where_no_member_text_goes():
    stdlib = sorted(k for k, p in ALL.items() if isinstance(p, re.Pattern) and k.rsplit(".", 1)[0] not in TRUSTED)
    assert not stdlib, f"compile these with agent.patterns (linear time): {stdlib}"


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(k for k, p in ALL.items() if isinstance(p, patterns.Pattern)))
def test_linear_on_adversarial_input(name):
    pattern = ALL[name]
    big, small, plain = _inputs()
    for kind, text in big.items():
        t_big = _time(lambda: pattern.search(text))
        # backtracking takes seconds to minutes here; the worst linear pattern ~100× a plain pass
        assert t_big <= 400 * plain[kind], f"{name} on {kind}: {t_big:.4f}s, a plain pass {plain[kind]:.5f}s"
        if t_big > 20 * plain[kind]:  # long enough to time the growth: ~4× for 4× the input
            t_small = _time(lambda: pattern.search(small[kind]))
            if t_big > 8 * t_small:  # a busy machine preempted one timing: the best of more runs decides
                t_big, t_small = _time(lambda: pattern.search(text), 7), _time(lambda: pattern.search(small[kind]), 7)
            assert t_big <= 8 * t_small, f"{name} on {kind}: {t_big:.4f}s, a quarter of it {t_small:.4f}s"


@pytest.mark.e2e
@pytest.mark.parametrize("source", [r"(\d+)+x", r"\d+\s*\d+元", r"(a|aa)+$", r"(\w+\s?)+$"])
def test_backtracking_shapes_stay_linear(source):
    """Shapes that take the stdlib minutes on these inputs: here ~4× per 4× input."""
    pattern = patterns.compile(source)
    for unit in ("1", "a", "ab "):
        big, small = unit * (BIG // len(unit)) + "!", unit * (SMALL // len(unit)) + "!"
        t_big, t_small = _time(lambda: pattern.search(big)), _time(lambda: pattern.search(small))
        assert t_big <= 8 * t_small + 0.002, (source, unit, t_big, t_small)


# the translation keeps the stdlib's meaning on str patterns


@pytest.mark.parametrize("source,flags,text", [
    (r"\w+", 0, "中文abc_12 ，x"),
    (r"[\s\W_]+$", 0, "abc !!_ "),
    (r"\s+", 0, "a\u3000\u2005\tb"),
    (r"\d+", 0, "１２3元"),
    (r"[^\w]", 0, "中 a"),
    (r"[\W_]+", 0, "中a_b!c"),
    (r"\S+", 0, "中 文\u3000x"),
    (r"[\u3400-\u9fff]+", 0, "x中文y"),
    (r"^x$", re.M, "a\nx\nb"),
    (r"a.b", re.S, "a\nb"),
    (r"KICK", re.I, "please kick"),
    (r"a b # a comment\n", re.X, "xaby"),
    (re.escape("a.b [c]+中 #"), 0, "za.b [c]+中 #z"),
    (r"(?P<n>\d+)\s*(?P<u>元|块)", 0, "价 12 元"),
])
def test_same_matches_as_the_stdlib(source, flags, text):
    want = [m.group() for m in re.finditer(source, text, flags)]
    got = [m.group() for m in patterns.compile(source, flags).finditer(text)]
    assert got == want


def test_sub_split_and_groups_as_the_stdlib():
    p = patterns.compile(r"(\w)x")
    assert p.sub(r"[\1]", "中x ax") == re.sub(r"(\w)x", r"[\1]", "中x ax") == "[中] [a]"
    assert patterns.compile(r"\s+").sub("，", "a b  c") == "a，b，c"  # non-ASCII replacement intact
    assert patterns.split(r"[：:]", "主题：x:y", maxsplit=1) == ["主题", "x:y"]
    m = patterns.compile(r"(?P<n>\d+)元").search("共 30元")
    assert (m.group("n"), m.start(), m.end()) == ("30", 2, 5)


@pytest.mark.parametrize("source", [r"(?<=a)b", r"a(?!b)", r"(a)\1", r"(?P<x>a)(?P=x)"])
def test_unsupported_syntax_is_a_clear_error(source):
    with pytest.raises(patterns.PatternError):
        patterns.compile(source)
