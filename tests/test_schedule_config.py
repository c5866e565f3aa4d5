"""Schedules can be tried from the shipped files: the demo's commented example is valid once
uncommented, and a malformed entry is an error naming the file and the key, with an example."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent.settings import ConfigError, load_group

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "config" / "groups" / "demo.yaml"


def uncommented(text: str, key: str) -> str:
    """The file with its commented `# key:` block made live."""
    lines = text.splitlines()
    start = lines.index(f"# {key}:")
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("#  ") and i > start)
    return "\n".join(lines[:start] + [line[2:] for line in lines[start:end]] + lines[end:]) + "\n"


def test_the_demo_examples_are_valid_once_uncommented(tmp_path):
    path = tmp_path / "demo.yaml"
    text = uncommented(uncommented(DEMO.read_text(encoding="utf-8"), "schedules"), "gaps")
    path.write_text(text, encoding="utf-8")
    group = load_group(path)
    assert [s.id for s in group.schedules] == ["weekly-tip", "saturday-lsd"]
    assert [s.approval for s in group.schedules] == ["required", "auto"]
    assert group.gaps.notify_owners == "batched"


@pytest.mark.parametrize("entry,key", [
    ("  - when: weekly Mon 09:00\n    kind: tip", "schedules.0.id"),
    ("  - id: t\n    when: every monday", "schedules.0.when"),
    ("  - id: t\n    when: daily 08:30\n    kind: poem", "schedules.0.kind"),
])
def test_a_malformed_schedule_names_file_and_key_and_shows_one(tmp_path, entry, key):
    path = tmp_path / "photo.yaml"
    shutil.copy(DEMO, path)
    with path.open("a", encoding="utf-8") as f:
        f.write(f"schedules:\n{entry}\n")
    with pytest.raises(ConfigError) as err:
        load_group(path)
    message = str(err.value)
    assert f"{path}: {key}:" in message
    assert "schedules:\n    - id: weekly-tip" in message and 'when: "weekly Mon 09:00"' in message
