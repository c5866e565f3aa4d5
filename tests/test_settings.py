from pathlib import Path

import pytest

from agent.events import Role
from agent.settings import ConfigError, load_group, load_settings


GROUP_BODY = "theme: t\nowners: [{id: wxid_o}]\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_loads(repo):
    s = load_settings(repo / "config")
    demo = s.groups["demo"]
    assert demo.rules and demo.owners and demo.theme
    assert s.llm.provider == "none"  # the embedded default needs no key


def test_unknown_key_names_file_and_key(tmp_path):
    path = write(tmp_path / "config" / "groups" / "g.yaml", "id: g\ntheme: t\nanswer:\n  unprompted: true\n  typo_key: 1\n")
    with pytest.raises(ConfigError) as err:
        load_group(path)
    assert str(path) in str(err.value) and "answer.typo_key" in str(err.value) and "unknown key" in str(err.value)


def test_wrong_type_in_settings_names_key(tmp_path):
    write(tmp_path / "config" / "settings.yaml", "retrieval:\n  top_k: many\n")
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "config")
    assert "settings.yaml" in str(err.value) and "retrieval.top_k" in str(err.value)


def test_bad_yaml_is_a_config_error(tmp_path):
    write(tmp_path / "config" / "settings.yaml", "kb: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(tmp_path / "config")


def test_duplicate_group_id_is_rejected(tmp_path):
    write(tmp_path / "config" / "groups" / "a.yaml", f"id: same\n{GROUP_BODY}")
    write(tmp_path / "config" / "groups" / "b.yaml", f"id: same\n{GROUP_BODY}")
    with pytest.raises(ConfigError, match="b.yaml: id.*a.yaml"):
        load_settings(tmp_path / "config")


def test_plain_string_rules_are_numbered_articles_and_roles_come_from_ids(tmp_path):
    path = write(tmp_path / "g.yaml", "id: g\ntheme: t\nrules: [不发广告, 友善交流]\n"
                 "owners: [{id: wxid_o, name: 群主}]\nadmins: [{id: wxid_a, name: 管理}]\n")
    group = load_group(path)
    assert [r.text for r in group.rules] == ["不发广告", "友善交流"]
    assert group.role_of("wxid_o") == Role.OWNER
    assert group.role_of("wxid_a") == Role.ADMIN
    assert group.role_of("群主") == Role.MEMBER  # a display name is never an identity


def test_paths_resolve_against_project_root(tmp_path):
    write(tmp_path / "config" / "settings.yaml", "data_dir: state\n")
    s = load_settings(tmp_path / "config")
    assert s.data_dir == tmp_path / "state"
    assert s.db_path == tmp_path / "state" / "steward.db"


def test_bad_schedule_names_file_key_and_schedule(tmp_path):
    path = write(tmp_path / "g.yaml", "id: g\ntheme: t\nschedules:\n  - {id: tip, when: 'weekly Mon 09:00'}\n"
                 "  - {id: bad, when: 'every blue moon'}\n")
    with pytest.raises(ConfigError) as err:
        load_group(path)
    assert "schedules.1.when" in str(err.value) and "bad" in str(err.value)


def test_duplicate_schedule_ids_are_rejected(tmp_path):
    path = write(tmp_path / "g.yaml", "id: g\ntheme: t\nschedules:\n  - {id: tip, when: 'daily 08:30'}\n"
                 "  - {id: tip, when: 'weekly Fri 21:00'}\n")
    with pytest.raises(ConfigError, match="schedules.1.id"):
        load_group(path)


@pytest.mark.parametrize("key, value", [("topic", "同一个群名"), ("room_id", "r-1")])
def test_two_group_files_claiming_one_room_name_both(tmp_path, key, value):
    write(tmp_path / "config" / "groups" / "a.yaml", f"id: a\n{key}: {value}\n{GROUP_BODY}")
    write(tmp_path / "config" / "groups" / "b.yaml", f"id: b\n{key}: {value}\n{GROUP_BODY}")
    with pytest.raises(ConfigError) as err:
        load_settings(tmp_path / "config")
    assert f"b.yaml: {key}:" in str(err.value) and "a.yaml" in str(err.value)


def test_distinct_topics_and_a_yml_file_load(tmp_path):
    write(tmp_path / "config" / "groups" / "a.yaml", f"id: a\ntopic: 甲\n{GROUP_BODY}")
    write(tmp_path / "config" / "groups" / "b.yml", f"id: b\ntopic: 乙\n{GROUP_BODY}")
    assert sorted(load_settings(tmp_path / "config").groups) == ["a", "b"]


def test_room_owner_is_not_trusted_unless_the_group_says_so(tmp_path):
    group = load_group(write(tmp_path / "g.yaml", f"id: g\n{GROUP_BODY}"))
    assert group.trust_room_owner is False
    trusting = load_group(write(tmp_path / "h.yaml", "id: h\ntheme: t\ntrust_room_owner: true\n"))
    assert trusting.trust_room_owner and not trusting.owners  # the room owner stands in for owners


def test_settings_saved_with_a_bom_load(tmp_path):
    path = tmp_path / "config" / "settings.yaml"
    path.parent.mkdir(parents=True)
    path.write_bytes("retrieval:\n  top_k: 7\n".encode("utf-8-sig"))
    assert load_settings(tmp_path / "config").retrieval.top_k == 7


# ---- every config error: one line naming file and key, exit 2, no traceback, from every command ----

def _settings_file(root: Path, data: bytes | str) -> None:
    path = root / "config" / "settings.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


def _group_file(root: Path, text: str, name: str = "g.yaml") -> None:
    write(root / "config" / "groups" / name, text)


BAD_CONFIGS = {
    "yaml syntax": (lambda r: _settings_file(r, "kb: [unclosed\n"), "settings.yaml: line 2"),
    "binary settings": (lambda r: _settings_file(r, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "settings.yaml: a binary file"),
    "gbk settings": (lambda r: _settings_file(r, "# 默认设置\ndata_dir: 状态\n".encode("gbk")), "settings.yaml: line 1: not UTF-8"),
    "missing env var": (lambda r: _settings_file(r, "llm:\n  provider: openai\n  model: m\n"
                                                  "  api_key_env: STEWARD_TEST_UNSET_KEY\n"),
                        "settings.yaml: llm.api_key_env: the environment variable STEWARD_TEST_UNSET_KEY"),
    "llm without model": (lambda r: _settings_file(r, "llm:\n  provider: openai\n  api_key_env: HOME\n"),
                          "settings.yaml: llm.model"),
    "data_dir is a file": (lambda r: (_settings_file(r, "data_dir: state\n"), (r / "state").write_text("x")),
                           "settings.yaml: data_dir:"),
    "store.path is a folder": (lambda r: (_settings_file(r, "store:\n  path: db\n"), (r / "db").mkdir()),
                               "settings.yaml: store.path:"),
    "unknown timezone": (lambda r: _group_file(r, f"id: g\ntimezone: Mars/Olympus\n{GROUP_BODY}"),
                         "g.yaml: timezone: Value error, unknown time zone 'Mars/Olympus'"),
    "no config folder": (lambda r: None, "config: no such config folder"),
    "no owners": (lambda r: _group_file(r, "id: g\ntheme: t\n"), "g.yaml: owners:"),
    "bad .yml group": (lambda r: _group_file(r, "id: g\ntheme: t\nowners: [{id: o}]\nlanguge: zh\n", "g.yml"),
                       "g.yml: languge: unknown key"),
    "duplicate topic": (lambda r: (_group_file(r, f"id: a\ntopic: 同名\n{GROUP_BODY}", "a.yaml"),
                                   _group_file(r, f"id: b\ntopic: 同名\n{GROUP_BODY}", "b.yaml")),
                        "b.yaml: topic:"),
}


@pytest.fixture
def cli():
    from typer.testing import CliRunner

    from agent.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def _one_config_line(result, expected: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert len(lines) == 1 and lines[0].startswith("Config error: ") and expected in lines[0], lines


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_config_error_is_one_line_and_exit_2(tmp_path, cli, monkeypatch, case):
    monkeypatch.delenv("STEWARD_TEST_UNSET_KEY", raising=False)
    make, expected = BAD_CONFIGS[case]
    make(tmp_path)
    _one_config_line(cli("kb", "stats", "--config", str(tmp_path / "config")), expected)


COMMANDS = [["kb", "sync"], ["kb", "stats"], ["kb", "search", "q", "--group", "g"], ["demo"], ["chat"], ["run"],
            ["sim"], ["rooms"], ["cases"], ["stats"], ["report", "--group", "g", "--out", "{folder}"], ["rules", "test", "{folder}"],
            ["theme", "test", "{folder}"], ["eval", "{folder}"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_command_reports_a_config_error_the_same_way(tmp_path, cli, command):
    BAD_CONFIGS["unknown timezone"][0](tmp_path)
    args = [a.replace("{folder}", str(tmp_path)) for a in command]
    _one_config_line(cli(*args, "--config", str(tmp_path / "config")), "g.yaml: timezone:")
