"""`steward init` and `steward check`: the files a new group starts from, read back by the real loader."""
from __future__ import annotations

import shutil
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from agent.cli import app
from agent.kb.ingest import knowledge_files
from agent.onboard.check import check
from agent.onboard.init import InitError, NewGroup, render
from agent.settings import GroupConfig, load_group, load_settings

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture
def project(tmp_path) -> Path:
    """A fresh project: the shipped settings.yaml, no groups, empty knowledge."""
    config = tmp_path / "config"
    (config / "groups").mkdir(parents=True)
    shutil.copy(REPO / "config" / "settings.yaml", config / "settings.yaml")
    (tmp_path / "knowledge").mkdir()
    return config


def init(config: Path, *extra: str):
    return runner.invoke(app, ["init", "--config", str(config), "--yes", "--id", "photo", "--name", "光影社",
                               "--theme", "摄影：器材、构图、后期", "--owner", "wxid_ming:阿明",
                               "--owner", "wxid_fang", "--rule", "不发广告", "--rule", "友善交流", *extra])


def keys_of(model: type[BaseModel]) -> set[str]:
    """Every field name of the model and of the models nested in it (lists included)."""
    names = set()
    for name, field in model.model_fields.items():
        names.add(name)
        for arg in [field.annotation, *typing.get_args(field.annotation)]:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                names |= keys_of(arg)
    return names


def test_init_writes_a_group_the_loader_accepts(project):
    result = init(project)
    assert result.exit_code == 0, result.output
    group = load_group(project / "groups" / "photo.yaml")
    assert (group.id, group.name, group.topic, group.language) == ("photo", "光影社", "光影社", "zh")
    assert [(o.id, o.name) for o in group.owners] == [("wxid_ming", "阿明"), ("wxid_fang", "")]
    assert [r.text for r in group.rules] == ["不发广告", "友善交流"]
    settings = load_settings(project)  # the whole config still loads with the new group in it
    assert list(settings.groups) == ["photo"]


def test_every_config_key_is_in_the_file(project):
    init(project)
    text = (project / "groups" / "photo.yaml").read_text(encoding="utf-8")
    missing = [k for k in sorted(keys_of(GroupConfig)) if f"{k}:" not in text]
    assert missing == []


def test_the_example_schedule_is_valid_once_uncommented(project):
    init(project)
    path = project / "groups" / "photo.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index("#schedules:")
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("#"))
    block = [line[1:] for line in lines[start:end]]
    kept = [line for line in lines[:start] if line != "schedules: []"]
    path.write_text("\n".join(kept + block + lines[end:]) + "\n", encoding="utf-8")
    group = load_group(path)  # also checks `when` against the schedule parser
    assert [s.id for s in group.schedules] == ["weekly-tip"]


def test_the_knowledge_readme_is_not_an_answer_source(project):
    init(project)
    folder = project.parent / "knowledge" / "photo"
    assert (folder / "_README.md").is_file()
    assert knowledge_files(folder) == {}
    (folder / "gear.md").write_text("# 器材\n入门推荐半画幅相机。\n", encoding="utf-8")
    assert list(knowledge_files(folder)) == ["gear.md"]


def test_init_refuses_what_would_not_load(project):
    with pytest.raises(InitError, match="owner"):
        render(NewGroup(id="x", theme="t", owners=[]))
    with pytest.raises(InitError, match="language"):
        render(NewGroup(id="x", theme="t", owners=[("wxid_a", "")], language="fr"))
    result = runner.invoke(app, ["init", "--config", str(project), "--yes", "--id", "bad id!", "--theme", "t",
                                 "--owner", "wxid_a"])
    assert result.exit_code == 2 and "id" in result.output
    assert not list((project / "groups").iterdir())
    missing = runner.invoke(app, ["init", "--config", str(project), "--yes", "--id", "x"])
    assert missing.exit_code == 2 and "theme" in missing.output.lower()


def test_init_keeps_an_existing_group_file(project):
    assert init(project).exit_code == 0
    path = project / "groups" / "photo.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# my edit\n", encoding="utf-8")
    again = init(project)
    assert again.exit_code == 2 and "exists" in again.output
    assert path.read_text(encoding="utf-8").endswith("# my edit\n")


def test_init_asks_when_no_flags_are_given(project):
    answers = "club\nClub\nen\nStreet photography walks\n\nwxid_owner:Ann\n\nNo ads\n\n"
    result = runner.invoke(app, ["init", "--config", str(project)], input=answers)
    assert result.exit_code == 0, result.output
    group = load_group(project / "groups" / "club.yaml")
    assert (group.language, group.theme, group.topic, group.bot_name) == ("en", "Street photography walks",
                                                                         "Club", "Steward")
    assert [o.id for o in group.owners] == ["wxid_owner"] and [r.text for r in group.rules] == ["No ads"]


def test_check_says_what_to_fix(project):
    init(project)
    folder = project.parent / "knowledge" / "photo"
    findings = check(project, env={})
    whats = {(f.level, Path(f.where).name if "/" in f.where else f.where, f.what.split(":")[0]) for f in findings}
    assert ("warning", "photo", "no knowledge files") in whats
    assert any(f.where == "photo" and "no room bound" in f.what for f in findings)
    assert any(f.where == "WECHATY_PUPPET_SERVICE_ENDPOINT" for f in findings)
    assert not any(f.level == "error" for f in findings)

    (folder / "gear.md").write_text("# 器材\n入门推荐半画幅相机。\n", encoding="utf-8")
    (folder / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (folder / "notes.md").write_bytes(b"\x00\x01\x02\x03" * 200)
    findings = check(project, env={"WECHATY_PUPPET_SERVICE_ENDPOINT": "127.0.0.1:1"})
    errors = [f for f in findings if f.level == "error"]
    assert [Path(f.where).name for f in errors] == ["notes.md"] and "not text" in errors[0].what
    assert any(Path(f.where).name == "photo.png" and "not read" in f.what for f in findings)
    assert not any("no knowledge files" in f.what for f in findings)
    result = runner.invoke(app, ["check", "--config", str(project)])
    assert result.exit_code == 1 and "notes.md" in result.output


def test_check_reports_config_errors_with_exit_2(project):
    init(project)
    path = project / "groups" / "photo.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("trust_room_owner: false", "trust_room_ownr: false"),
                    encoding="utf-8")
    result = runner.invoke(app, ["check", "--config", str(project)])
    assert result.exit_code == 2
    assert "trust_room_ownr" in result.output and "unknown key" in result.output


def test_check_passes_the_shipped_demo(repo):
    findings = check(repo / "config", env={"WECHATY_PUPPET_SERVICE_ENDPOINT": "127.0.0.1:1"})
    assert [f for f in findings if f.level == "error"] == []
