"""`steward demo` is the first thing an operator runs: each scripted line's note says what the bot will
do, and the bot must do it (the script's `expect`), through the real app on the shipped demo group."""
from __future__ import annotations

import io
from pathlib import Path

import yaml
from rich.console import Console

from agent.simulate import demo

SCRIPT = Path(__file__).resolve().parents[1] / "config" / "demo_script.yaml"


def test_the_demo_does_what_its_notes_say(demo_app):
    entries = yaml.safe_load(SCRIPT.read_text(encoding="utf-8"))
    assert all("expect" in e for e in entries)
    decided = demo(demo_app, "demo", SCRIPT, Console(file=io.StringIO()))
    got = [(e["text"][:20], str(d.kind) if d else None) for e, d in zip(entries, decided)]
    assert got == [(e["text"][:20], e["expect"]) for e in entries]
